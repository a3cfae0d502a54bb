import type { Knex } from 'knex';
import type { MatchableWindow } from '../../core/maintenance/window-match';
import type { AlertRow } from '../../db/tables';
import type { Db } from '../../db/connection';
import { anyApiWindowExists, findActiveWindow } from '../../db/queries/maintenance-windows';
import { isReleasedReceipt, recordWindowSuppression } from '../../db/queries/window-receipts';

/** What the worker passes (PipelineDeps.maintenanceWindow), plus the receipt it is processing. */
export interface WindowHookContext {
  alert: Pick<AlertRow, 'site' | 'hostname' | 'category'>;
  companyId: string | null;
  deviceId: string | null;
  at: Date;
  /** The receipt being processed (locked by the worker in `trx`). */
  receiptId?: string;
}

/**
 * The function for `PipelineDeps.maintenanceWindow`: the name of the window that silences this
 * firing alert, or null. Given the receipt id, it also (a) lets a receipt released at its window's
 * end through — the alert's own time is still inside the window, so asking again would silence it
 * forever — and (b) records the window on the receipt, in the worker's transaction, so the alert
 * is listed under its window and can be released when the window ends.
 *
 * @param rulesWindows the live ruleset's windows, read per call (the ruleset can change any time).
 * @param opts.ttlMs how long "no API window exists" is trusted (HUB_MAINTENANCE_CACHE_MS). @defaultValue 2000
 */
export function maintenanceWindowHook(rulesWindows: () => readonly MatchableWindow[] = () => [], opts: { ttlMs?: number } = {}) {
  // Most alerts meet no window at all: whether any API window can still apply is cached for a
  // couple of seconds (a new window takes effect within that), so the common case costs no query.
  const ttlMs = opts.ttlMs ?? 2000;
  let anyApiWindow: { at: number; value: Promise<boolean> } | undefined;
  const apiWindowsExist = (db: Db): Promise<boolean> => {
    const now = Date.now();
    if (!anyApiWindow || now - anyApiWindow.at > ttlMs) {
      const value = anyApiWindowExists(db);
      anyApiWindow = { at: now, value };
      value.catch(() => (anyApiWindow = undefined));
    }
    return anyApiWindow.value;
  };
  return async (trx: Knex.Transaction, ctx: WindowHookContext): Promise<string | null> => {
    if (rulesWindows().length === 0 && !(await apiWindowsExist(trx))) return null;
    if (ctx.receiptId && (await isReleasedReceipt(trx, ctx.receiptId))) return null;
    const w = await findActiveWindow(trx, ctx, rulesWindows());
    if (!w) return null;
    if (ctx.receiptId) await recordWindowSuppression(trx, ctx.receiptId, w);
    return w.name;
  };
}
