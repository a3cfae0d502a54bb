import type { Knex } from 'knex';
import type { Db } from '../connection';
import type { NormalizedAlert } from '../../plugins/types';

export interface StoredDelivery {
  deliveryId: string;
  /** One per normalized alert, in payload order (a repeated alert id maps to the stored alert). */
  alertIds: string[];
  receiptIds: string[];
}

/**
 * R-ALR-1: stores one delivery, its alerts and one receipt per alert atomically, in ONE statement
 * (data-modifying CTEs: one round trip, however many alerts). Alerts are unique per (source,
 * source alert id): a repeated delivery gets the same alert ids back and one more receipt each
 * (R-ALR-4 counts them). The receipts are the transactional outbox: enqueued_at stays NULL until a
 * job carries them.
 */
export async function storeDelivery(
  db: Db,
  d: { sourceId: string; deliveryKey: string | null; bodySha256: string; bodyBytes: number; remoteAddr: string | null; alerts: NormalizedAlert[] },
): Promise<StoredDelivery> {
  if (d.alerts.length === 0) {
    const [delivery] = (await db('deliveries')
      .insert({ source_id: d.sourceId, delivery_key: d.deliveryKey, body_sha256: d.bodySha256, body_bytes: d.bodyBytes, remote_addr: d.remoteAddr })
      .returning('id')) as { id: string }[];
    return { deliveryId: delivery!.id, alertIds: [], receiptIds: [] };
  }
  // One alert event may appear twice in one payload: store it once, answer its id twice.
  const unique = new Map<string, NormalizedAlert>();
  for (const a of d.alerts) if (!unique.has(a.sourceAlertId)) unique.set(a.sourceAlertId, a);
  // Locked in the order a worker transaction takes them (see orderReceipts): no deadlock between a
  // re-delivery's upsert and a job applying the same alerts.
  const key = (a: NormalizedAlert) => `${(a.device.hostname ?? '').toLowerCase()}\u0000${a.device.site ?? ''}\u0000${a.dedupKey}`;
  const list = [...unique.values()].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  // A text[] / timestamptz[] parameter (arrays with NULLs are fine for pg; knex's types only know homogeneous arrays).
  const col = (f: (a: NormalizedAlert) => string | null): object => list.map(f);
  const r = (await db.raw(
    `WITH d AS (
       INSERT INTO deliveries (source_id, delivery_key, body_sha256, body_bytes, remote_addr)
       VALUES (?, ?, ?, ?, ?) RETURNING id
     ), input AS (
       SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[])
         AS t(source_alert_id, dedup_key, state, severity, category, title, message, device_source_id, hostname, site, occurred_at, labels, raw)
     ), a AS (
       INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, category, title, message,
                           device_source_id, hostname, site, occurred_at, labels, raw, first_delivery_id)
       SELECT ?, i.source_alert_id, i.dedup_key, i.state, i.severity, i.category, i.title, i.message,
              i.device_source_id, i.hostname, i.site, i.occurred_at, i.labels::jsonb, i.raw::jsonb, d.id
         FROM input i CROSS JOIN d
       ON CONFLICT (source_id, source_alert_id) DO UPDATE SET receipt_count = alerts.receipt_count + 1, updated_at = now()
       RETURNING id, source_alert_id
     ), r AS (
       INSERT INTO alert_receipts (alert_id, delivery_id) SELECT a.id, d.id FROM a CROSS JOIN d RETURNING id, alert_id
     )
     SELECT d.id AS delivery_id, a.id AS alert_id, a.source_alert_id, r.id AS receipt_id
       FROM a JOIN r ON r.alert_id = a.id CROSS JOIN d
      ORDER BY r.id`,
    <Knex.RawBinding[]>[
      d.sourceId,
      d.deliveryKey,
      d.bodySha256,
      d.bodyBytes,
      d.remoteAddr,
      col((a) => a.sourceAlertId),
      col((a) => a.dedupKey),
      col((a) => a.state),
      col((a) => a.severity),
      col((a) => a.category),
      col((a) => a.title),
      col((a) => a.message),
      col((a) => a.device.sourceDeviceId),
      col((a) => a.device.hostname),
      col((a) => a.device.site),
      col((a) => a.occurredAt),
      col((a) => JSON.stringify(a.labels)),
      col((a) => JSON.stringify(a.raw ?? null)),
      d.sourceId,
    ],
  )) as { rows: { delivery_id: string; alert_id: string; source_alert_id: string; receipt_id: string }[] };
  const idBySourceAlertId = new Map(r.rows.map((x) => [x.source_alert_id, x.alert_id]));
  return {
    deliveryId: r.rows[0]!.delivery_id,
    alertIds: d.alerts.map((a) => idBySourceAlertId.get(a.sourceAlertId)!),
    receiptIds: r.rows.map((x) => x.receipt_id),
  };
}

