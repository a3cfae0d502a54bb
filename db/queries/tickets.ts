import type { Knex } from 'knex';
import type { IsoDate } from '../../core/dates';
import { HubError, notFound } from '../../core/errors';
import { businessMinutesBetween } from '../../core/slas/business-calendar';
import { shiftDueDatesForPause } from '../../core/slas/due-dates';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page, type PageRequest } from '../paging';
import { withPgErrors } from '../pg-errors';
import { writeAudit } from './audit';
import { loadSlaDefinition } from './sla-definitions';
import { OPEN_TICKET_STATUSES, type AlertReceiptRow, type AlertRow, type Priority, type TicketNoteRow, type TicketRow, type TicketSlaPauseRow, type TicketStatus, type TimeEntryRow } from '../tables';

/**
 * The operator's side of tickets (SPEC §8 `GET /tickets`, `GET /tickets/:id`): reading them,
 * status changes with SLA pauses, notes, time entries (R-LINK-6), and the stored alerts that
 * made them. Company scope: a scoped token sees its companies' tickets only; a ticket without a
 * company (awaiting triage) is visible to unscoped tokens only.
 */
export type { CompanyScope };

const inScope = whereInScope;

export interface TicketFilter extends PageRequest {
  deviceId?: string | undefined;
  companyId?: string | undefined;
  contractId?: string | undefined;
  status?: readonly TicketStatus[] | undefined;
  priority?: Priority | undefined;
  needsTriage?: boolean | undefined;
  /** Words in the title or description (case-insensitive substring). */
  text?: string | undefined;
  scope: CompanyScope;
}

