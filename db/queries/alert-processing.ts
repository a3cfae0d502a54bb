import type { Knex } from 'knex';
import type { Db } from '../connection';
import type { AlertRow, ContractType, Priority, TicketRow } from '../tables';

/**
 * The receipts of a job in the order they are applied: by host (then site), dedup key, arrival.
 * A job's transaction holds what it locks until it commits — the discovered devices and source
 * refs it inserts as well as the tickets — so every worker takes them in the same order and
 * concurrent batches wait for each other instead of deadlocking. Host first: by dedup key alone,
 * two batches for the same new hosts insert their devices in different orders and deadlock
 * (test/faults/redis-restart.test.ts found it).
 */
export async function orderReceipts(db: Db, receiptIds: string[]): Promise<string[]> {
  const rows = (await db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .whereIn('r.id', receiptIds)
    .orderByRaw('lower(a.hostname) NULLS FIRST, a.site NULLS FIRST, a.dedup_key, r.id')
    .select('r.id')) as { id: string }[];
  return rows.map((r) => r.id);
}

export interface ContractFactRow {
  contract_id: string;
  name: string;
  code: string | null;
  type: ContractType;
  company_id: string;
  sla_id: string | null;
  service_id: string | null;
  service_name: string | null;
  service_code: string | null;
  sla_name: string | null;
  sla_code: string | null;
  sla_timezone: string | null;
}

export const contractFactColumns = `c.id AS contract_id, c.name, c.code, c.type, c.company_id, c.sla_id,
  sla.name AS sla_name, sla.code AS sla_code, sla.timezone AS sla_timezone`;

/** A contract named by a rule (code or name), within the company, running on `date`. */
export async function contractByRef(db: Db, companyId: string, ref: string, date: string): Promise<ContractFactRow | undefined> {
  const r = (await db.raw(
    `SELECT ${contractFactColumns}, NULL::bigint AS service_id, NULL AS service_name, NULL AS service_code
       FROM contracts c LEFT JOIN slas sla ON sla.id = c.sla_id
      WHERE c.company_id = ? AND (c.code = ? OR lower(c.name) = lower(?))
        AND c.start_date <= ?::date AND c.end_date >= ?::date
      ORDER BY (c.code = ?) DESC, c.start_date DESC LIMIT 1`,
    [companyId, ref, ref, date, date, ref],
  )) as { rows: ContractFactRow[] };
  return r.rows[0];
}

export async function serviceByRef(db: Db, ref: string): Promise<{ id: string; name: string; code: string | null } | undefined> {
  return (await db('services')
    .where('code', ref)
    .orWhereRaw('lower(name) = lower(?)', [ref])
    .orderByRaw('(code = ?) DESC', [ref])
    .first('id', 'name', 'code')) as { id: string; name: string; code: string | null } | undefined;
}

export async function slaByRef(db: Db, ref: string): Promise<{ id: string } | undefined> {
  return (await db('slas').where('code', ref).orWhereRaw('lower(name) = lower(?)', [ref]).first('id')) as { id: string } | undefined;
}

export interface NewTicket {
  company_id: string | null;
  device_id: string | null;
  contract_id: string | null;
  service_id: string | null;
  sla_id: string | null;
  source: string;
  dedup_key: string;
  priority: Priority;
  queue: string | null;
  title: string;
  description: string | null;
  needs_triage: boolean;
  first_occurred_at: Date;
  last_occurred_at: Date;
  first_response_due_at: Date | null;
  resolution_plan_due_at: Date | null;
  resolution_due_at: Date | null;
  stale_after_minutes: number | null;
  reopen_window_minutes: number | null;
  resolve_action: 'resolve' | 'annotate';
  decision: unknown;
  ruleset_version: number | null;
}

/** Reopens an automatically resolved ticket (flapping, within the rule's reopen window). */
export async function reopenTicket(trx: Knex.Transaction, ticketId: string, at: Date): Promise<TicketRow> {
  const [row] = (await trx('tickets')
    .where({ id: ticketId })
    .update({
      status: 'new',
      resolved_at: null,
      resolved_automatically: false,
      closed_at: null,
      flaps: trx.raw('flaps + 1'),
      occurrences: trx.raw('occurrences + 1'),
      last_occurred_at: at,
      // Its new episode starts here: a resolved event older than this ended the previous one.
      episode_started_at: at,
      updated_at: trx.fn.now(),
    })
    .returning('*')) as TicketRow[];
  return row!;
}

