import type { Knex } from 'knex';
import { releaseKindOf, type ReleaseKind } from '../../core/maintenance/window-match';
import { laterStatesOfCondition, lockHeldReceipt, markAlertReceived, markReceiptReleased } from '../../db/queries/window-receipts';

/**
 * Releases one held receipt when its window ended, once, in its own transaction: locks it
 * (skipping one another run holds), asks core which release it is (releaseKindOf) and records it;
 * a requeued receipt's alert waits for the worker again. Returns the kind, or null when it was
 * already released (or another run is releasing it).
 */
export async function releaseHeldReceipt(
  deps: { db: Knex },
  r: { id: string; dedupKey: string; processAfter: boolean; now: Date },
): Promise<ReleaseKind | null> {
  return deps.db.transaction(async (trx) => {
    const locked = await lockHeldReceipt(trx, r.id);
    if (!locked) return null;
    // Only a window that still asks to process after needs to know what came later.
    const later = r.processAfter ? await laterStatesOfCondition(trx, r.dedupKey, r.id) : { resolved: false, firing: false };
    const kind = releaseKindOf(r.processAfter, later);
    await markReceiptReleased(trx, r.id, kind, r.now);
    if (kind === 'requeued') await markAlertReceived(trx, String(locked.alert_id));
    return kind;
  });
}
