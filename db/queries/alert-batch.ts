import type { Knex } from 'knex';
import type { Db } from '../connection';
import { prepared, type PreparedName } from '../prepared';
import type { AlertReceiptRow, AlertRow, CompanyRow, DeviceRow, TicketRow } from '../tables';
import { OPEN_TICKET_STATUSES } from '../tables';
import { contractFactColumns, type ContractFactRow, type NewTicket } from './alert-processing';

/**
 * The worker's set-based queries: each takes the whole batch of a job (up to a few hundred
 * receipts) and costs one round trip, whatever the batch size. Profiling showed the worker spent
 * most of its time on the ~10 round trips per alert of the one-receipt-at-a-time path; these
 * replace them with ~10 per job. Inputs go in as arrays (`unnest`) or one JSON document
 * (`jsonb_to_recordset`), never as SQL text.
 *
 * One piece (about 380 lines): each function is one set-based statement (the model for
 * db/queries/); they are kept together because they are the steps of one batch, in order.
 */

const OPEN = OPEN_TICKET_STATUSES.map((s) => `'${s}'`).join(',');

/** A stored alert as the worker reads it: what deciding and applying it needs (never the raw payload). */
export type WorkAlert = Pick<
  AlertRow,
  | 'id'
  | 'source_alert_id'
  | 'dedup_key'
  | 'state'
  | 'severity'
  | 'category'
  | 'title'
  | 'message'
  | 'device_source_id'
  | 'hostname'
  | 'site'
  | 'occurred_at'
  | 'labels'
>;
/** A receipt as the worker reads it. */
export type WorkReceipt = Pick<AlertReceiptRow, 'id' | 'alert_id' | 'received_at' | 'processed_at' | 'ticket_id'> & { alert: WorkAlert; source_name: string };

const ALERT_COLUMNS = [
  'id',
  'source_alert_id',
  'dedup_key',
  'state',
  'severity',
  'category',
  'title',
  'message',
  'device_source_id',
  'hostname',
  'site',
  'occurred_at',
  'labels',
] as const;

/**
 * Locks a job's receipts (FOR UPDATE) and loads them with their alerts, in the order they are
 * applied: by host (then site), dedup key, arrival. Every worker locks — receipts, then the devices
 * it discovers, then tickets — in this one order, so concurrent jobs wait for each other instead
 * of deadlocking (test/faults/batch-deadlock.test.ts). Ids that do not exist are simply absent.
 */
export async function lockReceipts(trx: Knex.Transaction, receiptIds: readonly string[]): Promise<WorkReceipt[]> {
  if (receiptIds.length === 0) return [];
  const r = (await trx.raw(
    `SELECT r.id AS r_id, r.alert_id AS r_alert_id, r.received_at AS r_received_at, r.processed_at AS r_processed_at,
            r.ticket_id AS r_ticket_id, s.name AS source_name,
            ${ALERT_COLUMNS.map((c) => `a.${c}`).join(', ')}
       FROM alert_receipts r JOIN alerts a ON a.id = r.alert_id JOIN sources s ON s.id = a.source_id
      WHERE r.id = ANY(?::bigint[])
      ORDER BY lower(a.hostname) NULLS FIRST, a.site NULLS FIRST, a.dedup_key, r.id
        FOR UPDATE OF r`,
    [receiptIds as string[]],
  ).options(prepared('lock_receipts'))) as { rows: Array<Record<string, unknown>> };
  return r.rows.map((row) => {
    const alert = {} as Record<string, unknown>;
    for (const c of ALERT_COLUMNS) alert[c] = row[c];
    return {
      id: String(row.r_id),
      alert_id: String(row.r_alert_id),
      received_at: row.r_received_at as Date,
      processed_at: (row.r_processed_at as Date | null) ?? null,
      ticket_id: (row.r_ticket_id as string | null) ?? null,
      source_name: String(row.source_name),
      alert: alert as unknown as WorkAlert,
    };
  });
}

/** Key of a pair of lookup values (source + site, device + date, …) in the maps below. */
export const pairKey = (a: string, b: string): string => `${a}\u0000${b}`;

/**
 * Runs a batch lookup whose rows carry the pair they answer in two `k_` columns (selected first,
 * as `k_a`, `k_b`) and maps {@link pairKey} of it to the row without them.
 */
