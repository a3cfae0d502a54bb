/**
 * Inhibition (R-STORM-1), Alertmanager's semantics: while an alert matching a rule's *source*
 * side is firing, an alert matching its *target* side with the same values of the rule's `equal`
 * fields is muted. Here "muted" means: it opens no ticket of its own and is attached to the
 * source's ticket as a related alert. Pure: the caller finds the open source tickets of each
 * (rule, equal key) and asks which one, if any, inhibits the alert.
 */

/** An open ticket whose alert matched a rule's source side. */
export interface InhibitSource {
  ticketId: string;
  rule: string;
  /** The source ticket's dedup key: an alert never inhibits itself. */
  dedupKey: string;
  /** The source's alert matched the rule's target side as well. */
  matchesTarget: boolean;
}

/** The alert asking, for one rule whose target side it matches. */
export interface InhibitTarget {
  rule: string;
  dedupKey: string;
  /** The alert matches the rule's source side as well. */
  matchesSource: boolean;
}

/**
 * The source that inhibits the target under its rule, or null. Alertmanager: "an alert does not
 * inhibit itself", and an alert that matches both sides of a rule cannot be inhibited by an alert
 * that also matches both sides (else two such alerts would mute each other and nobody would hear
 * of either). Among several sources the oldest ticket wins (lowest id), so every target of a
 * storm lands on the same ticket.
 */
export function inhibitingSource(target: InhibitTarget, sources: readonly InhibitSource[]): InhibitSource | null {
  let best: InhibitSource | null = null;
  for (const s of sources) {
    if (s.rule !== target.rule) continue;
    if (s.dedupKey === target.dedupKey) continue;
    if (target.matchesSource && s.matchesTarget) continue;
    if (!best || BigInt(s.ticketId) < BigInt(best.ticketId)) best = s;
  }
  return best;
}

/** What happens to a related alert still firing when its source's ticket resolves. */
export type WhenSourceResolves = 'open' | 'stay';

export type ReleaseEffect = { kind: 'open-ticket' } | { kind: 'stay-attached' };

/** `open` (the default): it opens its own ticket then; `stay`: it stays attached to the resolved source's ticket. */
export function releaseEffect(rule: WhenSourceResolves): ReleaseEffect {
  return rule === 'stay' ? { kind: 'stay-attached' } : { kind: 'open-ticket' };
}