/**
 * Records a failed attempt on receipts (one statement for the whole job); `permanent` also marks
 * their alerts failed.
 */
export async function recordReceiptFailure(db: Db, receiptIds: string[], error: string, permanent: boolean): Promise<void> {
  if (receiptIds.length === 0) return;
  const message = error.slice(0, 2000);
  await db.raw(
    `WITH r AS (
       UPDATE alert_receipts SET attempts = attempts + 1, error = ? WHERE id = ANY(?::bigint[]) RETURNING alert_id
     )
     UPDATE alerts SET status = 'failed', error = ?, updated_at = now()
      WHERE ? AND id IN (SELECT alert_id FROM r)`,
    [message, receiptIds, message, permanent],
  );
}

/** Was a resolve for this dedup key received after `since`? (hold-off: the blip cleared itself) */
export async function resolvedSince(db: Db, dedupKey: string, since: Date): Promise<boolean> {
  const r = await db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .where({ 'a.dedup_key': dedupKey, 'a.state': 'resolved' })
    .where('r.received_at', '>=', since)
    .first('r.id');
  return !!r;
}

export async function holdReceipt(db: Db, receiptId: string, alertId: string, notBefore: Date): Promise<void> {
  // Marked enqueued as well: its delayed job carries it (the relay must not enqueue it again).
  await db('alert_receipts').where({ id: receiptId }).update({ not_before: notBefore, enqueued_at: db.raw('coalesce(enqueued_at, now())') });
  await db('alerts').where({ id: alertId }).update({ status: 'held', outcome: 'held', updated_at: db.fn.now() });
}

/** The alert of a receipt (for the log line of a receipt that failed). */
export async function receiptAlertId(db: Db, receiptId: string): Promise<string | undefined> {
  const row = (await db('alert_receipts').where({ id: receiptId }).first('alert_id')) as { alert_id: string } | undefined;
  return row?.alert_id;
}

/** The open ticket of a dedup key, if any (read only: the dry run's view; the worker locks with lockTicketsForKeys). */
export type OpenTicketOfKey = Pick<TicketRow, 'id' | 'status' | 'resolve_action' | 'first_occurred_at' | 'episode_started_at'>;
export async function openTicketForKey(db: Db, dedupKey: string): Promise<OpenTicketOfKey | undefined> {
  return (await db('tickets')
    .where('dedup_key', dedupKey)
    .whereNotIn('status', ['resolved', 'closed'])
    .first('id', 'status', 'resolve_action', 'first_occurred_at', 'episode_started_at')) as OpenTicketOfKey | undefined;
}

/** A page of the firing alerts stored (created_at) in [since, until), in id order, after `afterId`: what a replay decides again. */
export type StoredFiringAlert = Pick<
  AlertRow,
  'id' | 'source_alert_id' | 'dedup_key' | 'state' | 'severity' | 'category' | 'title' | 'message' | 'hostname' | 'site' | 'labels' | 'occurred_at' | 'device_source_id'
> & { source_name: string };

/**
 * Stored alerts created in [since, until), oldest id first, paged by id (the replays' reading):
 * `state: 'firing'` for the decisions a replay re-makes; without it also the resolutions (the storm replay).
 */
export async function storedAlerts(db: Db, o: { since: Date; until: Date; afterId: string | null; limit: number; state?: 'firing' }): Promise<StoredFiringAlert[]> {
  const q = db('alerts as a')
    .join('sources as s', 's.id', 'a.source_id')
    .where('a.created_at', '>=', o.since)
    .where('a.created_at', '<', o.until)
    .orderBy('a.id')
    .limit(o.limit)
    .select(
      'a.id',
      'a.source_alert_id',
      'a.dedup_key',
      'a.state',
      'a.severity',
      'a.category',
      'a.title',
      'a.message',
      'a.hostname',
      'a.site',
      'a.labels',
      'a.occurred_at',
      'a.device_source_id',
      's.name as source_name',
    );
  if (o.state) q.where('a.state', o.state);
  if (o.afterId) q.where('a.id', '>', o.afterId);
  return (await q) as StoredFiringAlert[];
}

export async function firingAlertsStored(db: Db, o: { since: Date; until: Date; afterId: string | null; limit: number }): Promise<StoredFiringAlert[]> {
  return storedAlerts(db, { ...o, state: 'firing' });
}