/** Newest first, keyset-paged by id. */
export async function listTickets(db: Db, f: TicketFilter): Promise<Page<TicketRow>> {
  const q = db('tickets').select('*');
  if (f.deviceId) q.where('device_id', f.deviceId);
  if (f.companyId) q.where('company_id', f.companyId);
  if (f.contractId) q.where('contract_id', f.contractId);
  if (f.status && f.status.length > 0) q.whereIn('status', f.status as TicketStatus[]);
  if (f.priority) q.where('priority', f.priority);
  if (f.needsTriage !== undefined) q.where('needs_triage', f.needsTriage);
  if (f.text) {
    const like = `%${f.text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    q.where((w) => w.whereILike('title', like).orWhereILike('description', like));
  }
  inScope(q, 'company_id', f.scope);
  return pageBy<TicketRow>(q, f, 'id', 'desc');
}

export async function getTicket(db: Db, id: string, scope: CompanyScope): Promise<TicketRow | undefined> {
  return (await inScope(db('tickets').where('id', id), 'company_id', scope).first()) as TicketRow | undefined;
}

/** The ticket under a row lock: status changes of one ticket are serialized (and with the alert worker). */
export async function lockTicket(trx: Knex.Transaction, id: string, scope: CompanyScope): Promise<TicketRow | undefined> {
  return (await inScope(trx('tickets').where('id', id), 'company_id', scope).forUpdate().first()) as TicketRow | undefined;
}

export async function listTicketNotes(db: Db, ticketId: string): Promise<TicketNoteRow[]> {
  return (await db('ticket_notes').where('ticket_id', ticketId).orderBy('id')) as TicketNoteRow[];
}

export async function insertTicketNote(db: Db, n: { ticketId: string; kind: string; body: string; author: string | null }): Promise<TicketNoteRow> {
  const [row] = (await db('ticket_notes').insert({ ticket_id: n.ticketId, kind: n.kind, body: n.body, author: n.author }).returning('*')) as TicketNoteRow[];
  return row!;
}

export type TicketUpdate = Partial<
  Pick<TicketRow, 'status' | 'sla_paused_at' | 'resolved_at' | 'resolved_automatically' | 'closed_at' | 'first_response_due_at' | 'resolution_plan_due_at' | 'resolution_due_at'>
>;

export async function updateTicket(db: Db, id: string, patch: TicketUpdate): Promise<TicketRow> {
  const [row] = (await db('tickets')
    .where('id', id)
    .update({ ...patch, updated_at: db.fn.now() })
    .returning('*')) as TicketRow[];
  return row!;
}

/** Starts an SLA pause (waiting for the customer). The partial unique index allows one open pause per ticket. */
export async function openSlaPause(db: Db, ticketId: string, at: Date): Promise<TicketSlaPauseRow> {
  const [row] = (await db('ticket_sla_pauses').insert({ ticket_id: ticketId, paused_at: at }).returning('*')) as TicketSlaPauseRow[];
  return row!;
}

/** Ends the ticket's open SLA pause at `at` (never before it started); undefined when none was open. */
export async function closeSlaPause(db: Db, ticketId: string, at: Date): Promise<TicketSlaPauseRow | undefined> {
  const [row] = (await db('ticket_sla_pauses')
    .where('ticket_id', ticketId)
    .whereNull('resumed_at')
    .update({ resumed_at: db.raw('greatest(paused_at, ?::timestamptz)', [at]) })
    .returning('*')) as TicketSlaPauseRow[];
  return row;
}

export async function listSlaPauses(db: Db, ticketId: string): Promise<TicketSlaPauseRow[]> {
  return (await db('ticket_sla_pauses').where('ticket_id', ticketId).orderBy('id')) as TicketSlaPauseRow[];
}

export interface TimeEntryView extends TimeEntryRow {
  contract_name: string | null;
  service_name: string | null;
}

const timeEntryView = (db: Db) =>
  db('time_entries as t')
    .leftJoin('contracts as c', 'c.id', 't.contract_id')
    .leftJoin('services as s', 's.id', 't.service_id')
    .select('t.*', 'c.name as contract_name', 's.name as service_name');

/** R-LINK-6: labour on a ticket is booked on the ticket's contract and service, copied at entry time. */
export async function insertTimeEntry(
  db: Db,
  e: { ticketId: string; contractId: string | null; serviceId: string | null; workDate: IsoDate; hours: string; costRate: string | null; description: string | null },
): Promise<TimeEntryView> {
  const [row] = (await db('time_entries')
    .insert({
      ticket_id: e.ticketId,
      contract_id: e.contractId,
      service_id: e.serviceId,
      work_date: e.workDate,
      hours: e.hours,
      cost_rate: e.costRate,
      description: e.description,
    })
    .returning('id')) as Array<{ id: string }>;
  return (await timeEntryView(db).where('t.id', row!.id).first()) as TimeEntryView;
}

export async function listTicketTimeEntries(db: Db, ticketId: string): Promise<TimeEntryView[]> {
  return (await timeEntryView(db).where('t.ticket_id', ticketId).orderBy([{ column: 't.work_date' }, { column: 't.id' }])) as TimeEntryView[];
}

export interface AlertDetail extends AlertRow {
  source_name: string;
  /** The company of the alert's ticket (the alert has none of its own). */
  ticket_company_id: string | null;
  receipts: AlertReceiptRow[];
}

/**
 * A stored alert with its receipts (one per delivery). Scope: an alert belongs to the company of
 * its ticket; one without a ticket (suppressed, held, failed, triage) is visible unscoped only.
 */
export async function getAlertDetail(db: Db, id: string, scope: CompanyScope): Promise<AlertDetail | undefined> {
  const q = db('alerts as a')
    .join('sources as s', 's.id', 'a.source_id')
    .leftJoin('tickets as t', 't.id', 'a.ticket_id')
    .select('a.*', 's.name as source_name', 't.company_id as ticket_company_id')
    .where('a.id', id);
  whereInScope(q, 't.company_id', scope);
  const alert = (await q.first()) as (AlertRow & { source_name: string; ticket_company_id: string | null }) | undefined;
  if (!alert) return undefined;
  const receipts = (await db('alert_receipts').where('alert_id', id).orderBy('id').limit(1000)) as AlertReceiptRow[];
  return { ...alert, receipts };
}

// ---------------------------------------------------------------------------------------------
// Status changes (SPEC §8 PATCH /tickets/:id): one transaction under the ticket's row lock.
// ---------------------------------------------------------------------------------------------

/** Statuses an operator may set; `new` is only where a ticket starts. */
export type SettableStatus = Exclude<TicketStatus, 'new'>;

export interface StatusChangeInput {
  ticketId: string;
  status: SettableStatus;
  /** Optional operator note stored with the change. */
  note?: string | null | undefined;
  /** When the change happens (the SLA pause boundary). */
  at: Date;
  scope: CompanyScope;
  actor: string;
  requestId?: string | null;
}

export interface StatusChangeResult {
  ticket: TicketRow;
  changed: boolean;
  /** Business minutes the SLA clock was stopped, when this change ended a pause. */
  pausedBusinessMinutes: number | null;
}

/**
 * Changes a ticket's status (SPEC §8):
 * - entering `waiting_customer` stops the SLA clock (a ticket_sla_pauses row, sla_paused_at);
 * - leaving it restarts the clock: the open due dates move later by the business minutes of the
 *   pause in the ticket's SLA calendar (`shiftDueDatesForPause`; missed ones stay missed);
 * - `resolved` sets resolved_at (by hand: resolved_automatically false); `closed` sets closed_at;
 * - a resolved ticket may be taken back to work (resolved_at cleared) unless another open ticket
 *   now carries its dedup key (409 naming it);
 * - a closed ticket is never reopened (409): a new alert opens a new ticket.
 * Setting the status it already has changes nothing (the note, if any, is still stored).
 */
export async function changeTicketStatus(knex: Knex, input: StatusChangeInput): Promise<StatusChangeResult> {
  return knex.transaction(async (trx) => {
    const t = await lockTicket(trx, input.ticketId, input.scope);
    if (!t) throw notFound('ticket', input.ticketId);
    const note = input.note?.trim() ? input.note.trim() : null;
    if (t.status === input.status) {
      if (note) await insertTicketNote(trx, { ticketId: t.id, kind: 'note', body: note, author: input.actor });
      return { ticket: t, changed: false, pausedBusinessMinutes: null };
    }
    if (t.status === 'closed') {
      throw new HubError('CONFLICT', `status: ticket ${t.id} is closed and cannot be reopened; a new alert opens a new ticket`, [
        { field: 'status', message: 'closed tickets are not reopened' },
      ]);
    }
    const patch: TicketUpdate = { status: input.status };
    let pausedBusinessMinutes: number | null = null;

    if (t.status === 'waiting_customer') {
      const pause = await closeSlaPause(trx, t.id, input.at);
      const pausedAt = pause?.paused_at ?? t.sla_paused_at;
      const resumedAt = pause?.resumed_at ?? input.at;
      patch.sla_paused_at = null;
      if (pausedAt && t.sla_id) {
        const sla = await loadSlaDefinition(trx, String(t.sla_id));
        if (sla) {
          const due = { firstResponseDueAt: t.first_response_due_at, resolutionPlanDueAt: t.resolution_plan_due_at, resolutionDueAt: t.resolution_due_at };
          const shifted = shiftDueDatesForPause(sla.calendar, due, pausedAt, resumedAt);
          pausedBusinessMinutes = businessMinutesBetween(sla.calendar, pausedAt, resumedAt);
          patch.first_response_due_at = shifted.firstResponseDueAt;
          patch.resolution_plan_due_at = shifted.resolutionPlanDueAt;
          patch.resolution_due_at = shifted.resolutionDueAt;
        }
      }
    }
    if (input.status === 'waiting_customer') {
      await openSlaPause(trx, t.id, input.at);
      patch.sla_paused_at = input.at;
    }
    if (input.status === 'resolved') {
      patch.resolved_at = input.at;
      patch.resolved_automatically = false;
    }
    if (input.status === 'closed') patch.closed_at = input.at;
    if (t.status === 'resolved' && OPEN_TICKET_STATUSES.includes(input.status)) {
      const other = (await trx('tickets').where('dedup_key', t.dedup_key).whereIn('status', OPEN_TICKET_STATUSES as TicketStatus[]).whereNot('id', t.id).first('id')) as
        | { id: string }
        | undefined;
      if (other) {
        throw new HubError('CONFLICT', `status: ticket ${other.id} is already open for the same alert; work on that one`, [
          { field: 'status', message: `ticket ${other.id} is open for the same dedup key` },
        ]);
      }
      patch.resolved_at = null;
      patch.resolved_automatically = false;
    }

    const updated = await withPgErrors({ tickets_one_open_per_dedup_key: 'status' }, () => updateTicket(trx, t.id, patch));
    await insertTicketNote(trx, { ticketId: t.id, kind: 'status', body: note ? `${t.status} → ${input.status}: ${note}` : `${t.status} → ${input.status}`, author: input.actor });
    const view = (r: TicketRow) => ({
      status: r.status,
      slaPausedAt: r.sla_paused_at,
      resolvedAt: r.resolved_at,
      closedAt: r.closed_at,
      firstResponseDueAt: r.first_response_due_at,
      resolutionPlanDueAt: r.resolution_plan_due_at,
      resolutionDueAt: r.resolution_due_at,
    });
    await writeAudit(trx, {
      actor: input.actor,
      action: 'ticket.status',
      entityType: 'ticket',
      entityId: t.id,
      companyId: t.company_id,
      before: view(t),
      after: { ...view(updated), pausedBusinessMinutes },
      requestId: input.requestId ?? null,
    });
    return { ticket: updated, changed: true, pausedBusinessMinutes };
  });
}
