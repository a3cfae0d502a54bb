import type { Knex } from 'knex';
import type { IsoDate } from '../../core/dates';
import { validationError } from '../../core/errors';
import type { SlaState } from '../../core/slas/sla-state';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import type { Page, PageRequest } from '../paging';
import { ALERT_DECISION_SQL } from './alert-list';
import { NEXT_DUE_BRANCHES, NOTHING_DUE_SQL, slaStateSql } from './ticket-sla';
import { OPEN_TICKET_STATUSES, type AlertReceiptRow, type AlertRow, type Priority, type TicketNoteRow, type TicketRow, type TicketSlaPauseRow, type TicketStatus, type TimeEntryRow } from '../tables';

/**
 * The operator's side of tickets (SPEC §8 `GET /tickets`, `GET /tickets/:id`): reading them,
 * the statements of status changes, triage and SLA pauses (the use cases are app/tickets/), notes,
 * time entries (R-LINK-6), and the stored alerts that made them. Company scope: a scoped token sees its companies' tickets only; a ticket without a
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
  /** R-TKT-2: only tickets in this SLA state at `now` (core/slas/sla-state.ts). */
  slaState?: SlaState | undefined;
  /** `id` (newest first, the default) or `nextDue` (earliest open due date first, none last). */
  sort?: 'id' | 'nextDue' | undefined;
  /** The instant SLA states are judged at. */
  now?: Date | undefined;
  scope: CompanyScope;
}

/** The cursor of `sort=nextDue`: the last row's next due date (epoch ms, or `none`) and id. */
const NEXT_DUE_CURSOR = /^(\d{1,15}|none)_(\d{1,18})$/;

/**
 * Keyset-paged: by id, newest first; or with `sort: 'nextDue'` by the next open due date, then id
 * (tickets with nothing due last), the cursor carrying both.
 */
export async function listTickets(db: Db, f: TicketFilter): Promise<Page<TicketRow>> {
  if (f.sort === 'nextDue') return listTicketsByNextDue(db, f);
  const q = filtered(db, f);
  if (f.cursor !== undefined) q.where('t.id', '<', f.cursor);
  const rows = (await q.orderBy('t.id', 'desc').limit(f.limit + 1)) as TicketRow[];
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > f.limit && last ? String(last.id) : null };
}

/** The tickets the filter selects (not yet ordered or paged). */
function filtered(db: Db, f: TicketFilter): Knex.QueryBuilder {
  const q = db('tickets as t').select('t.*');
  if (f.deviceId) q.where('t.device_id', f.deviceId);
  if (f.companyId) q.where('t.company_id', f.companyId);
  if (f.contractId) q.where('t.contract_id', f.contractId);
  if (f.status && f.status.length > 0) q.whereIn('t.status', f.status as TicketStatus[]);
  if (f.priority) q.where('t.priority', f.priority);
  if (f.needsTriage !== undefined) q.where('t.needs_triage', f.needsTriage);
  if (f.text) {
    const like = `%${f.text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    q.where((w) => w.whereILike('t.title', like).orWhereILike('t.description', like));
  }
  if (f.slaState) {
    const state = slaStateSql(f.now ?? new Date());
    q.whereRaw(`(${state.sql}) = ?`, [...state.bindings, f.slaState]);
  }
  inScope(q, 't.company_id', f.scope);
  return q;
}

/**
 * `sort: 'nextDue'`: the page is the first limit + 1 of three index-ordered parts — tickets whose
 * next due date is the response's, those whose is the resolution's (each read in (due date, id)
 * order from its open-SLA index, after the cursor), and tickets with nothing due by id (after the
 * cursor when it is in that tail). Each part stops at limit + 1 rows, so a page costs the same
 * whatever the number of tickets due later or closed long ago (with open statuses asked for, the
 * nothing-due part reads tickets_open_nothing_due_idx: open tickets with no open due date).
 */
async function listTicketsByNextDue(db: Db, f: TicketFilter): Promise<Page<TicketRow>> {
  const c = f.cursor === undefined ? null : NEXT_DUE_CURSOR.exec(f.cursor);
  if (f.cursor !== undefined && !c) throw validationError('cursor', 'must be the nextCursor of a previous page of this sort');
  const size = f.limit + 1;
  const parts: Knex.QueryBuilder[] = [];
  if (c?.[1] !== 'none') {
    for (const b of NEXT_DUE_BRANCHES) {
      const part = filtered(db, f).select(db.raw(`${b.due} AS next_due`)).whereRaw(b.where);
      if (c) part.whereRaw(`(${b.due}, t.id) > (?::timestamptz, ?::bigint)`, [new Date(Number(c[1])), c[2]!]);
      parts.push(part.orderByRaw(`${b.due}, t.id`).limit(size));
    }
  }
  const tail = filtered(db, f).select(db.raw('NULL::timestamptz AS next_due')).whereRaw(NOTHING_DUE_SQL);
  if (c?.[1] === 'none') tail.where('t.id', '>', c[2]!);
  parts.push(tail.orderBy('t.id').limit(size));
  const union = db.raw(parts.map(() => '?').join(' UNION ALL '), parts);
  const rows = (await db
    .select('*')
    .from(db.raw('(?) AS x', [union]))
    .orderByRaw('next_due ASC NULLS LAST, id ASC')
    .limit(size)) as Array<TicketRow & { next_due: Date | null }>;
  const items = rows.slice(0, f.limit).map(({ next_due: _nextDue, ...t }) => t as TicketRow);
  const last = rows[Math.min(rows.length, f.limit) - 1];
  return { items, nextCursor: rows.length > f.limit && last ? `${last.next_due ? last.next_due.getTime() : 'none'}_${last.id}` : null };
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
  Pick<
    TicketRow,
    | 'status'
    | 'sla_paused_at'
    | 'resolved_at'
    | 'resolved_automatically'
    | 'closed_at'
    | 'first_response_due_at'
    | 'resolution_plan_due_at'
    | 'resolution_due_at'
    | 'company_id'
    | 'device_id'
    | 'contract_id'
    | 'service_id'
    | 'sla_id'
    | 'priority'
    | 'assignee'
    | 'queue'
    | 'needs_triage'
    | 'first_response_at'
  >
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

/** R-LINK-6: a ticket moved to another contract/service takes its booked labour along. Returns how many entries moved. */
export async function moveTicketTimeEntries(db: Db, ticketId: string, contractId: string | null, serviceId: string | null): Promise<number> {
  return db('time_entries').where('ticket_id', ticketId).update({ contract_id: contractId, service_id: serviceId });
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
    .select('a.*', db.raw(ALERT_DECISION_SQL), 's.name as source_name', 't.company_id as ticket_company_id')
    .where('a.id', id);
  whereInScope(q, 't.company_id', scope);
  const alert = (await q.first()) as (AlertRow & { source_name: string; ticket_company_id: string | null }) | undefined;
  if (!alert) return undefined;
  const receipts = (await db('alert_receipts').where('alert_id', id).orderBy('id').limit(1000)) as AlertReceiptRow[];
  return { ...alert, receipts };
}

/** Another open ticket of the same dedup key (a resolved ticket taken back to work would collide with it). */
export async function findOtherOpenTicket(db: Db, dedupKey: string, exceptId: string): Promise<{ id: string } | undefined> {
  return (await db('tickets').where('dedup_key', dedupKey).whereIn('status', OPEN_TICKET_STATUSES as TicketStatus[]).whereNot('id', exceptId).first('id')) as
    | { id: string }
    | undefined;
}
