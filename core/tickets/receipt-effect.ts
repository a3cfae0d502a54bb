import type { AlertState } from '../alerts/normalized-alert';

/**
 * The receipt → ticket state machine (R-ALR-4): what one received alert does to the tickets of its
 * dedup key. Pure: the caller loads the key's tickets, decides the alert with the rules, and applies
 * the effect this returns with the set-based statements of db/queries/alert-batch.ts.
 *
 * Two facts cost a query, and one of them writes (a maintenance window records that it silenced the
 * receipt), so they are asked only where the order below reaches them: when an answer is needed and
 * not given, the result is an `ask` naming the question; the caller answers and calls again with
 * the answer. The dry run (app/rules) walks the same steps, so it cannot disagree with the worker.
 *
 * Episodes (issue 15 item 7). A firing episode of a dedup key runs from a firing to the resolved event
 * that ends it, both dated by the sender (`occurredAt`). Deliveries are retried late and arrive out of
 * order, so arrival order alone cannot tell a re-fire from a duplicate: a re-fire is a firing NEWER
 * than the key's last resolution (the newest `occurredAt` of a resolved event applied to the key,
 * remembered also when it found no ticket) and newer than the last firing the key's closed ticket
 * counted. Anything else is a stale delivery of an episode that is already over.
 *
 * The order, and why:
 * 1. A resolved event always passes (suppression and maintenance silence firings, never their end):
 *    it resolves the open ticket, or annotates it when the ticket's rule (or today's) says so — unless
 *    it is older than the firing that opened the ticket: then it ended an earlier episode (a late
 *    retry) and leaves the newer ticket alone.
 * 2. A firing not newer than the key's last resolution belongs to an episode that is over: nothing.
 * 3. A firing while a ticket is open is a repeat: counted on it, whatever the rules say now.
 * 4. A firing not newer than the last firing counted on the key's closed ticket is a late retry of
 *    that ticket's episode (closed by hand, say): nothing.
 * 5. A re-fire within the reopen window of an AUTOMATIC resolution reopens that ticket (flapping);
 *    the window the ticket was created with wins over today's rule.
 * 6. The rules' suppress, then a maintenance window, silence a firing that would open a ticket.
 * 7. Hold-off: a firing waits until `receivedAt + holdOffSeconds` (when the process can bring it
 *    back); afterwards, a resolve received since it arrived means the blip cleared: no ticket.
 * 8. Otherwise a new ticket.
 */

export interface ReceiptView {
  state: AlertState;
  /** When the receipt arrived (hold-off counts from here). */
  receivedAt: Date;
  /** When the sender says the event happened (episodes are told apart by it). */
  occurredAt: Date;
}

/** The key's open ticket (any status but resolved or closed). */
export interface OpenTicketView {
  id: string;
  /** What a resolve does to it, fixed when it was created. */
  resolveAction: 'resolve' | 'annotate';
  /** The `occurredAt` of the firing that opened (or reopened) it: where its episode starts. */
  firstOccurredAt: Date;
}

/** The key's latest resolved or closed ticket, when none is open. */
export interface ClosedTicketView {
  id: string;
  status: string;
  resolvedAutomatically: boolean;
  resolvedAt: Date | null;
  reopenWindowMinutes: number | null;
  /** The newest firing counted on it. */
  lastOccurredAt: Date;
}

/** What of the rules' decision the state machine reads (rules/engine's Decision has these fields). */
export interface RuleVerdict {
  outcome: 'ticket' | 'suppress';
  resolveAction?: 'resolve' | 'annotate';
  reopenWindowMinutes?: number;
  holdOffSeconds?: number;
}

export interface TicketStateInput {
  receipt: ReceiptView;
  open: OpenTicketView | null;
  last: ClosedTicketView | null;
  decision: RuleVerdict;
  /** The newest `occurredAt` of a resolved event applied to the key (with or without a ticket), null for none. */
  resolvedThrough: Date | null;
  now: Date;
  /** The process can bring a held receipt back later (a delayed job); without, hold-off only filters cleared blips. */
  canHold: boolean;
  /** The maintenance window silencing this firing (its name), null for none; undefined: not asked yet. */
  maintenanceWindow?: string | null;
  /** A resolve of the key was received since this receipt arrived; undefined: not asked yet. */
  resolvedSinceReceipt?: boolean;
}

export type TicketEffect =
  /** A resolve with no open ticket: nothing to do. */
  | { kind: 'nothing-to-resolve' }
  | { kind: 'resolve'; ticketId: string }
  | { kind: 'annotate'; ticketId: string }
  | { kind: 'count'; ticketId: string }
  /**
   * A delivery of an episode that is over: a firing not newer than the key's last resolution (or than
   * its closed ticket's last firing), or a resolved event older than the open ticket's episode.
   * Nothing changes; `ticketId` names the ticket it was told apart from, if any.
   */
  | { kind: 'stale'; state: 'firing' | 'resolved'; ticketId: string | null }
  | { kind: 'reopen'; ticketId: string; windowMinutes: number }
  | { kind: 'suppress'; by: 'rules' }
  | { kind: 'suppress'; by: 'maintenance'; window: string }
  | { kind: 'hold'; until: Date }
  /** Hold-off over and the blip cleared itself meanwhile: the receipt is released without a ticket. */
  | { kind: 'release' }
  | { kind: 'create' };

