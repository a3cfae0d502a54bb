import type { Knex } from 'knex';
import type { Db } from '../connection';
import { prepared } from '../prepared';
import type { NormalizedAlert } from '../../core/alerts/normalized-alert';

export interface StoredDelivery {
  deliveryId: string;
  /** One per normalized alert, in payload order (a repeated alert id maps to the stored alert). */
  alertIds: string[];
  receiptIds: string[];
}

export interface NewDelivery {
  sourceId: string;
  deliveryKey: string | null;
  bodySha256: string;
  bodyBytes: number;
  remoteAddr: string | null;
  alerts: NormalizedAlert[];
}

/**
 * R-ALR-1: stores one delivery, its alerts and one receipt per alert atomically, in ONE statement.
 * See {@link storeDeliveries}.
 */
export async function storeDelivery(db: Db, d: NewDelivery): Promise<StoredDelivery> {
  const [stored] = await storeDeliveries(db, [d]);
  return stored!;
}

/**
 * R-ALR-1: stores deliveries (the webhook intake groups concurrent requests), their alerts and one
 * receipt per alert and delivery atomically, in ONE statement (data-modifying CTEs: one round trip
 * and one commit, however many). Alerts are unique per (source, source alert id): a repeated
 * delivery gets the same alert ids back and one more receipt each (R-ALR-4 counts them) — also
 * when both are in the same call. The receipts are the transactional outbox: enqueued_at stays NULL
 * until a job carries them. Returns one result per delivery, in order.
 */