/** A delivery already stored under the sender's delivery id (retry): its alert ids, in order. */
export async function findDeliveryAlertIds(db: Db, sourceId: string, deliveryKey: string): Promise<string[] | undefined> {
  const delivery = (await db('deliveries').where({ source_id: sourceId, delivery_key: deliveryKey }).first('id')) as
    | { id: string }
    | undefined;
  if (!delivery) return undefined;
  const rows = (await db('alert_receipts').where({ delivery_id: delivery.id }).orderBy('id').select('alert_id')) as { alert_id: string }[];
  return rows.map((r) => r.alert_id);
}

/**
 * Marks receipts enqueued, those not yet processed (a worker marks what it applies itself, see
 * finishReceipts: the intake calls this a moment after the enqueue, so that in the common case
 * there is nothing left to write). Rows a worker holds (its job's transaction locks every receipt it
 * applies until it commits) are skipped, never waited for: a many-row UPDATE waiting there while
 * holding the rows it already updated deadlocks with that job. A skipped receipt is being applied
 * now; should the job roll back, the relay enqueues it again (the worker applies a receipt once).
 */
export async function markEnqueued(db: Db, receiptIds: string[]): Promise<void> {
  if (receiptIds.length === 0) return;
  await db.raw(
    `UPDATE alert_receipts SET enqueued_at = now()
      WHERE id IN (SELECT id FROM alert_receipts WHERE id = ANY(?::bigint[]) AND enqueued_at IS NULL AND processed_at IS NULL
                     FOR UPDATE SKIP LOCKED)`,
    [receiptIds],
  );
}

/**
 * Puts the receipts enqueued before `before` (the database's clock; default now) but not yet
 * processed back in the outbox (enqueued_at NULL), for the relay to enqueue again: used when Redis
 * lost the queue's jobs. Receipts a worker holds right now are skipped (see `markEnqueued`) and
 * counted as `busy`: the caller repeats with the same `before` until none is busy, because a job
 * of the lost Redis that rolls back cannot be retried by BullMQ any more.
 */
export async function returnEnqueuedToOutbox(db: Db, before: Date | null = null): Promise<{ returned: number; busy: number; before: Date }> {
  const r = (await db.raw(
    `WITH cutoff AS (SELECT coalesce(?::timestamptz, now()) AS at),
     pending AS (
       SELECT id FROM alert_receipts WHERE processed_at IS NULL AND enqueued_at < (SELECT at FROM cutoff)
     ), free AS (
       SELECT id FROM alert_receipts WHERE id IN (SELECT id FROM pending) AND processed_at IS NULL FOR UPDATE SKIP LOCKED
     ), returned AS (
       UPDATE alert_receipts SET enqueued_at = NULL WHERE id IN (SELECT id FROM free) RETURNING id
     )
     SELECT (SELECT count(*) FROM returned)::int AS returned,
            ((SELECT count(*) FROM pending) - (SELECT count(*) FROM returned))::int AS busy,
            (SELECT at FROM cutoff) AS before`,
    [before],
  )) as { rows: Array<{ returned: number; busy: number; before: Date }> };
  const row = r.rows[0]!;
  return { returned: row.returned, busy: row.busy, before: row.before };
}

/**
 * The outbox relay's sweep: receipts stored but never put on the queue (Redis was down, or the
 * process died between commit and enqueue), older than `graceSeconds` so the intake's own enqueue
 * is not raced. Claims them with SKIP LOCKED so several relays never take the same rows.
 */
export async function claimUnenqueuedReceipts(db: Db, opts: { graceSeconds: number; limit: number }): Promise<string[]> {
  return db.transaction(async (trx) => {
    const rows = (await trx('alert_receipts')
      .select('id')
      .whereNull('enqueued_at')
      .whereNull('processed_at')
      .where('received_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [opts.graceSeconds]))
      .orderBy('id')
      .limit(opts.limit)
      .forUpdate()
      .skipLocked()) as { id: string }[];
    return rows.map((r) => r.id);
  });
}