async function rowsByPair<T>(db: Db, sql: string, bindings: Knex.RawBinding[], name?: PreparedName): Promise<Map<string, T>> {
  const r = (await db.raw(sql, bindings).options(name ? prepared(name) : {})) as { rows: Array<Record<string, unknown>> };
  const out = new Map<string, T>();
  for (const { k_a, k_b, ...row } of r.rows) out.set(pairKey(String(k_a ?? ''), String(k_b)), row as T);
  return out;
}

/**
 * Every column of `companies` and `devices`, listed rather than `c.*` / `d.*` so the lookups below can
 * be prepared statements (db/prepared.ts: a prepared `*` breaks once a migration adds a column). The
 * `satisfies` and the `Exact` checks make a column added to CompanyRow / DeviceRow a compile error here.
 */
const COMPANY_COLUMNS = ['id', 'name', 'code', 'timezone', 'created_at', 'updated_at', 'psa_refs'] as const satisfies ReadonlyArray<keyof CompanyRow>;
const DEVICE_COLUMNS = [
  'id',
  'company_id',
  'hostname',
  'site',
  'role',
  'discovered',
  'first_seen_at',
  'last_seen_at',
  'created_at',
  'updated_at',
  'psa_refs',
] as const satisfies ReadonlyArray<keyof DeviceRow>;
type Exact<Listed, All> = [Exclude<All, Listed>] extends [never] ? true : never;
const companyColumnsComplete: Exact<(typeof COMPANY_COLUMNS)[number], keyof CompanyRow> = true;
const deviceColumnsComplete: Exact<(typeof DEVICE_COLUMNS)[number], keyof DeviceRow> = true;
void companyColumnsComplete;
void deviceColumnsComplete;
const columnsOf = (alias: string, columns: readonly string[]): string => columns.map((c) => `${alias}.${c}`).join(', ');

/** The companies mapped to (source, site) pairs. Keyed {@link pairKey}(source, site). */
export async function companiesForSites(db: Db, pairs: ReadonlyArray<{ source: string; site: string }>): Promise<Map<string, CompanyRow>> {
  if (pairs.length === 0) return new Map();
  return rowsByPair<CompanyRow>(
    db,
    `SELECT k.source AS k_a, k.site AS k_b, ${columnsOf('c', COMPANY_COLUMNS)}
       FROM unnest(?::text[], ?::text[]) AS k(source, site)
       JOIN company_source_sites m ON m.source = k.source AND m.site_id = k.site
       JOIN companies c ON c.id = m.company_id`,
    [pairs.map((p) => p.source), pairs.map((p) => p.site)],
    'companies_for_sites',
  );
}

/** Devices by (source, source device id). Keyed {@link pairKey}(source, ref). */
export async function devicesBySourceRefs(db: Db, pairs: ReadonlyArray<{ source: string; ref: string }>): Promise<Map<string, DeviceRow>> {
  if (pairs.length === 0) return new Map();
  return rowsByPair<DeviceRow>(
    db,
    `SELECT k.source AS k_a, k.ref AS k_b, ${columnsOf('d', DEVICE_COLUMNS)}
       FROM unnest(?::text[], ?::text[]) AS k(source, ref)
       JOIN device_source_refs r ON r.source = k.source AND r.source_device_id = k.ref
       JOIN devices d ON d.id = r.device_id`,
    [pairs.map((p) => p.source), pairs.map((p) => p.ref)],
    'devices_by_source_refs',
  );
}

export async function companiesByIds(db: Db, ids: readonly string[]): Promise<Map<string, CompanyRow>> {
  const out = new Map<string, CompanyRow>();
  if (ids.length === 0) return out;
  const rows = (await db('companies').whereRaw('id = ANY(?::bigint[])', [ids as string[]])) as CompanyRow[];
  for (const c of rows) out.set(String(c.id), c);
  return out;
}

/** Key of a (company, hostname) pair as the callers of the two functions below use it. */
export const hostKey = (companyId: string | null, hostname: string): string => pairKey(companyId ?? '', hostname);

/**
 * Devices by hostname (case-insensitive, as Postgres' lower() sees it) within a company, or among
 * devices of no company. Keyed {@link hostKey} of the hostname exactly as asked.
 */