export async function storeDeliveries(db: Db, deliveries: readonly NewDelivery[]): Promise<StoredDelivery[]> {
  if (deliveries.length === 0) return [];
  // One alert event may appear twice in one payload: store it once, answer its id twice.
  const rows: Array<{ dord: number; a: NormalizedAlert; sourceId: string }> = [];
  deliveries.forEach((d, dord) => {
    const unique = new Map<string, NormalizedAlert>();
    for (const a of d.alerts) if (!unique.has(a.sourceAlertId)) unique.set(a.sourceAlertId, a);
    for (const a of unique.values()) rows.push({ dord, a, sourceId: String(d.sourceId) });
  });
  // Locked in the order a worker transaction takes them (see lockReceipts): no deadlock between a
  // re-delivery's upsert and a job applying the same alerts.
  const key = (x: { a: NormalizedAlert }) => `${(x.a.device.hostname ?? '').toLowerCase()}\u0000${x.a.device.site ?? ''}\u0000${x.a.dedupKey}`;
  rows.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : x.dord - y.dord));
  // The first row of an alert (by delivery) is the one stored; n counts its receipts in this call.
  const seen = new Map<string, { first: number; n: number }>();
  rows.forEach((x, i) => {
    const k = `${x.sourceId}\u0000${x.a.sourceAlertId}`;
    const s = seen.get(k);
    if (!s) seen.set(k, { first: i, n: 1 });
    else {
      s.n += 1;
      if (x.dord < rows[s.first]!.dord) s.first = i;
    }
  });
  const first = rows.map(() => false);
  const count = rows.map(() => 0);
  for (const s of seen.values()) {
    first[s.first] = true;
    count[s.first] = s.n;
  }
  // Array parameters (arrays with NULLs are fine for pg; knex's types only know homogeneous arrays).
  const col = (f: (x: (typeof rows)[number]) => unknown): object => rows.map(f);
  const r = (await db.raw(
    `WITH dd AS (
       SELECT t.ord, nextval(pg_get_serial_sequence('deliveries', 'id')) AS id, t.source_id, t.delivery_key, t.body_sha256, t.body_bytes, t.remote_addr
         FROM unnest(?::int[], ?::bigint[], ?::text[], ?::text[], ?::int[], ?::text[])
           AS t(ord, source_id, delivery_key, body_sha256, body_bytes, remote_addr)
     ), d AS (
       INSERT INTO deliveries (id, source_id, delivery_key, body_sha256, body_bytes, remote_addr) OVERRIDING SYSTEM VALUE
       SELECT id, source_id, delivery_key, body_sha256, body_bytes, remote_addr FROM dd ORDER BY ord
     ), input AS (
       SELECT * FROM unnest(?::int[], ?::int[], ?::bigint[], ?::boolean[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[])
         AS t(rord, dord, source_id, first, n, source_alert_id, dedup_key, state, severity, category, title, message, device_source_id, hostname, site, occurred_at, labels, raw)
     ), a AS (
       INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, category, title, message,
                           device_source_id, hostname, site, occurred_at, labels, raw, receipt_count, first_delivery_id)
       SELECT i.source_id, i.source_alert_id, i.dedup_key, i.state, i.severity, i.category, i.title, i.message,
              i.device_source_id, i.hostname, i.site, i.occurred_at, i.labels::jsonb, i.raw::jsonb, i.n, dd.id
         FROM input i JOIN dd ON dd.ord = i.dord
        WHERE i.first
        ORDER BY i.rord
       ON CONFLICT (source_id, source_alert_id) DO UPDATE SET receipt_count = alerts.receipt_count + EXCLUDED.receipt_count, updated_at = now()
       RETURNING id, source_id, source_alert_id
     ), r AS (
       INSERT INTO alert_receipts (alert_id, delivery_id)
       SELECT a.id, dd.id FROM input i JOIN dd ON dd.ord = i.dord JOIN a ON a.source_id = i.source_id AND a.source_alert_id = i.source_alert_id
        ORDER BY i.rord
       RETURNING id, alert_id, delivery_id
     )
     SELECT dd.ord, dd.id AS delivery_id, r.alert_id, a.source_alert_id, r.id AS receipt_id
       FROM dd LEFT JOIN r ON r.delivery_id = dd.id LEFT JOIN a ON a.id = r.alert_id
      ORDER BY dd.ord, r.id`,
    <Knex.RawBinding[]>[
      deliveries.map((_, i) => i),
      deliveries.map((d) => String(d.sourceId)),
      deliveries.map((d) => d.deliveryKey),
      deliveries.map((d) => d.bodySha256),
      deliveries.map((d) => d.bodyBytes),
      deliveries.map((d) => d.remoteAddr),
      rows.map((_, i) => i),
      col((x) => x.dord),
      col((x) => x.sourceId),
      first,
      count,
      col((x) => x.a.sourceAlertId),
      col((x) => x.a.dedupKey),
      col((x) => x.a.state),
      col((x) => x.a.severity),
      col((x) => x.a.category),
      col((x) => x.a.title),
      col((x) => x.a.message),
      col((x) => x.a.device.sourceDeviceId),
      col((x) => x.a.device.hostname),
      col((x) => x.a.device.site),
      col((x) => x.a.occurredAt),
      col((x) => JSON.stringify(x.a.labels)),
      col((x) => JSON.stringify(x.a.raw ?? null)),
    ],
  ).options(prepared('store_deliveries'))) as { rows: { ord: number; delivery_id: string; alert_id: string | null; source_alert_id: string | null; receipt_id: string | null }[] };
  const out: StoredDelivery[] = deliveries.map(() => ({ deliveryId: '', alertIds: [], receiptIds: [] }));
  const idsBy = deliveries.map(() => new Map<string, string>());
  for (const row of r.rows) {
    const o = out[row.ord]!;
    o.deliveryId = String(row.delivery_id);
    if (row.receipt_id === null) continue;
    o.receiptIds.push(String(row.receipt_id));
    idsBy[row.ord]!.set(row.source_alert_id!, String(row.alert_id));
  }
  deliveries.forEach((d, i) => {
    out[i]!.alertIds = d.alerts.map((a) => idsBy[i]!.get(a.sourceAlertId)!);
  });
  return out;
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
export async function markEnqueued(db: Db, receiptIds: string[], jobIds?: readonly string[]): Promise<void> {
  if (receiptIds.length === 0) return;
  // job_id (issue 13 item 2): the job that carries each receipt, so the receipt sweeper can ask
  // Redis whether it is still live. `jobIds[i]` belongs to `receiptIds[i]`.
  await db.raw(
    `UPDATE alert_receipts r SET enqueued_at = now(), job_id = m.job_id
       FROM unnest(?::bigint[], ?::text[]) AS m(id, job_id)
      WHERE r.id = m.id
        AND r.id IN (SELECT id FROM alert_receipts WHERE id = ANY(?::bigint[]) AND enqueued_at IS NULL AND processed_at IS NULL
                       AND dead_lettered_at IS NULL FOR UPDATE SKIP LOCKED)`,
    <Knex.RawBinding[]>[receiptIds, receiptIds.map((_, i) => jobIds?.[i] ?? null), receiptIds],
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
       SELECT id FROM alert_receipts WHERE processed_at IS NULL AND dead_lettered_at IS NULL AND enqueued_at < (SELECT at FROM cutoff)
     ), free AS (
       SELECT id FROM alert_receipts WHERE id IN (SELECT id FROM pending) AND processed_at IS NULL FOR UPDATE SKIP LOCKED
     ), returned AS (
       -- A dead-lettered receipt stays so (an operator decided); the lost queue changes nothing there.
       UPDATE alert_receipts SET enqueued_at = NULL, job_id = NULL WHERE id IN (SELECT id FROM free) RETURNING id
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
      .whereNull('dead_lettered_at')
      .where('received_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [opts.graceSeconds]))
      .orderBy('id')
      .limit(opts.limit)
      .forUpdate()
      .skipLocked()) as { id: string }[];
    return rows.map((r) => r.id);
  });
}
