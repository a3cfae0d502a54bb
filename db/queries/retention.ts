import type { Knex } from 'knex';
import type { Db } from '../connection';

/**
 * Issue 19, retention: the statements of app/retention/apply-retention.ts. Migration
 * 20261207060000_retention.ts says why audit_log is partitioned by month and the alert tables are
 * not (their global unique keys). Every statement here is bounded: a LIMIT on an index walk, or a
 * whole partition.
 */

/** The kinds whose walk resumes from a mark (retention_marks.kind). */
export type RetentionMarkKind = 'raw-payloads' | 'receipts' | 'deliveries';

/** The mark of a kind, locked for the transaction (one runner per kind at a time). */
export async function lockRetentionMark(db: Db, kind: RetentionMarkKind): Promise<string> {
  const r = (await db.raw(
    `INSERT INTO retention_marks (kind) VALUES (?)
     ON CONFLICT (kind) DO UPDATE SET kind = EXCLUDED.kind
     RETURNING after_id`,
    [kind],
  )) as { rows: { after_id: string }[] };
  return String(r.rows[0]!.after_id);
}

export async function setRetentionMark(db: Db, kind: RetentionMarkKind, afterId: string): Promise<void> {
  await db('retention_marks').where({ kind }).update({ after_id: afterId, updated_at: db.raw('now()') });
}

export interface WalkResult {
  /** The last id handled (the next walk resumes after it); null when nothing was old enough. */
  lastId: string | null;
  /** Rows changed or deleted. */
  changed: number;
  /** Deliveries that may have lost their last reference (candidates for deleteUnreferencedDeliveries). */
  deliveryIds: string[];
  /** The walk reached a row newer than the cutoff, or the end of the table: nothing more to do now. */
  done: boolean;
}

const walkResult = (row: { last_id: string | null; changed: number; done: boolean; delivery_ids?: string[] }): WalkResult => ({
  lastId: row.last_id === null ? null : String(row.last_id),
  changed: row.changed,
  deliveryIds: (row.delivery_ids ?? []).map(String),
  done: row.done,
});

/**
 * The id-ordered walk shared by the statements below: the next `limit` rows after `afterId`, up to
 * (not including) the first one at or after `cutoff` — ids follow time closely, and stopping at the
 * first newer row means no row is ever passed over before it is old enough.
 */
const walk = (table: string, timeColumn: string, columns: string) => `
  scan AS (SELECT id, ${timeColumn} AS t${columns} FROM ${table} WHERE id > ? ORDER BY id LIMIT ?),
  stop AS (SELECT min(id) AS id FROM scan WHERE t >= ?),
  todo AS (SELECT * FROM scan WHERE (SELECT id FROM stop) IS NULL OR id < (SELECT id FROM stop))`;

/** Raw payloads older than the cutoff are emptied (JSON null); the alert and its decision stay. */
export async function emptyRawPayloads(db: Db, afterId: string, cutoff: Date, limit: number): Promise<WalkResult> {
  const r = (await db.raw(
    `WITH ${walk('alerts', 'created_at', '')},
     upd AS (UPDATE alerts a SET raw = 'null'::jsonb FROM todo WHERE a.id = todo.id AND a.raw <> 'null'::jsonb RETURNING a.id)
     SELECT (SELECT max(id) FROM todo) AS last_id, (SELECT count(*) FROM todo) < ? AS done, (SELECT count(*) FROM upd)::int AS changed`,
    <Knex.RawBinding[]>[afterId, limit, cutoff, limit],
  )) as { rows: { last_id: string | null; changed: number; done: boolean }[] };
  return walkResult(r.rows[0]!);
}

/**
 * Processed receipts older than the cutoff are deleted. An unprocessed one (pending, held or
 * dead-lettered) is never deleted: it is work not done.
 */
export async function deleteProcessedReceipts(db: Db, afterId: string, cutoff: Date, limit: number): Promise<WalkResult> {
  const r = (await db.raw(
    `WITH ${walk('alert_receipts', 'received_at', '')},
     del AS (DELETE FROM alert_receipts r USING todo WHERE r.id = todo.id AND r.processed_at IS NOT NULL RETURNING r.delivery_id)
     SELECT (SELECT max(id) FROM todo) AS last_id, (SELECT count(*) FROM todo) < ? AS done, (SELECT count(*) FROM del)::int AS changed,
            array(SELECT DISTINCT delivery_id FROM del) AS delivery_ids`,
    <Knex.RawBinding[]>[afterId, limit, cutoff, limit],
  )) as { rows: { last_id: string | null; changed: number; done: boolean; delivery_ids: string[] }[] };
  return walkResult(r.rows[0]!);
}

/** Deliveries older than the cutoff that no receipt and no alert refers to any more. */
export async function deleteOldUnreferencedDeliveries(db: Db, afterId: string, cutoff: Date, limit: number): Promise<WalkResult> {
  const r = (await db.raw(
    `WITH ${walk('deliveries', 'received_at', '')},
     del AS (DELETE FROM deliveries d USING todo WHERE d.id = todo.id
               AND NOT EXISTS (SELECT 1 FROM alert_receipts r WHERE r.delivery_id = d.id)
               AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.first_delivery_id = d.id)
             RETURNING d.id)
     SELECT (SELECT max(id) FROM todo) AS last_id, (SELECT count(*) FROM todo) < ? AS done, (SELECT count(*) FROM del)::int AS changed`,
    <Knex.RawBinding[]>[afterId, limit, cutoff, limit],
  )) as { rows: { last_id: string | null; changed: number; done: boolean }[] };
  return walkResult(r.rows[0]!);
}