export async function devicesByHostnames(db: Db, pairs: ReadonlyArray<{ companyId: string | null; hostname: string }>): Promise<Map<string, DeviceRow>> {
  if (pairs.length === 0) return new Map();
  const withCompany = pairs.filter((p) => p.companyId !== null);
  const without = pairs.filter((p) => p.companyId === null);
  // Two branches so each uses the (company_id, lower(hostname)) index.
  return rowsByPair<DeviceRow>(
    db,
    `SELECT k.cid::text AS k_a, k.h AS k_b, ${columnsOf('d', DEVICE_COLUMNS)}
       FROM unnest(?::bigint[], ?::text[]) AS k(cid, h)
       JOIN devices d ON d.company_id = k.cid AND lower(d.hostname) = lower(k.h)
     UNION ALL
     SELECT NULL AS k_a, k.h AS k_b, ${columnsOf('d', DEVICE_COLUMNS)}
       FROM unnest(?::text[]) AS k(h)
       JOIN devices d ON d.company_id IS NULL AND lower(d.hostname) = lower(k.h)`,
    [withCompany.map((p) => p.companyId!), withCompany.map((p) => p.hostname), without.map((p) => p.hostname)],
    'devices_by_hostnames',
  );
}

/**
 * R-LINK-7: creates the devices first seen in a batch as discovered, one statement; idempotent
 * under concurrent jobs (the unique (company, lower(hostname)) index decides, rows are inserted in
 * index order so concurrent jobs wait instead of deadlocking). The first row of a host wins its site.
 */
export async function upsertDiscoveredDevices(
  db: Db,
  rows: ReadonlyArray<{ companyId: string | null; hostname: string; site: string | null; seenAt: Date }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `INSERT INTO devices (company_id, hostname, site, discovered, first_seen_at, last_seen_at)
     SELECT cid, h, site, true, seen, seen FROM (
       SELECT DISTINCT ON (cid, lower(h)) cid, h, site, seen
         FROM jsonb_to_recordset(?::jsonb) AS x(cid bigint, h text, site text, seen timestamptz, ord integer)
        ORDER BY cid NULLS FIRST, lower(h), ord
     ) d
     ORDER BY cid NULLS FIRST, lower(h)
     ON CONFLICT (company_id, lower(hostname)) DO UPDATE SET last_seen_at = greatest(devices.last_seen_at, EXCLUDED.last_seen_at)`,
    [JSON.stringify(rows.map((r, ord) => ({ cid: r.companyId, h: r.hostname, site: r.site, seen: r.seenAt.toISOString(), ord })))],
  );
}

/** Records source device ids for devices found by hostname (first claim wins, as one at a time). */
export async function addSourceRefs(db: Db, refs: ReadonlyArray<{ deviceId: string; source: string; ref: string }>): Promise<void> {
  if (refs.length === 0) return;
  await db.raw(
    `INSERT INTO device_source_refs (device_id, source, source_device_id)
     SELECT d, s, r FROM unnest(?::bigint[], ?::text[], ?::text[]) WITH ORDINALITY AS x(d, s, r, ord) ORDER BY s, r, ord
     ON CONFLICT (source, source_device_id) DO NOTHING`,
    [refs.map((r) => r.deviceId), refs.map((r) => r.source), refs.map((r) => r.ref)],
  );
}

/** R-LINK-3 for many (device, date) pairs: the link effective on the date to a contract running on it. Keyed {@link pairKey}(id, date). */
export async function effectiveDeviceContracts(db: Db, pairs: ReadonlyArray<{ id: string; date: string }>): Promise<Map<string, ContractFactRow>> {
  if (pairs.length === 0) return new Map();
  return rowsByPair<ContractFactRow>(
    db,
    `SELECT k.id::text AS k_a, to_char(k.d, 'YYYY-MM-DD') AS k_b, x.*
       FROM unnest(?::bigint[], ?::date[]) AS k(id, d)
       CROSS JOIN LATERAL (
         SELECT ${contractFactColumns}, l.service_id, s.name AS service_name, s.code AS service_code
           FROM device_contract_links l
           JOIN contracts c ON c.id = l.contract_id
           LEFT JOIN services s ON s.id = l.service_id
           LEFT JOIN slas sla ON sla.id = c.sla_id
          WHERE l.device_id = k.id AND l.valid_from <= k.d AND (l.valid_to IS NULL OR l.valid_to >= k.d)
            AND c.start_date <= k.d AND c.end_date >= k.d
          LIMIT 1
       ) x`,
    [pairs.map((p) => p.id), pairs.map((p) => p.date)],
    'effective_device_contracts',
  );
}

