import type { Priority } from '../slas/due-dates';
import type { TicketStatus } from '../tickets/ticket-status';

/**
 * The pure decisions of PSA delivery (issue 16): which connections a new ticket goes to, the
 * order of a backlog, what one delivery run sends, how repeats are worded, and the circuit
 * breaker. No I/O; the clock is a parameter.
 */

/** Backlog order (and BullMQ job priority): critical first. */
export const PRIORITY_RANK: Record<Priority, number> = { critical: 1, high: 2, medium: 3, low: 4 };

export interface PlanConnection {
  id: string;
  name: string;
  /** The connector cannot create a ticket without the company's PSA id. */
  needsCompanyRef: boolean;
}

export interface PlanTicket {
  ticketId: string;
  companyId: string | null;
  companyName: string | null;
  priority: Priority;
  /** A rule's `deliver` (connection names); undefined = every enabled connection. */
  deliver: readonly string[] | undefined;
}

export interface PlannedDelivery {
  ticketId: string;
  connectionId: string;
  rank: number;
  state: 'pending' | 'skipped';
  lastError: string | null;
}

/**
 * R-PSA-1: a new ticket goes to each enabled connection (or those its rule names); a connection
 * that needs the company's PSA id and has none gets a `skipped` delivery that says why — visible
 * on the ticket, retryable once the ref is set, never silently dropped.
 */
export function deliveryPlan(
  tickets: readonly PlanTicket[],
  enabled: readonly PlanConnection[],
  companyRefs: ReadonlyMap<string, Readonly<Record<string, string>>>,
): PlannedDelivery[] {
  const out: PlannedDelivery[] = [];
  for (const t of tickets) {
    const targets = t.deliver === undefined ? enabled : enabled.filter((c) => t.deliver!.includes(c.name));
    for (const c of targets) {
      const gap = companyRefGap(t, c, t.companyId === null ? undefined : companyRefs.get(t.companyId));
      out.push({ ticketId: t.ticketId, connectionId: c.id, rank: PRIORITY_RANK[t.priority], state: gap === null ? 'pending' : 'skipped', lastError: gap });
    }
  }
  return out;
}

/**
 * Why a ticket cannot be created in a connection's PSA yet (its company, or the company's
 * `psaRefs[<connection>]`, is missing), or null when it can. The reason a `skipped` delivery
 * shows — at the ticket's creation and again at each retry while the gap remains.
 */
export function companyRefGap(
  t: { companyId: string | null; companyName: string | null },
  c: { name: string; needsCompanyRef: boolean },
  companyRefs: Readonly<Record<string, string>> | undefined,
): string | null {
  if (!c.needsCompanyRef) return null;
  if (t.companyId === null) return `not sent to ${c.name}: the ticket has no company (triage it, then retry the delivery)`;
  const ref = companyRefs?.[c.name];
  if (ref !== undefined && ref !== '') return null;
  return `not sent to ${c.name}: company ${t.companyName ?? t.companyId} has no psaRefs.${c.name} (set it, then retry the delivery)`;
}

/** What a delivery row still owes the PSA, as the worker read it. */
export interface DeliveryState {
  externalId: string | null;
  attempts: number;
  pendingOccurrences: number;
  occurrencesSince: Date | null;
  pendingNotes: ReadonlyArray<{ title: string; body: string }>;
  changeSeq: bigint;
  sentSeq: bigint;
}

export interface RunPlan {
  /** No PSA ticket known yet: create it — after a lookup by our id when an earlier attempt may have created it. */
  create: null | { lookupFirst: boolean };
  /** One note folding every pending note and the repeats (few calls in a storm). */
  note: { title: string; body: string } | null;
  /** The ticket's state changed since the PSA last saw it: close (resolved/closed) or update. */
  state: null | 'close' | 'update';
}

/**
 * One run of a delivery. A create already carries the ticket's current state, so no update
 * follows it; notes pending at create time still follow as one note (repeats, resolution).
 */
export function runPlan(d: DeliveryState, ticketStatus: TicketStatus): RunPlan {
  const closed = ticketStatus === 'resolved' || ticketStatus === 'closed';
  const create = d.externalId === null ? { lookupFirst: d.attempts > 1 } : null;
  const lines: string[] = [];
  for (const n of d.pendingNotes) lines.push(n.title ? `${n.title}: ${n.body}` : n.body);
  if (d.pendingOccurrences > 0) lines.push(occurrencesText(d.pendingOccurrences, d.occurrencesSince));
  const note = lines.length === 0 ? null : { title: d.pendingNotes.length === 0 ? 'Repeats' : (d.pendingNotes[0]?.title ?? 'Update'), body: lines.join('\n\n') };
  let state: RunPlan['state'] = null;
  if (d.changeSeq > d.sentSeq) state = closed ? 'close' : 'update';
  // A ticket created already closed (resolved before its first delivery) is closed after the create.
  if (create && closed) state = 'close';
  else if (create) state = null;
  return { create, note, state };
}

/** "+9,874 occurrences since 2026-12-06 10:02 UTC" (one repeat: "+1 occurrence since …"). */
export function occurrencesText(count: number, since: Date | null): string {
  const n = count.toLocaleString('en-US');
  const word = count === 1 ? 'occurrence' : 'occurrences';
  if (!since) return `+${n} ${word}`;
  const iso = since.toISOString();
  return `+${n} ${word} since ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * A connection's circuit breaker: `threshold` consecutive transient failures open it for a
 * cooldown (doubling each time it re-opens, up to 16×); once the cooldown passed one run is let
 * through (half-open): success closes it, failure opens it again.
 */
export interface BreakerState {
  failures: number;
  openUntil: number | null;
  /** Consecutive openings (sets the cooldown). */
  openings: number;
}

export const closedBreaker = (): BreakerState => ({ failures: 0, openUntil: null, openings: 0 });

export function breakerOnFailure(s: BreakerState, nowMs: number, cfg: { threshold: number; cooldownMs: number }): BreakerState {
  const failures = s.failures + 1;
  const halfOpen = s.openUntil !== null && nowMs >= s.openUntil;
  if (failures >= cfg.threshold || halfOpen) {
    const openings = s.openings + 1;
    return { failures, openings, openUntil: nowMs + cfg.cooldownMs * Math.min(16, 2 ** (openings - 1)) };
  }
  return { ...s, failures };
}

export const breakerOnSuccess = (): BreakerState => closedBreaker();

/** Milliseconds the connection must still wait, or 0 when a call may go out. */
export function breakerWaitMs(s: BreakerState, nowMs: number): number {
  return s.openUntil !== null && nowMs < s.openUntil ? s.openUntil - nowMs : 0;
}

export const breakerLabel = (s: BreakerState, nowMs: number): 'closed' | 'open' | 'half_open' =>
  s.openUntil === null ? 'closed' : nowMs < s.openUntil ? 'open' : 'half_open';
