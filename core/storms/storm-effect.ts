import type { TicketEffect } from '../tickets/receipt-effect';
import { inhibitingSource, type InhibitSource, type InhibitTarget } from './inhibit';

/**
 * What storms change in a receipt's effect (R-STORM-1). The ticket state machine
 * (core/tickets/receipt-effect.ts) decides first, as it always did; only two of its answers are
 * looked at again:
 * - `create` (a firing that would open a ticket): the alert is already attached to a source as a
 *   related alert → counted there; else a firing source inhibits it → attached to the source's
 *   ticket; else it opens its ticket (and a group rule may make that ticket a child, group.ts);
 * - `nothing-to-resolve` (a resolve without an open ticket): the alert's related attachment, if
 *   it is still firing, is resolved.
 * Everything else (repeats on an open ticket, reopen, suppress, maintenance, hold-off) is left
 * alone: storms never hide an alert that already has a ticket.
 */

export interface ActiveRelated {
  id: string;
  ticketId: string;
}

export interface StormInput {
  base: TicketEffect;
  /** The alert's firing related attachment, if any. */
  related: ActiveRelated | null;
  /** One entry per inhibit rule whose target side the alert matches. */
  targets: readonly InhibitTarget[];
  /** The open sources of those rules with the alert's equal values. */
  sources: readonly InhibitSource[];
}

export type StormEffect =
  | { kind: 'count-related'; relatedId: string; ticketId: string }
  | { kind: 'inhibit'; source: InhibitSource }
  | { kind: 'resolve-related'; relatedId: string; ticketId: string }
  | { kind: 'none' };

export function stormEffect(input: StormInput): StormEffect {
  const { base, related } = input;
  if (base.kind === 'nothing-to-resolve') {
    return related ? { kind: 'resolve-related', relatedId: related.id, ticketId: related.ticketId } : { kind: 'none' };
  }
  if (base.kind !== 'create') return { kind: 'none' };
  if (related) return { kind: 'count-related', relatedId: related.id, ticketId: related.ticketId };
  let best: InhibitSource | null = null;
  for (const target of input.targets) {
    const s = inhibitingSource(target, input.sources);
    if (s && (!best || BigInt(s.ticketId) < BigInt(best.ticketId))) best = s;
  }
  return best ? { kind: 'inhibit', source: best } : { kind: 'none' };
}