/**
 * R-LINK-4 for many (company, date) pairs: the default service-desk contract in effect on the date.
 * Keyed {@link pairKey}(id, date). A contract a renewal deactivated (R-REN-5: it ends the day before
 * the renewal starts) was still the default on its own dates: an alert dated before a back-dated
 * renewal finds it (issue 15 item 6; core activeDefaultContract is the same rule).
 */
export async function activeDefaultContracts(db: Db, pairs: ReadonlyArray<{ id: string; date: string }>): Promise<Map<string, ContractFactRow>> {
  if (pairs.length === 0) return new Map();
  return rowsByPair<ContractFactRow>(
    db,
    `SELECT k.id::text AS k_a, to_char(k.d, 'YYYY-MM-DD') AS k_b, x.*
       FROM unnest(?::bigint[], ?::date[]) AS k(id, d)
       CROSS JOIN LATERAL (
         SELECT ${contractFactColumns}, NULL::bigint AS service_id, NULL AS service_name, NULL AS service_code
           FROM contracts c LEFT JOIN slas sla ON sla.id = c.sla_id
          WHERE c.company_id = k.id AND c.is_default_service_desk
            AND (c.status = 'active' OR EXISTS (SELECT 1 FROM contracts r WHERE r.renewal_of_id = c.id))
            AND c.start_date <= k.d AND c.end_date >= k.d
          ORDER BY c.start_date DESC LIMIT 1
       ) x`,
    [pairs.map((p) => p.id), pairs.map((p) => p.date)],
    'active_default_contracts',
  );
}

/** The lock space of {@link lockDedupKeys} (two-int advisory locks; the one-bigint space is the rulesets'). */
const DEDUP_KEY_LOCK_SPACE = 15_007;

/**
 * R-ALR-4, issue 15 item 7: serializes the receipts of the same dedup keys across workers for the
 * rest of the transaction (advisory locks, in key order like every lock of a job). Needed because a
 * key may have no row to lock yet: a resolved event without a ticket is remembered only by its
 * alert, and a concurrent firing of the same key must see it. Run it before reading the keys'
 * tickets and resolutions, so those reads see what the previous holder committed.
 */
export async function lockDedupKeys(trx: Knex.Transaction, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const sorted = [...new Set(keys)].sort();
  await trx.raw(
    // unnest scans the array in order, so the locks are taken in key order.
    `SELECT pg_advisory_xact_lock(${DEDUP_KEY_LOCK_SPACE}, hashtext(k.key)) FROM unnest(?::text[]) AS k(key)`,
    [sorted],
  ).options(prepared('lock_dedup_keys'));
}

/**
 * Issue 15 item 7: each key's last resolution — the newest occurred_at of a resolved event applied
 * to it (with or without a ticket). Keys without one are absent.
 */
