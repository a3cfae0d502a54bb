import type { Knex } from 'knex';
import { releaseHeldReceipt } from './release-held-receipt';
import { timingOfSnapshot, windowHasEnded, type MatchableWindow, type ReleaseKind, type WindowSnapshot } from '../../core/maintenance/window-match';
import { apiWindowById } from '../../db/queries/maintenance-windows';
import { heldReceipts } from '../../db/queries/window-receipts';
import type { Logger } from '../../lib/logger';

/**
 * Maintenance windows with `processAfter` (issue 6): alerts a window silenced that are still
 * firing when it ends — no resolve received since, no later firing of the same condition — are
 * processed then, as if they had just arrived. Run periodically (upkeep job `window-ends`).
 *
 * Idempotent and safe with several workers: each receipt is released once (a row lock plus the
 * `window_released_at` mark, in one transaction), and a released receipt is back in the Postgres
 * outbox, so a failed `enqueue` only delays it until the relay's next sweep.
 */

export interface WindowEndDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  /** Puts receipt ids on the alerts queue (the worker then processes them normally). */
  enqueue: (receiptIds: string[]) => Promise<void>;
  /**
   * The live ruleset's windows. Given, a rules-file window that was removed from the rules counts
   * as ended; not given, rules-file windows are judged by the snapshot stored with each receipt.
   */
  rulesWindows?: () => readonly MatchableWindow[];
  /** Receipts read per batch. @defaultValue 500 */
  batchSize?: number;
}

export interface WindowEndResult {
  /** Held receipts looked at. */
  examined: number;
  /** Receipt ids re-opened for processing. */
  requeued: string[];
  resolved: number;
  superseded: number;
  kept: number;
  /** Held receipts whose window is still in force. */
  waiting: number;
}

interface Current {
  /** null: the window no longer exists (deleted, or removed from the rules): it has ended. */
  window: Pick<MatchableWindow, 'timing' | 'processAfter'> | null;
}

export async function processEndedWindows(deps: WindowEndDeps): Promise<WindowEndResult> {
  const now = deps.now();
  const limit = deps.batchSize ?? 500;
  const result: WindowEndResult = { examined: 0, requeued: [], resolved: 0, superseded: 0, kept: 0, waiting: 0 };
  const definitions = new Map<string, Current>();
  const rules = deps.rulesWindows?.();

  // The window as it stands now decides (an admin who extends a window extends the hold).
  const currentOf = async (s: WindowSnapshot): Promise<Current> => {
    const cached = definitions.get(s.key);
    if (cached) return cached;
    let current: Current;
    if (s.origin === 'api' && s.id) current = { window: await apiWindowById(deps.db, s.id) };
    else if (rules) current = { window: rules.find((w) => w.key === s.key) ?? null };
    else current = { window: { timing: timingOfSnapshot(s), processAfter: s.processAfter } };
    definitions.set(s.key, current);
    return current;
  };

  let afterId: string | null = null;
  for (;;) {
    const batch = await heldReceipts(deps.db, { afterId, limit });
    if (batch.length === 0) break;
    afterId = batch[batch.length - 1]?.id ?? null;
    const requeued: string[] = [];
    for (const r of batch) {
      result.examined += 1;
      if (!r.snapshot) {
        deps.logger.warn({ receiptId: r.id }, 'held receipt has an unreadable maintenance window snapshot; left held');
        continue;
      }
      const { window } = await currentOf(r.snapshot);
      if (window && !windowHasEnded(window.timing, now)) {
        result.waiting += 1;
        continue;
      }
      const processAfter = window ? window.processAfter : r.snapshot.processAfter;
      const kind: ReleaseKind | null = await releaseHeldReceipt(deps, { id: r.id, dedupKey: r.dedup_key, processAfter, now });
      if (kind === null) continue; // another run released it meanwhile
      if (kind === 'requeued') requeued.push(r.id);
      else result[kind] += 1;
      deps.logger.info({ receiptId: r.id, alertId: r.alert_id, window: r.snapshot.name, release: kind }, 'maintenance window ended: receipt released');
    }
    if (requeued.length > 0) {
      result.requeued.push(...requeued);
      try {
        await deps.enqueue(requeued);
      } catch (err) {
        deps.logger.warn({ err: String(err), receipts: requeued.length }, 'enqueue of released receipts failed; the outbox relay will enqueue them');
      }
    }
    if (batch.length < limit) break;
  }
  return result;
}