/**
 * These deliveries, where no receipt and no alert refers to them any more (the walk above has
 * passed them while something still did). Indexed look-ups, one per id.
 */
export async function deleteUnreferencedDeliveries(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const r = (await db.raw(
    `DELETE FROM deliveries d WHERE d.id = ANY(?::bigint[])
        AND NOT EXISTS (SELECT 1 FROM alert_receipts r WHERE r.delivery_id = d.id)
        AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.first_delivery_id = d.id)`,
    [ids as string[]],
  )) as { rowCount: number };
  return r.rowCount;
}

/**
 * Alerts quiet since the cutoff (created and last delivered before it) whose ticket is resolved or
 * closed, or that have none — with their receipts. Never an alert of an open ticket, nor one with
 * an unprocessed receipt. Tickets (and their decisions) are not touched. Walks alerts_created_idx
 * from the oldest; rows locked by a worker are skipped until the next run.
 */
export async function deleteQuietAlerts(db: Db, cutoff: Date, limit: number): Promise<{ deleted: number; deliveryIds: string[] }> {
  const r = (await db.raw(
    `WITH todo AS (
       SELECT a.id FROM alerts a
        WHERE a.created_at < ? AND a.updated_at < ?
          AND (a.ticket_id IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = a.ticket_id AND t.status IN ('resolved', 'closed')))
          AND NOT EXISTS (SELECT 1 FROM alert_receipts r WHERE r.alert_id = a.id AND r.processed_at IS NULL)
        ORDER BY a.created_at
        LIMIT ?
        FOR UPDATE OF a SKIP LOCKED
     ), dr AS (
       DELETE FROM alert_receipts r USING todo WHERE r.alert_id = todo.id RETURNING r.delivery_id
     ), da AS (
       DELETE FROM alerts a USING todo WHERE a.id = todo.id RETURNING a.first_delivery_id
     )
     SELECT (SELECT count(*) FROM da)::int AS deleted,
            array(SELECT delivery_id FROM dr UNION SELECT first_delivery_id FROM da) AS delivery_ids`,
    <Knex.RawBinding[]>[cutoff, cutoff, limit],
  )) as { rows: { deleted: number; delivery_ids: string[] }[] };
  const row = r.rows[0]!;
  return { deleted: row.deleted, deliveryIds: row.delivery_ids.map(String) };
}

/** audit_log's partitions: monthly ones (`audit_log_yYYYYmMM`) and the default one. */
export async function listAuditPartitions(db: Db): Promise<string[]> {
  const r = (await db.raw(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_log'::regclass ORDER BY 1`,
  )) as { rows: { name: string }[] };
  return r.rows.map((x) => x.name);
}

/** Serialises partition changes across processes, for the transaction. */
export async function lockAuditPartitions(db: Db): Promise<void> {
  await db.raw(`SELECT pg_advisory_xact_lock(hashtext('hub:audit_log partitions'))`);
}

const PARTITION = /^audit_log_y\d{4}m\d{2}$/;
const checked = (name: string): string => {
  if (!PARTITION.test(name)) throw new Error(`not an audit_log month partition: ${name}`);
  return name;
};

/** A month partition as a table of its own, not yet attached. */
export async function createAuditPartitionTable(db: Db, name: string): Promise<void> {
  await db.raw(`CREATE TABLE ${checked(name)} (LIKE audit_log INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
}

/** Rows of the default partition in [from, to) move to the new month's table (normally none). */
export async function moveAuditRowsFromDefault(db: Db, name: string, from: Date, to: Date): Promise<number> {
  const r = (await db.raw(
    `WITH moved AS (DELETE FROM audit_log_default WHERE at >= ? AND at < ? RETURNING *)
     INSERT INTO ${checked(name)} SELECT * FROM moved`,
    [from, to],
  )) as { rowCount: number };
  return r.rowCount;
}

export async function attachAuditPartition(db: Db, name: string, from: Date, to: Date): Promise<void> {
  await db.raw(`ALTER TABLE audit_log ATTACH PARTITION ${checked(name)} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
}

export async function detachAuditPartition(db: Db, name: string): Promise<void> {
  await db.raw(`ALTER TABLE audit_log DETACH PARTITION ${checked(name)}`);
}

export async function dropAuditPartition(db: Db, name: string): Promise<void> {
  await db.raw(`DROP TABLE ${checked(name)}`);
}

/** Rows of the default partition older than the cutoff (it holds only rows outside every month). */
export async function deleteOldDefaultAudit(db: Db, cutoff: Date, limit: number): Promise<number> {
  const r = (await db.raw(
    `DELETE FROM audit_log_default WHERE ctid = ANY(ARRAY(SELECT ctid FROM audit_log_default WHERE at < ? LIMIT ?))`,
    <Knex.RawBinding[]>[cutoff, limit],
  )) as { rowCount: number };
  return r.rowCount;
}
