import type { Knex } from 'knex';
import type { Db } from '../connection';
import type { AlertReceiptRow, AlertRow, CompanyRow, ContractType, DeviceRow, Priority, TicketRow } from '../tables';
import { OPEN_TICKET_STATUSES } from '../tables';

const OPEN = OPEN_TICKET_STATUSES.map((s) => `'${s}'`).join(',');

export type ReceiptWithAlert = AlertReceiptRow & { alert: AlertRow; source_name: string };

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

/** Locks the receipt row for this transaction (FOR UPDATE): one worker applies a receipt at a time. One round trip. */
export async function lockReceipt(trx: Knex.Transaction, receiptId: string): Promise<ReceiptWithAlert | undefined> {
  const r = (await trx.raw(
    `SELECT row_to_json(r) AS receipt, row_to_json(a) AS alert, s.name AS source_name
       FROM alert_receipts r JOIN alerts a ON a.id = r.alert_id JOIN sources s ON s.id = a.source_id
      WHERE r.id = ? FOR UPDATE OF r`,
    [receiptId],
  )) as { rows: Array<{ receipt: Record<string, unknown>; alert: Record<string, unknown>; source_name: string }> };
  const row = r.rows[0];
  if (!row) return undefined;
  // row_to_json gives ISO strings for timestamps and numbers for bigints: restore the driver's types.
  const rec = row.receipt;
  const a = row.alert;
  const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(String(v)));
  const id = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const receipt: AlertReceiptRow = {
    id: String(rec.id),
    alert_id: String(rec.alert_id),
    delivery_id: String(rec.delivery_id),
    received_at: date(rec.received_at)!,
    enqueued_at: date(rec.enqueued_at),
    not_before: date(rec.not_before),
    processed_at: date(rec.processed_at),
    outcome: (rec.outcome as string | null) ?? null,
    ticket_id: id(rec.ticket_id),
    attempts: Number(rec.attempts),
    error: (rec.error as string | null) ?? null,
  };
  const alert = {
    ...(a as unknown as AlertRow),
    id: String(a.id),
    source_id: String(a.source_id),
    first_delivery_id: String(a.first_delivery_id),
    ticket_id: id(a.ticket_id),
    occurred_at: date(a.occurred_at)!,
    created_at: date(a.created_at)!,
    updated_at: date(a.updated_at)!,
  };
  return { ...receipt, alert, source_name: row.source_name };
}

export async function companyForSite(db: Db, source: string, site: string): Promise<CompanyRow | undefined> {
  return (await db('company_source_sites as m')
    .join('companies as c', 'c.id', 'm.company_id')
    .where({ 'm.source': source, 'm.site_id': site })
    .first('c.*')) as CompanyRow | undefined;
}

export async function deviceBySourceRef(db: Db, source: string, sourceDeviceId: string): Promise<DeviceRow | undefined> {
  return (await db('device_source_refs as r')
    .join('devices as d', 'd.id', 'r.device_id')
    .where({ 'r.source': source, 'r.source_device_id': sourceDeviceId })
    .first('d.*')) as DeviceRow | undefined;
}

export async function deviceByHostname(db: Db, companyId: string | null, hostname: string): Promise<DeviceRow | undefined> {
  const q = db('devices').whereRaw('lower(hostname) = lower(?)', [hostname]);
  if (companyId === null) q.whereNull('company_id');
  else q.where('company_id', companyId);
  return (await q.first()) as DeviceRow | undefined;
}

/**
 * R-LINK-7: a device first seen in an alert is created as discovered (idempotent under concurrent
 * alerts for the same host: the unique (company, lower(hostname)) index decides).
 */
export async function upsertDiscoveredDevice(
  db: Db,
  d: { companyId: string | null; hostname: string; site: string | null; seenAt: Date },
): Promise<DeviceRow> {
  const rows = (await db.raw(
    `INSERT INTO devices (company_id, hostname, site, discovered, first_seen_at, last_seen_at)
     VALUES (?, ?, ?, true, ?, ?)
     ON CONFLICT (company_id, lower(hostname)) DO UPDATE SET last_seen_at = greatest(devices.last_seen_at, EXCLUDED.last_seen_at)
     RETURNING *`,
    [d.companyId, d.hostname, d.site, d.seenAt, d.seenAt],
  )) as { rows: DeviceRow[] };
  return rows.rows[0]!;
}

export async function addSourceRef(db: Db, deviceId: string, source: string, sourceDeviceId: string): Promise<void> {
  await db('device_source_refs').insert({ device_id: deviceId, source, source_device_id: sourceDeviceId }).onConflict(['source', 'source_device_id']).ignore();
}

export async function touchDevice(db: Db, deviceId: string, seenAt: Date): Promise<void> {
  await db('devices').where({ id: deviceId }).update({ last_seen_at: db.raw('greatest(last_seen_at, ?)', [seenAt]) });
}

