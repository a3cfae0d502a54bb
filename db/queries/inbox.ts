import type { Db } from '../connection';
import type { NormalizedAlert } from '../../plugins/types';

export interface StoredDelivery {
  deliveryId: string;
  /** One per normalized alert, in payload order (a repeated alert id maps to the stored alert). */
  alertIds: string[];
  receiptIds: string[];
}

/**
 * R-ALR-1: stores one delivery, its alerts and one receipt per alert in one transaction, with
 * one statement per table (not one per alert). Alerts are unique per (source, source alert id):
 * a repeated delivery gets the same alert ids back and one more receipt each (R-ALR-4 counts them).
 * The receipts are the transactional outbox: enqueued_at stays NULL until a job carries them.
 */
export async function storeDelivery(
  db: Db,
  d: { sourceId: string; deliveryKey: string | null; bodySha256: string; bodyBytes: number; remoteAddr: string | null; alerts: NormalizedAlert[] },
): Promise<StoredDelivery> {
  return db.transaction(async (trx) => {
    const [delivery] = (await trx('deliveries')
      .insert({
        source_id: d.sourceId,
        delivery_key: d.deliveryKey,
        body_sha256: d.bodySha256,
        body_bytes: d.bodyBytes,
        remote_addr: d.remoteAddr,
      })
      .returning('id')) as { id: string }[];
    const deliveryId = delivery!.id;
    if (d.alerts.length === 0) return { deliveryId, alertIds: [], receiptIds: [] };

    // One alert event may appear twice in one payload: store it once, answer its id twice.
    const unique = new Map<string, NormalizedAlert>();
    for (const a of d.alerts) if (!unique.has(a.sourceAlertId)) unique.set(a.sourceAlertId, a);
    const rows = [...unique.values()].map((a) => ({
      source_id: d.sourceId,
      source_alert_id: a.sourceAlertId,
      dedup_key: a.dedupKey,
      state: a.state,
      severity: a.severity,
      category: a.category,
      title: a.title,
      message: a.message,
      device_source_id: a.device.sourceDeviceId,
      hostname: a.device.hostname,
      site: a.device.site,
      occurred_at: a.occurredAt,
      labels: JSON.stringify(a.labels),
      raw: JSON.stringify(a.raw ?? null),
      first_delivery_id: deliveryId,
    }));
    // ON CONFLICT … DO UPDATE so RETURNING yields the id of an existing alert too.
    const stored = (await trx('alerts')
      .insert(rows)
      .onConflict(['source_id', 'source_alert_id'])
      .merge({ receipt_count: trx.raw('alerts.receipt_count + 1'), updated_at: trx.fn.now() })
      .returning(['id', 'source_alert_id'])) as { id: string; source_alert_id: string }[];
    const idBySourceAlertId = new Map(stored.map((r) => [r.source_alert_id, r.id]));
    const receipts = (await trx('alert_receipts')
      .insert(stored.map((r) => ({ alert_id: r.id, delivery_id: deliveryId })))
      .returning('id')) as { id: string }[];
    return {
      deliveryId,
      alertIds: d.alerts.map((a) => idBySourceAlertId.get(a.sourceAlertId)!),
      receiptIds: receipts.map((r) => r.id),
    };
  });
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

export async function markEnqueued(db: Db, receiptIds: string[]): Promise<void> {
  if (receiptIds.length === 0) return;
  await db('alert_receipts').whereIn('id', receiptIds).whereNull('enqueued_at').update({ enqueued_at: db.fn.now() });
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