export async function resolvedThroughForKeys(db: Db, keys: readonly string[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  if (keys.length === 0) return out;
  const r = (await db.raw(
    `SELECT k.key, x.at FROM unnest(?::text[]) AS k(key)
      CROSS JOIN LATERAL (
        SELECT a.occurred_at AS at FROM alerts a
         WHERE a.dedup_key = k.key AND a.state = 'resolved' AND a.outcome IS NOT NULL
         ORDER BY a.occurred_at DESC LIMIT 1
      ) x`,
    [[...new Set(keys)]],
  )) as { rows: Array<{ key: string; at: Date }> };
  for (const row of r.rows) out.set(row.key, row.at);
  return out;
}

/**
 * What deciding a receipt's effect reads of its key's ticket (core/tickets' TicketStateInput). Listed,
 * not `t.*`: a prepared statement returning `*` of a table breaks once a migration adds a column
 * (db/prepared.ts), and the rest of the row (the decision, the description) is not needed here.
 */
const KEY_TICKET_COLUMNS = [
  'id',
  'status',
  'resolve_action',
  'first_occurred_at',
  'episode_started_at',
  'last_occurred_at',
  'resolved_at',
  'resolved_automatically',
  'reopen_window_minutes',
] as const satisfies ReadonlyArray<keyof TicketRow>;
export type KeyTicket = Pick<TicketRow, (typeof KEY_TICKET_COLUMNS)[number]>;

/** What {@link lockTicketsForKeys} knows of a dedup key. */
export interface KeyTickets {
  open?: KeyTicket;
  last?: KeyTicket;
  /** The key's last resolution (issue 15 item 7), as {@link resolvedThroughForKeys} reads it. */
  resolvedThrough?: Date;
}

/**
 * R-LINK-7 (issue 15 item 3): the links rules' `link` events make — each device to a contract (and
 * service) from the alert's date, naming the rule. One statement; a device that got a link in the
 * meantime (another worker, an admin) keeps it: the exclusion constraint against overlapping links
 * turns the insert into nothing.
 */
export async function insertRuleLinks(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{ deviceId: string; contractId: string; serviceId: string | null; from: string; rule: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await trx.raw(
    `INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from, created_by_rule, origin)
     SELECT d, c, s, f, r, 'rule' FROM jsonb_to_recordset(?::jsonb) AS x(d bigint, c bigint, s bigint, f date, r text) ORDER BY d, f
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows.map((r) => ({ d: r.deviceId, c: r.contractId, s: r.serviceId, f: r.from, r: r.rule })))],
  );
}

/**
 * R-ALR-4 for many dedup keys: each key's open ticket, else its latest resolved/closed one (for
 * the reopen window), locked, in key order (the order concurrent jobs lock them in) — and the key's
 * last resolution (one statement for both; run it after {@link lockDedupKeys}).
 */
export async function lockTicketsForKeys(trx: Knex.Transaction, keys: readonly string[]): Promise<Map<string, KeyTickets>> {
  const out = new Map<string, KeyTickets>();
  if (keys.length === 0) return out;
  const sorted = [...new Set(keys)].sort();
  const r = (await trx.raw(
    `SELECT k.key AS k_key, x.at AS k_resolved_through, ${KEY_TICKET_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM unnest(?::text[]) WITH ORDINALITY AS k(key, ord)
      LEFT JOIN LATERAL (
        SELECT ${KEY_TICKET_COLUMNS.join(', ')} FROM tickets WHERE dedup_key = k.key ORDER BY (status IN (${OPEN})) DESC, id DESC LIMIT 1 FOR UPDATE
      ) t ON true
      LEFT JOIN LATERAL (
        SELECT a.occurred_at AS at FROM alerts a
         WHERE a.dedup_key = k.key AND a.state = 'resolved' AND a.outcome IS NOT NULL
         ORDER BY a.occurred_at DESC LIMIT 1
      ) x ON true
      ORDER BY k.ord`,
    [sorted],
  ).options(prepared('lock_tickets_for_keys'))) as { rows: Array<KeyTicket & { k_key: string; k_resolved_through: Date | null }> };
  for (const { k_key, k_resolved_through, ...row } of r.rows) {
    const entry: KeyTickets = {};
    if (row.id !== null) {
      if ((OPEN_TICKET_STATUSES as readonly string[]).includes(row.status)) entry.open = row;
      else entry.last = row;
    }
    if (k_resolved_through) entry.resolvedThrough = k_resolved_through;
    out.set(k_key, entry);
  }
  return out;
}

const TICKET_COLUMNS: ReadonlyArray<keyof NewTicket> = [
  'company_id',
  'device_id',
  'contract_id',
  'service_id',
  'sla_id',
  'source',
  'dedup_key',
  'priority',
  'queue',
  'title',
  'description',
  'needs_triage',
  'first_occurred_at',
  'last_occurred_at',
  'first_response_due_at',
  'resolution_plan_due_at',
  'resolution_due_at',
  'stale_after_minutes',
  'reopen_window_minutes',
  'resolve_action',
  'decision',
  'ruleset_version',
];

/**
 * R-ALR-4: creates the tickets of a batch (distinct dedup keys), one statement. Where a concurrent
 * worker created the open ticket of a key first, the partial unique index turns the insert into an
 * occurrence on it. Returns per dedup key the ticket id and whether it was created.
 */
export async function insertTicketsOrCount(trx: Knex.Transaction, tickets: readonly NewTicket[]): Promise<Map<string, { id: string; created: boolean }>> {
  const out = new Map<string, { id: string; created: boolean }>();
  if (tickets.length === 0) return out;
  const cols = TICKET_COLUMNS.map((c) => `"${c}"`).join(', ');
  const r = (await trx.raw(
    `INSERT INTO tickets (${cols})
     SELECT ${cols} FROM jsonb_populate_recordset(NULL::tickets, ?::jsonb) ORDER BY dedup_key
     ON CONFLICT (dedup_key) WHERE status NOT IN ('resolved','closed')
     DO UPDATE SET occurrences = tickets.occurrences + 1,
                   last_occurred_at = greatest(tickets.last_occurred_at, EXCLUDED.last_occurred_at),
                   updated_at = now()
     RETURNING id, dedup_key, (xmax = 0) AS created`,
    [JSON.stringify(tickets)],
  ).options(prepared('insert_tickets_or_count'))) as { rows: Array<{ id: string; dedup_key: string; created: boolean }> };
  for (const row of r.rows) out.set(row.dedup_key, { id: String(row.id), created: row.created });
  return out;
}

/** R-ALR-4: a repeat counts on the open ticket (one statement for the batch; one row per ticket). */
export async function countOccurrences(trx: Knex.Transaction, items: ReadonlyArray<{ ticketId: string; at: Date }>): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `UPDATE tickets t SET occurrences = t.occurrences + 1, last_occurred_at = greatest(t.last_occurred_at, x.at), updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS x(ticket_id bigint, at timestamptz)
      WHERE t.id = x.ticket_id`,
    [JSON.stringify(items.map((i) => ({ ticket_id: i.ticketId, at: i.at.toISOString() })))],
  ).options(prepared('count_occurrences'));
}

/** Automatic resolution of open tickets, their open SLA pause closed and a note each (one statement; one row per ticket). */
export async function resolveTickets(trx: Knex.Transaction, items: ReadonlyArray<{ ticketId: string; at: Date; note: string }>): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `WITH x AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(ticket_id bigint, at timestamptz, note text)),
     t AS (
       UPDATE tickets t SET status = 'resolved', resolved_at = x.at, resolved_automatically = true, sla_paused_at = NULL, updated_at = now()
         FROM x WHERE t.id = x.ticket_id AND t.status IN (${OPEN})
     ),
     p AS (
       UPDATE ticket_sla_pauses p SET resumed_at = x.at FROM x WHERE p.ticket_id = x.ticket_id AND p.resumed_at IS NULL
     )
     INSERT INTO ticket_notes (ticket_id, kind, body, author) SELECT ticket_id, 'auto-resolve', note, 'hub' FROM x`,
    [JSON.stringify(items.map((i) => ({ ticket_id: i.ticketId, at: i.at.toISOString(), note: i.note })))],
  ).options(prepared('resolve_tickets'));
}

export async function addTicketNotes(db: Db, notes: ReadonlyArray<{ ticketId: string; kind: string; body: string }>): Promise<void> {
  if (notes.length === 0) return;
  await db('ticket_notes').insert(notes.map((n) => ({ ticket_id: n.ticketId, kind: n.kind, body: n.body, author: 'hub' })));
}

export interface ReceiptFinish {
  receiptId: string;
  alertId: string;
  outcome: string;
  ticketId: string | null;
  alertStatus: AlertRow['status'];
  decision: unknown;
  rulesetVersion: number | null;
}

/**
 * Marks receipts processed with their outcome and records the decision on their alerts — in the
 * same transaction as the ticket writes (R-ALR-4: a receipt is applied exactly once). One
 * statement; at most one receipt per alert per call.
 */
export async function finishReceipts(trx: Knex.Transaction, items: readonly ReceiptFinish[]): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb)
         AS x(receipt_id bigint, alert_id bigint, outcome text, ticket_id bigint, alert_status text, decision jsonb, ruleset_version integer)
     ),
     rc AS (
       -- enqueued_at too: the intake marks receipts only when they are still waiting after a moment
       -- (AlertEnqueuer), so most are marked here, in the update that happens anyway.
       UPDATE alert_receipts r SET processed_at = now(), enqueued_at = coalesce(r.enqueued_at, now()),
                                   outcome = x.outcome, ticket_id = x.ticket_id, error = NULL
         FROM x WHERE r.id = x.receipt_id
     )
     UPDATE alerts a SET status = x.alert_status, outcome = x.outcome, ticket_id = x.ticket_id, decision = x.decision,
                         ruleset_version = x.ruleset_version, error = NULL, updated_at = now()
       FROM x WHERE a.id = x.alert_id`,
    [
      JSON.stringify(
        items.map((i) => ({
          receipt_id: i.receiptId,
          alert_id: i.alertId,
          outcome: i.outcome,
          ticket_id: i.ticketId,
          alert_status: i.alertStatus,
          decision: i.decision ?? null,
          ruleset_version: i.rulesetVersion,
        })),
      ),
    ],
  ).options(prepared('finish_receipts'));
}
