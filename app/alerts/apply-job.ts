import { isPgError, PG_CHECK_VIOLATION, PG_NOT_NULL_VIOLATION } from '../../db/pg-errors';
import { orderReceipts, receiptAlertId, recordReceiptFailure } from '../../db/queries/alert-processing';
import { countOutcomes, processReceipts } from './apply-receipts';
import type { PipelineDeps, ReceiptResult } from './deps';
import type { DeliveryRef } from '../psa/outbox';

/**
 * The use case behind one `alerts` job: apply its receipts, set-based, in one transaction
 * (apply-receipts.ts; about ten statements whatever the job's size). A retried job skips the
 * receipts already applied. Should a receipt's data be refused by Postgres for good, the batch is
 * rolled back and the receipts are applied one at a time, each in a savepoint, so only the bad one
 * fails: it is recorded as failed (its alert too) and returned in `permanent`, the others applied.
 * Any other error is thrown as it is (the queue retries the job; see {@link recordFailedAttempt}).
 */
export interface ReceiptJobResult {
  results: ReceiptResult[];
  /** Receipts Postgres refused for good, with the reason; already recorded as failed. */
  permanent: Array<{ receiptId: string; message: string }>;
}

export async function applyReceiptJob(deps: PipelineDeps, receiptIds: readonly string[], ctx: { jobId?: string } = {}): Promise<ReceiptJobResult> {
  const permanent: ReceiptJobResult['permanent'] = [];
  let results: ReceiptResult[];
  let psaOutbox: DeliveryRef[] = [];
  try {
    results = await deps.db.transaction((trx) => processReceipts(deps, receiptIds, trx, psaOutbox));
  } catch (err) {
    if (!isPermanent(err)) throw err;
    deps.logger.warn({ err, jobId: ctx.jobId, receipts: receiptIds.length }, 'a receipt of the batch failed for good; applying them one at a time');
    const applied: ReceiptResult[] = [];
    psaOutbox = [];
    await deps.db.transaction(async (trx) => {
      for (const receiptId of await orderReceipts(trx, [...receiptIds])) {
        try {
          // A savepoint per receipt: the bad one is rolled back alone.
          const recorded: DeliveryRef[] = [];
          applied.push(...(await trx.transaction((sp) => processReceipts(deps, [receiptId], sp, recorded))));
          psaOutbox.push(...recorded);
        } catch (e) {
          if (!isPermanent(e)) throw e;
          const message = e instanceof Error ? e.message : String(e);
          const alertId = await receiptAlertId(trx, receiptId).catch(() => undefined);
          deps.logger.error({ err: e, jobId: ctx.jobId, receiptId, alertId }, 'receipt failed permanently');
          permanent.push({ receiptId, message });
        }
      }
    });
    results = applied;
  }
  // Counted once committed: a rolled-back attempt counts nothing.
  countOutcomes(results);
  if (psaOutbox.length > 0 && deps.psaEnqueue) {
    // Not awaited: the deliveries are committed (the outbox), so their jobs need not hold this alert job
    // — and the next batch behind it — for the Redis round trips of adding them (issue 16: the cost of
    // delivery on the intake → ticket path). An enqueue that fails is logged; the delivery sweep
    // enqueues every pending delivery within HUB_PSA_SWEEP_MS.
    const recorded = psaOutbox;
    void deps.psaEnqueue(recorded).catch((err: unknown) => deps.logger.warn({ err, jobId: ctx.jobId, deliveries: recorded.length }, 'PSA deliveries not enqueued; the delivery sweeper will'));
  }
  // One info line per applied alert (issue 15 item 9): what an operator greps for first. Receipts
  // that were already applied (a retried job) or are gone stay at debug.
  for (const r of results) {
    const line = { jobId: ctx.jobId, receiptId: r.receiptId, alertId: r.alertId, outcome: r.outcome, ticketId: r.ticketId };
    if (r.outcome === 'already_processed' || r.outcome === 'missing') deps.logger.debug(line, 'alert receipt skipped');
    else deps.logger.info(line, 'alert applied');
  }
  for (const p of permanent) await recordReceiptFailure(deps.db, [p.receiptId], p.message, true).catch(() => undefined);
  return { results, permanent };
}

/** A failed attempt of a job that will be retried: recorded on each of its receipts (best effort: the job's own error matters more). */
export async function recordFailedAttempt(deps: Pick<PipelineDeps, 'db'>, receiptIds: readonly string[], err: unknown): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  await recordReceiptFailure(deps.db, [...receiptIds], message, false).catch(() => undefined);
}

/**
 * Errors that retrying cannot fix: data errors (22xxx) and constraint violations other than the
 * unique/exclusion races two workers can run into (those heal on retry).
 */
export function isPermanent(err: unknown): boolean {
  if (!isPgError(err)) return false;
  return err.code.startsWith('22') || err.code === PG_NOT_NULL_VIOLATION || err.code === PG_CHECK_VIOLATION;
}
