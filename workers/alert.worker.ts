import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { isHubError } from '../core/errors';
import { orderReceipts, recordReceiptFailure } from '../db/queries/alert-processing';
import { metrics } from '../lib/metrics';
import { jobCatalog } from './catalog';
import { countOutcomes, isPermanent, processReceipts, type PipelineDeps, type ReceiptResult } from './alert-pipeline';

/**
 * The `alerts` queue's processor. A job carries receipt ids only (parsed on pickup, STYLE.md
 * principle 5). Its receipts are applied set-based in one transaction (processReceipts: about ten
 * statements per job, whatever its size); a retried job skips the receipts already applied. A
 * transient failure retries the job with backoff. A permanent one (a receipt whose data Postgres
 * refuses for good) rolls the batch back and the job applies its receipts one at a time, each in
 * a savepoint, so only the bad receipt fails: the job then fails at once (UnrecoverableError) and
 * stays in the failed set with the reason, the other receipts applied.
 */
export function alertProcessor(deps: PipelineDeps, opts: { notReadyDelayMs?: number } = {}) {
  const notReadyDelayMs = opts.notReadyDelayMs ?? 5000;
  return async (job: Job, token?: string): Promise<{ outcomes: Record<string, number> }> => {
    const parsed = jobCatalog.alerts.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid alerts job payload: ${parsed.error.message}`);
    const ids = parsed.data.receiptIds;
    const end = metrics.jobDuration.startTimer({ queue: 'alerts' });
    const outcomes: Record<string, number> = {};
    const permanent: Array<{ receiptId: string; message: string }> = [];
    const tally = (results: readonly ReceiptResult[]) => {
      countOutcomes(results);
      for (const r of results) {
        outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
        deps.logger.debug({ jobId: job.id, receiptId: r.receiptId, alertId: r.alertId, outcome: r.outcome, ticketId: r.ticketId }, 'alert receipt applied');
      }
    };
    try {
      try {
        tally(await deps.db.transaction((trx) => processReceipts(deps, ids, trx)));
      } catch (err) {
        if (!isPermanent(err)) throw err;
        deps.logger.warn({ err, jobId: job.id, receipts: ids.length }, 'a receipt of the batch failed for good; applying them one at a time');
        const applied: ReceiptResult[] = [];
        await deps.db.transaction(async (trx) => {
          for (const receiptId of await orderReceipts(trx, ids)) {
            try {
              // A savepoint per receipt: the bad one is rolled back alone.
              applied.push(...(await trx.transaction((sp) => processReceipts(deps, [receiptId], sp))));
            } catch (e) {
              if (!isPermanent(e)) throw e;
              const message = e instanceof Error ? e.message : String(e);
              const alertId = (await trx('alert_receipts').where({ id: receiptId }).first('alert_id').catch(() => undefined)) as { alert_id: string } | undefined;
              deps.logger.error({ err: e, jobId: job.id, receiptId, alertId: alertId?.alert_id }, 'receipt failed permanently');
              permanent.push({ receiptId, message });
            }
          }
        });
        tally(applied);
      }
    } catch (err) {
      // No ruleset was ever live (the first rules load was invalid): nothing can be decided, and
      // that is no fault of the job. It waits, without spending an attempt, until one is live —
      // retries with backoff would leave it in the failed set after a few minutes.
      if (isHubError(err) && err.code === 'NOT_READY' && token) {
        deps.logger.warn({ jobId: job.id, receipts: ids.length, retryInMs: notReadyDelayMs }, 'no ruleset is live: the alerts job waits for one');
        await job.moveToDelayed(Date.now() + notReadyDelayMs, token);
        throw new DelayedError();
      }
      metrics.jobFailures.inc({ queue: 'alerts', kind: 'retry' });
      deps.logger.warn({ err, jobId: job.id, receipts: ids.length, attempt: job.attemptsMade + 1 }, 'alerts job failed; it will be retried');
      const message = err instanceof Error ? err.message : String(err);
      await recordReceiptFailure(deps.db, ids, message, false).catch(() => undefined);
      throw err;
    } finally {
      end();
    }
    for (const p of permanent) await recordReceiptFailure(deps.db, [p.receiptId], p.message, true).catch(() => undefined);
    if (permanent.length > 0) {
      metrics.jobFailures.inc({ queue: 'alerts', kind: 'permanent' });
      throw new UnrecoverableError(`receipts failed permanently: ${permanent.map((p) => `${p.receiptId}: ${p.message}`).join('; ')}`);
    }
    return { outcomes };
  };
}