export async function companyById(db: Db, id: string): Promise<CompanyRow | undefined> {
  return (await db('companies').where({ id }).first()) as CompanyRow | undefined;
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

const contractFactColumns = `c.id AS contract_id, c.name, c.code, c.type, c.company_id, c.sla_id,
  sla.name AS sla_name, sla.code AS sla_code, sla.timezone AS sla_timezone`;

/** R-LINK-3: the device's link effective on `date` to a contract that runs on that date. */
export async function effectiveDeviceContract(db: Db, deviceId: string, date: string): Promise<ContractFactRow | undefined> {
  const r = (await db.raw(
    `SELECT ${contractFactColumns}, l.service_id, s.name AS service_name, s.code AS service_code
       FROM device_contract_links l
       JOIN contracts c ON c.id = l.contract_id
       LEFT JOIN services s ON s.id = l.service_id
       LEFT JOIN slas sla ON sla.id = c.sla_id
      WHERE l.device_id = ? AND l.valid_from <= ?::date AND (l.valid_to IS NULL OR l.valid_to >= ?::date)
        AND c.start_date <= ?::date AND c.end_date >= ?::date
      LIMIT 1`,
    [deviceId, date, date, date, date],
  )) as { rows: ContractFactRow[] };
  return r.rows[0];
}

/** R-LINK-4: the company's default service-desk contract active on `date`. */
export async function activeDefaultContract(db: Db, companyId: string, date: string): Promise<ContractFactRow | undefined> {
  const r = (await db.raw(
    `SELECT ${contractFactColumns}, NULL::bigint AS service_id, NULL AS service_name, NULL AS service_code
       FROM contracts c LEFT JOIN slas sla ON sla.id = c.sla_id
      WHERE c.company_id = ? AND c.is_default_service_desk AND c.status = 'active'
        AND c.start_date <= ?::date AND c.end_date >= ?::date
      ORDER BY c.start_date DESC LIMIT 1`,
    [companyId, date, date],
  )) as { rows: ContractFactRow[] };
  return r.rows[0];
}

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

/**
 * R-ALR-4: the open ticket of a dedup key, else its latest resolved/closed one (for the reopen
 * window), locked; one round trip.
 */
export async function lockTicketForKey(trx: Knex.Transaction, dedupKey: string): Promise<{ open?: TicketRow; last?: TicketRow }> {
  const row = (await trx('tickets')
    .where({ dedup_key: dedupKey })
    .orderByRaw(`(status IN (${OPEN})) DESC, id DESC`)
    .forUpdate()
    .first()) as TicketRow | undefined;
  if (!row) return {};
  return (OPEN_TICKET_STATUSES as readonly string[]).includes(row.status) ? { open: row } : { last: row };
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

/**
 * R-ALR-4: creates the ticket, or — when a concurrent worker created the open ticket for this
 * dedup key first — counts an occurrence on it. The partial unique index decides, not the code.
 */
export async function insertTicketOrCount(trx: Knex.Transaction, t: NewTicket): Promise<{ ticket: TicketRow; created: boolean }> {
  const entries: Array<[string, unknown]> = Object.entries(t);
  const cols = entries.map(([c]) => c);
  const values = entries.map(([c, v]) => (c === 'decision' ? JSON.stringify(v) : v));
  const r = (await trx.raw(
    `INSERT INTO tickets (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
     ON CONFLICT (dedup_key) WHERE status NOT IN ('resolved','closed')
     DO UPDATE SET occurrences = tickets.occurrences + 1,
                   last_occurred_at = greatest(tickets.last_occurred_at, EXCLUDED.last_occurred_at),
                   updated_at = now()
     RETURNING *, (xmax = 0) AS created`,
    values as Knex.RawBinding[],
  )) as { rows: Array<TicketRow & { created: boolean }> };
  const row = r.rows[0]!;
  const { created, ...ticket } = row;
  return { ticket, created };
}

export async function countOccurrence(trx: Knex.Transaction, ticketId: string, at: Date): Promise<void> {
  await trx('tickets')
    .where({ id: ticketId })
    .update({ occurrences: trx.raw('occurrences + 1'), last_occurred_at: trx.raw('greatest(last_occurred_at, ?)', [at]), updated_at: trx.fn.now() });
}

export async function resolveTicket(trx: Knex.Transaction, ticketId: string, at: Date, note: string): Promise<void> {
  await trx('tickets')
    .where({ id: ticketId })
    .whereRaw(`status IN (${OPEN})`)
    .update({ status: 'resolved', resolved_at: at, resolved_automatically: true, sla_paused_at: null, updated_at: trx.fn.now() });
  await trx('ticket_sla_pauses').where({ ticket_id: ticketId }).whereNull('resumed_at').update({ resumed_at: at });
  await addTicketNote(trx, ticketId, 'auto-resolve', note);
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
      updated_at: trx.fn.now(),
    })
    .returning('*')) as TicketRow[];
  return row!;
}

export async function addTicketNote(db: Db, ticketId: string, kind: string, body: string, author = 'hub'): Promise<void> {
  await db('ticket_notes').insert({ ticket_id: ticketId, kind, body, author });
}

export async function finishReceipt(
  trx: Knex.Transaction,
  r: { receiptId: string; alertId: string; outcome: string; ticketId: string | null; alertStatus: AlertRow['status']; decision: unknown; rulesetVersion: number | null },
): Promise<void> {
  await trx.raw(
    `WITH rc AS (
       UPDATE alert_receipts SET processed_at = now(), outcome = ?, ticket_id = ?, error = NULL WHERE id = ?
     )
     UPDATE alerts SET status = ?, outcome = ?, ticket_id = ?, decision = ?::jsonb, ruleset_version = ?, error = NULL, updated_at = now()
      WHERE id = ?`,
    [
      r.outcome,
      r.ticketId,
      r.receiptId,
      r.alertStatus,
      r.outcome,
      r.ticketId,
      r.decision === undefined ? null : JSON.stringify(r.decision),
      r.rulesetVersion,
      r.alertId,
    ],
  );
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
  await db('alert_receipts').where({ id: receiptId }).update({ not_before: notBefore });
  await db('alerts').where({ id: alertId }).update({ status: 'held', outcome: 'held', updated_at: db.fn.now() });
}