export type TicketQuestion = { kind: 'ask'; question: 'maintenanceWindow' | 'resolvedSinceReceipt' };

export function ticketEffect(input: TicketStateInput): TicketEffect | TicketQuestion {
  const { receipt, open, last, decision, now, resolvedThrough } = input;
  const at = receipt.occurredAt.getTime();

  if (receipt.state === 'resolved') {
    if (!open) return { kind: 'nothing-to-resolve' };
    if (at < open.firstOccurredAt.getTime()) return { kind: 'stale', state: 'resolved', ticketId: open.id };
    if (open.resolveAction === 'annotate' || decision.resolveAction === 'annotate') return { kind: 'annotate', ticketId: open.id };
    return { kind: 'resolve', ticketId: open.id };
  }

  if (resolvedThrough && at <= resolvedThrough.getTime()) {
    // A firing that waited out its hold-off and was resolved meanwhile: the blip cleared (step 7's name for it).
    if (!open && decision.outcome === 'ticket' && decision.holdOffSeconds && decision.holdOffSeconds > 0) return { kind: 'release' };
    return { kind: 'stale', state: 'firing', ticketId: open?.id ?? last?.id ?? null };
  }
  if (open) return { kind: 'count', ticketId: open.id };
  if (last && at <= last.lastOccurredAt.getTime()) return { kind: 'stale', state: 'firing', ticketId: last.id };

  // A window of 0 means no window (falsy on purpose, as stored rules may say 0).
  const window = last?.reopenWindowMinutes ?? decision.reopenWindowMinutes ?? null;
  if (
    last &&
    window &&
    last.status === 'resolved' &&
    last.resolvedAutomatically &&
    last.resolvedAt &&
    now.getTime() - last.resolvedAt.getTime() <= window * 60_000
  ) {
    return { kind: 'reopen', ticketId: last.id, windowMinutes: window };
  }

  if (decision.outcome === 'suppress') return { kind: 'suppress', by: 'rules' };
  if (input.maintenanceWindow === undefined) return { kind: 'ask', question: 'maintenanceWindow' };
  if (input.maintenanceWindow !== null) return { kind: 'suppress', by: 'maintenance', window: input.maintenanceWindow };

  if (decision.holdOffSeconds && decision.holdOffSeconds > 0) {
    const until = new Date(receipt.receivedAt.getTime() + decision.holdOffSeconds * 1000);
    if (now < until && input.canHold) return { kind: 'hold', until };
    if (input.resolvedSinceReceipt === undefined) return { kind: 'ask', question: 'resolvedSinceReceipt' };
    if (input.resolvedSinceReceipt) return { kind: 'release' };
  }

  return { kind: 'create' };
}

/** What applying a receipt came to, as stored on the receipt and the alert (`outcome`) and counted in the metrics. */
export type ReceiptOutcome =
  | 'ticket_created'
  | 'occurrence'
  | 'reopened'
  | 'resolved'
  | 'annotated'
  | 'resolve_without_ticket'
  | 'suppressed'
  | 'maintenance'
  | 'held'
  | 'cleared_during_hold_off'
  /** A firing of an episode that is over (issue 15 item 7): no ticket. */
  | 'stale_firing'
  /** A resolved event older than the open ticket's episode (a late retry): the ticket stays open. */
  | 'stale_resolve'
  | 'already_processed'
  | 'missing'
  /** R-STORM-1: muted by a firing source, attached to its ticket as a related alert (or counted there). */
  | 'inhibited'
  /** R-STORM-1: a muted alert resolved while its source still fires. */
  | 'related_resolved';

/**
 * The outcome an effect is recorded as. `create` may still end as an `occurrence` when a
 * concurrent worker opened the key's ticket first (the database's unique index decides).
 */
export function outcomeOf(effect: TicketEffect): ReceiptOutcome {
  switch (effect.kind) {
    case 'nothing-to-resolve':
      return 'resolve_without_ticket';
    case 'resolve':
      return 'resolved';
    case 'annotate':
      return 'annotated';
    case 'count':
      return 'occurrence';
    case 'reopen':
      return 'reopened';
    case 'suppress':
      return effect.by === 'rules' ? 'suppressed' : 'maintenance';
    case 'hold':
      return 'held';
    case 'release':
      return 'cleared_during_hold_off';
    case 'create':
      return 'ticket_created';
    case 'stale':
      return effect.state === 'firing' ? 'stale_firing' : 'stale_resolve';
  }
}
