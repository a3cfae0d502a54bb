import type { z } from 'zod';
import type { TimeEntryView } from '../../../db/queries/tickets';
import { slaStateOf, type SlaClock } from '../../../core/slas/sla-state';
import type { TicketRow, TicketSlaBreachRow } from '../../../db/tables';
import { moneyOut, toInstant } from '../../openapi/schemas';
import type { ticketSchema, timeEntrySchema } from './schemas';

/** Rows → JSON of the tickets API (camelCase, ids as strings, instants ISO 8601). */
/** The SLA clock of a ticket (core/slas/sla-state.ts). */
const slaClockOf = (t: TicketRow, breaches: readonly TicketSlaBreachRow[]): SlaClock => ({
  createdAt: t.created_at,
  responseDueAt: t.first_response_due_at,
  resolutionDueAt: t.resolution_due_at,
  firstResponseAt: t.first_response_at,
  resolvedAt: t.resolved_at ?? t.closed_at,
  pausedAt: t.sla_paused_at,
  breaches: breaches.map((b) => ({ target: b.target, at: b.due_at })),
});

/** A ticket with its recorded SLA breaches; its SLA state is judged at `now` (R-TKT-2). */
export const ticketOut = (t: TicketRow, breaches: readonly TicketSlaBreachRow[], now: Date): z.infer<typeof ticketSchema> => ({
  id: String(t.id),
  companyId: t.company_id === null ? null : String(t.company_id),
  deviceId: t.device_id === null ? null : String(t.device_id),
  contractId: t.contract_id === null ? null : String(t.contract_id),
  serviceId: t.service_id === null ? null : String(t.service_id),
  slaId: t.sla_id === null ? null : String(t.sla_id),
  source: t.source,
  dedupKey: t.dedup_key,
  priority: t.priority,
  status: t.status,
  queue: t.queue,
  title: t.title,
  description: t.description,
  needsTriage: t.needs_triage,
  occurrences: t.occurrences,
  flaps: t.flaps,
  firstOccurredAt: t.first_occurred_at.toISOString(),
  lastOccurredAt: t.last_occurred_at.toISOString(),
  firstResponseDueAt: toInstant(t.first_response_due_at),
  resolutionPlanDueAt: toInstant(t.resolution_plan_due_at),
  resolutionDueAt: toInstant(t.resolution_due_at),
  slaPausedAt: toInstant(t.sla_paused_at),
  resolvedAt: toInstant(t.resolved_at),
  resolvedAutomatically: t.resolved_automatically,
  closedAt: toInstant(t.closed_at),
  createdAt: t.created_at.toISOString(),
  updatedAt: t.updated_at.toISOString(),
  rulesetVersion: t.ruleset_version,
  decision: t.decision,
  assignee: t.assignee,
  triage: t.needs_triage,
  sla: {
    state: slaStateOf(slaClockOf(t, breaches), now),
    responseDueAt: toInstant(t.first_response_due_at),
    resolutionDueAt: toInstant(t.resolution_due_at),
    firstResponseAt: toInstant(t.first_response_at),
    resolvedAt: toInstant(t.resolved_at ?? t.closed_at),
    breaches: breaches.map((b) => ({ target: b.target, at: b.due_at.toISOString() })),
  },
  parentTicketId: t.parent_ticket_id === null || t.parent_ticket_id === undefined ? null : String(t.parent_ticket_id),
});

/** Breach rows by ticket id. */
export function groupBreaches(rows: readonly TicketSlaBreachRow[]): Map<string, TicketSlaBreachRow[]> {
  const m = new Map<string, TicketSlaBreachRow[]>();
  for (const b of rows) {
    const k = String(b.ticket_id);
    const list = m.get(k);
    if (list) list.push(b);
    else m.set(k, [b]);
  }
  return m;
}

export const timeEntryOut = (e: TimeEntryView): z.infer<typeof timeEntrySchema> => ({
  id: String(e.id),
  ticketId: e.ticket_id === null ? null : String(e.ticket_id),
  contractId: e.contract_id === null ? null : String(e.contract_id),
  contractName: e.contract_name,
  serviceId: e.service_id === null ? null : String(e.service_id),
  serviceName: e.service_name,
  workDate: e.work_date,
  hours: Number(e.hours),
  costRate: moneyOut(e.cost_rate),
  description: e.description,
  createdAt: e.created_at.toISOString(),
});
