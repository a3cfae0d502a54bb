/**
 * R-TKT-1: the decisions of triaging and working a ticket by hand — which changes need a reason,
 * what a new contract does to the ticket's SLA, due dates and triage mark, and which day the
 * ticket's contract must be effective on. Pure: the use case (app/tickets/work-ticket.ts) loads the
 * rows, asks here, and writes.
 */
import { alertDate, alertDateZone } from '../contracts/links';
import { HubError } from '../errors';
import { computeDueDates, shiftDueDatesForPause, type OpenDueDates, type Priority, type SlaDefinition } from '../slas/due-dates';

/** The fields an operator may set on a ticket (besides status and notes). */
export interface TicketAssignment {
  companyId: string | null;
  deviceId: string | null;
  contractId: string | null;
  serviceId: string | null;
  priority: Priority;
  assignee: string | null;
  queue: string | null;
}

export type AssignmentField = keyof TicketAssignment;

/** Changing any of these changes what the ticket is billed on or how fast it is owed: a reason is required. */
export const FIELDS_NEEDING_REASON: readonly AssignmentField[] = ['companyId', 'deviceId', 'contractId', 'serviceId', 'priority'];

/**
 * The assignment after a request: fields the request names replace the ticket's; fields it leaves
 * out are kept, except that what belongs to another company cannot stay — a new company without a
 * device/contract/service in the request clears them, and a new contract without a service keeps the
 * old service only when `serviceOnNewContract` says the new contract has it.
 */
export function nextAssignment(
  current: TicketAssignment,
  requested: Partial<TicketAssignment>,
  serviceOnNewContract: boolean,
): TicketAssignment {
  const next: TicketAssignment = { ...current };
  for (const k of Object.keys(requested) as AssignmentField[]) {
    const v = requested[k];
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  }
  const companyChanged = next.companyId !== current.companyId;
  if (companyChanged) {
    if (requested.deviceId === undefined) next.deviceId = null;
    if (requested.contractId === undefined) next.contractId = null;
    if (requested.serviceId === undefined) next.serviceId = null;
  }
  if (next.contractId !== current.contractId && requested.serviceId === undefined && !serviceOnNewContract) next.serviceId = null;
  if (next.contractId === null && requested.serviceId === undefined) next.serviceId = null;
  return next;
}

/** The fields whose value differs, in a stable order. */
export function changedFields(before: TicketAssignment, after: TicketAssignment): AssignmentField[] {
  return (Object.keys(before) as AssignmentField[]).filter((k) => before[k] !== after[k]);
}

/** 422 when a change of company, device, contract, service or priority comes without a reason. */
export function assertReasonGiven(changed: readonly AssignmentField[], reason: string | undefined): void {
  const needing = changed.filter((f) => FIELDS_NEEDING_REASON.includes(f));
  if (needing.length > 0 && !(reason && reason.trim())) {
    throw new HubError('UNPROCESSABLE', `reason: required when changing ${needing.join(', ')}`, [
      { field: 'reason', message: `required when changing ${needing.join(', ')}` },
    ]);
  }
}

/**
 * The day a ticket's contract must be effective on: the date of its first occurrence counted as
 * app/alerts/build-facts.ts counts an alert's date (issue 15 item 5) — in the company's zone, else
 * in the zone of the SLA of the contract (the one being assigned), else in the fallback zone
 * (HUB_RENEWAL_TIMEZONE, UTC by default). 00:30 Berlin time on a renewal's start date is the
 * renewal's day for a company in Berlin, not the day before.
 */
export function ticketDateOf(firstOccurredAt: Date, zones: { company?: string | null | undefined; sla?: string | null | undefined; fallback?: string | undefined } = {}): string {
  return alertDate(firstOccurredAt, alertDateZone({ company: zones.company, sla: zones.sla, fallback: zones.fallback ?? 'UTC' }));
}

/** R-LINK-4: a ticket without a contract waits for triage; one that gets a contract leaves it. */
export function needsTriageAfter(contractId: string | null, before: { needsTriage: boolean; contractId: string | null }): boolean {
  if (contractId === null) return true;
  if (contractId !== before.contractId) return false;
  return before.needsTriage;
}

/**
 * The due dates a ticket would have had under `sla` and `priority` from its creation on, with
 * every finished SLA pause (oldest first) moving the open dates later as it did then
 * (`shiftDueDatesForPause`). A pause still open moves them when it ends, as for any ticket. No SLA
 * (or no target for the priority): no due dates.
 */
export function recomputeDueDates(
  sla: SlaDefinition | undefined,
  priority: Priority,
  createdAt: Date,
  pauses: ReadonlyArray<{ pausedAt: Date; resumedAt: Date | null }>,
): OpenDueDates {
  const none: OpenDueDates = { firstResponseDueAt: null, resolutionPlanDueAt: null, resolutionDueAt: null };
  if (!sla) return none;
  let due: OpenDueDates | null = computeDueDates(sla, priority, createdAt);
  if (!due) return none;
  const finished = pauses
    .filter((p): p is { pausedAt: Date; resumedAt: Date } => p.resumedAt !== null)
    .sort((a, b) => a.pausedAt.getTime() - b.pausedAt.getTime());
  for (const p of finished) due = shiftDueDatesForPause(sla.calendar, due, p.pausedAt, p.resumedAt);
  return due;
}
