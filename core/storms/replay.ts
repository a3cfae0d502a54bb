import { inhibitingSource, type WhenSourceResolves } from './inhibit';

/**
 * Replay of inhibition (R-STORM-1 with the replay diff, issue 8): which of a period's stored alerts
 * a ruleset's inhibit rules would have muted, replayed in the order the alerts occurred. Pure: the
 * caller matched each alert against the rules (sources, targets and their equal keys).
 *
 * The model is the worker's: an alert key opens a ticket when it fires without one (unless a
 * firing source mutes it), its resolve closes it; a source's resolution releases its still-firing
 * targets (they open their tickets then, so they were not prevented, only delayed) unless the rule
 * says `stay`. Group rules do not prevent tickets (children keep theirs) and are not replayed here.
 */

export interface ReplayStormEvent {
  alertId: string;
  dedupKey: string;
  state: 'firing' | 'resolved';
  at: Date;
  /** Inhibit rules whose source side the alert matches. */
  sources: ReadonlyArray<{ rule: string; equalKey: string; matchesTarget: boolean }>;
  /** Inhibit rules whose target side the alert matches. */
  targets: ReadonlyArray<{ rule: string; equalKey: string; matchesSource: boolean }>;
}

export interface InhibitionReplay {
  /** Firing alerts that would have been attached to a source instead of opening a ticket. */
  mutedAlertIds: string[];
  /** Tickets that would never have opened: muted episodes that ended (or the period ended) without release. */
  ticketsPrevented: number;
}

export function replayInhibition(events: readonly ReplayStormEvent[], release: Readonly<Record<string, WhenSourceResolves>>): InhibitionReplay {
  const ordered = [...events].sort((a, b) => a.at.getTime() - b.at.getTime() || Number(BigInt(a.alertId) - BigInt(b.alertId)));
  /** Keys with an open ticket (the value: its synthetic ticket number, creation order). */
  const open = new Map<string, number>();
  /** Muted keys → the source key they are attached to, and the rule. */
  const attached = new Map<string, { sourceKey: string; rule: string }>();
  /** (rule, equal key) → firing source keys. */
  const sources = new Map<string, Map<string, { ticket: number; matchesTarget: boolean }>>();
  const registered = new Map<string, string[]>();
  const muted: string[] = [];
  let prevented = 0;
  let nextTicket = 1;
  const pair = (rule: string, key: string) => `${rule}\u0000${key}`;

  for (const e of ordered) {
    if (e.state === 'firing') {
      if (open.has(e.dedupKey) || attached.has(e.dedupKey)) continue;
      const candidates = e.targets.flatMap((t) =>
        [...(sources.get(pair(t.rule, t.equalKey)) ?? new Map<string, { ticket: number; matchesTarget: boolean }>()).entries()].map(([dedupKey, s]) => ({
          ticketId: String(s.ticket),
          rule: t.rule,
          dedupKey,
          matchesTarget: s.matchesTarget,
        })),
      );
      let by: { ticketId: string; rule: string; dedupKey: string } | null = null;
      for (const t of e.targets) {
        const s = inhibitingSource({ rule: t.rule, dedupKey: e.dedupKey, matchesSource: t.matchesSource }, candidates);
        if (s && (!by || BigInt(s.ticketId) < BigInt(by.ticketId))) by = s;
      }
      if (by) {
        attached.set(e.dedupKey, { sourceKey: by.dedupKey, rule: by.rule });
        muted.push(e.alertId);
        continue;
      }
      const ticket = nextTicket++;
      open.set(e.dedupKey, ticket);
      const keys: string[] = [];
      for (const s of e.sources) {
        const k = pair(s.rule, s.equalKey);
        const m = sources.get(k) ?? new Map<string, { ticket: number; matchesTarget: boolean }>();
        m.set(e.dedupKey, { ticket, matchesTarget: s.matchesTarget });
        sources.set(k, m);
        keys.push(k);
      }
      registered.set(e.dedupKey, keys);
      continue;
    }
    // A resolve.
    const muting = attached.get(e.dedupKey);
    if (muting) {
      attached.delete(e.dedupKey);
      prevented += 1;
      continue;
    }
    if (!open.delete(e.dedupKey)) continue;
    for (const k of registered.get(e.dedupKey) ?? []) sources.get(k)?.delete(e.dedupKey);
    registered.delete(e.dedupKey);
    for (const [target, a] of [...attached.entries()]) {
      if (a.sourceKey !== e.dedupKey || (release[a.rule] ?? 'open') === 'stay') continue;
      attached.delete(target);
      open.set(target, nextTicket++);
    }
  }
  // Still muted at the end of the period: no ticket opened for them in it.
  prevented += attached.size;
  return { mutedAlertIds: muted, ticketsPrevented: prevented };
}
