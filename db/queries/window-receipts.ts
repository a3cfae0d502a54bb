import type { Knex } from 'knex';
import { snapshotOf, windowSnapshotSchema, type MatchableWindow, type ReleaseKind, type WindowSnapshot } from '../../core/maintenance/window-match';
import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { AlertRow } from '../tables';

/**
 * The alert receipts maintenance windows silenced (issue 6): recording the window on a receipt,
 * listing what a window silenced, and releasing held receipts when their window ends
 * (app/maintenance/release-held-receipt.ts). The windows themselves are maintenance-windows.ts.
 * One exported function per statement.
 */

// ---- the worker's hook (app/maintenance/window-hook.ts) ----

/** Was this receipt released by its window's end, to be processed normally now? */
export async function isReleasedReceipt(db: Db, receiptId: string): Promise<boolean> {
  const r = (await db('alert_receipts').where('id', receiptId).first('window_release')) as { window_release: string | null } | undefined;
  return r?.window_release === 'requeued';
}

/** Records on the receipt which window silenced it (the worker then finishes it as 'maintenance'). */
export async function recordWindowSuppression(db: Db, receiptId: string, window: MatchableWindow): Promise<void> {
  await db('alert_receipts')
    .where('id', receiptId)
    .update({ maintenance_window: JSON.stringify(snapshotOf(window)) });
}

// ---- what a window silenced ----

export interface WindowAlertRow {
  alert_id: string;
  source_alert_id: string;
  source_name: string;
  dedup_key: string;
  state: AlertRow['state'];
  severity: AlertRow['severity'];
  category: string | null;
  title: string;
  hostname: string | null;
  site: string | null;
  occurred_at: Date;
  status: AlertRow['status'];
  outcome: string | null;
  ticket_id: string | null;
  receipt_id: string;
  received_at: Date;
  window_release: string | null;
  window_released_at: Date | null;
}

/**
 * Alerts a window silenced (newest first), with what became of them: still suppressed, or
 * released when the window ended (and the ticket that was then opened).
 */
export async function listWindowAlerts(db: Db, f: PageRequest & { key: string }): Promise<Page<WindowAlertRow & { id: string }>> {
  const q = db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .join('sources as s', 's.id', 'a.source_id')
    .where('r.maintenance_window_key', f.key)
    .select(
      'r.id as id',
      'r.id as receipt_id',
      'r.received_at',
      'r.window_release',
      'r.window_released_at',
      'a.id as alert_id',
      'a.source_alert_id',
      's.name as source_name',
      'a.dedup_key',
      'a.state',
      'a.severity',
      'a.category',
      'a.title',
      'a.hostname',
      'a.site',
      'a.occurred_at',
      'a.status',
      'a.outcome',
      'a.ticket_id',
    );
  return pageBy<WindowAlertRow & { id: string }>(q, f, 'r.id', 'desc');
}

// ---- releasing what a window held (app/maintenance/process-ended-windows.ts) ----

export interface HeldReceipt {
  id: string;
  alert_id: string;
  dedup_key: string;
  maintenance_window: unknown;
}

/** Receipts silenced by a processAfter window and not yet released, in id order (keyset by `afterId`). */
export async function heldReceipts(db: Db, opts: { afterId: string | null; limit: number }): Promise<Array<HeldReceipt & { snapshot: WindowSnapshot | null }>> {
  const q = db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .whereNotNull('r.maintenance_window')
    .whereNull('r.window_released_at')
    .where('r.outcome', 'maintenance')
    .whereNotNull('r.processed_at')
    .whereRaw("(r.maintenance_window->>'processAfter')::boolean")
    .orderBy('r.id')
    .limit(opts.limit)
    .select('r.id', 'r.alert_id', 'a.dedup_key', 'r.maintenance_window');
  if (opts.afterId) q.where('r.id', '>', opts.afterId);
  const rows = (await q) as HeldReceipt[];
  return rows.map((r) => {
    const s = windowSnapshotSchema.safeParse(r.maintenance_window);
    return { ...r, snapshot: s.success ? s.data : null };
  });
}

/**
 * Takes a held receipt for the rest of the transaction (FOR UPDATE SKIP LOCKED): undefined when it
 * was released already or another run holds it right now.
 */
export async function lockHeldReceipt(trx: Knex.Transaction, receiptId: string): Promise<{ id: string; alert_id: string } | undefined> {
  return (await trx('alert_receipts')
    .where('id', receiptId)
    .whereNull('window_released_at')
    .where('outcome', 'maintenance')
    .forUpdate()
    .skipLocked()
    .first('id', 'alert_id')) as { id: string; alert_id: string } | undefined;
}

/** Whether a resolve, and whether a firing, of the same condition arrived after the receipt. */
export async function laterStatesOfCondition(db: Db, dedupKey: string, afterReceiptId: string): Promise<{ resolved: boolean; firing: boolean }> {
  const later = (await db('alert_receipts as r2')
    .join('alerts as a2', 'a2.id', 'r2.alert_id')
    .where('a2.dedup_key', dedupKey)
    .where('r2.id', '>', afterReceiptId)
    .select(db.raw("bool_or(a2.state = 'resolved') AS resolved"), db.raw("bool_or(a2.state = 'firing') AS firing"))
    .first()) as { resolved: boolean | null; firing: boolean | null } | undefined;
  return { resolved: later?.resolved === true, firing: later?.firing === true };
}

/**
 * Records the release on the receipt; a `requeued` one is also re-opened for the worker
 * (processed_at/enqueued_at NULL, so the outbox relay picks it up even if the caller's enqueue fails).
 */
export async function markReceiptReleased(db: Db, receiptId: string, kind: ReleaseKind, at: Date): Promise<void> {
  const update: Record<string, unknown> = { window_released_at: at, window_release: kind };
  if (kind === 'requeued') Object.assign(update, { processed_at: null, enqueued_at: null, outcome: null, error: null });
  await db('alert_receipts').where('id', receiptId).update(update);
}

/** The alert is waiting for the worker again (its receipt was re-opened). */
export async function markAlertReceived(db: Db, alertId: string): Promise<void> {
  await db('alerts').where('id', alertId).update({ status: 'received', updated_at: db.fn.now() });
}
