import { UnrecoverableError, type Job } from 'bullmq';
import { orderReceipts, recordReceiptFailure } from '../db/queries/alert-processing';
import { metrics } from '../lib/metrics';
import { jobCatalog } from './catalog';
import { isPermanent, processReceipt, type PipelineDeps } from './alert-pipeline';

/**
 * The `alerts` queue's processor. A job carries receipt ids only (parsed on pickup, STYLE.md
 * principle 5). Its receipts are applied in one transaction (see below); a retried job skips the
 * receipts already applied. A transient failure retries the job with backoff; a permanent one
 * fails it at once (UnrecoverableError) and the job stays in the failed set with the reason.
 */
export function alertProcessor(deps: PipelineDeps) {
  return async (job: Job): Promise<{ outcomes: Record<string, number> }> => {
    const parsed = jobCatalog.alerts.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid alerts job payload: ${parsed.error.message}`);
    const end = metrics.jobDuration.startTimer({ queue: 'alerts' });
    const outcomes: Record<string, number> = {};
    const permanent: Array<{ receiptId: string; message: string }> = [];
    try {
      // One transaction for the whole job (one commit for up to 200 receipts), a savepoint per
      // receipt: a receipt that fails for good is rolled back alone; anything else fails the job,
      // which rolls back everything and is retried with backoff (no partial rows either way).
      await deps.db.transaction(async (trx) => {
        const ordered = await orderReceipts(trx, parsed.data.receiptIds);
        for (const receiptId of ordered) {
          try {
            const r = await processReceipt(deps, receiptId, trx);
            outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
            deps.logger.debug({ jobId: job.id, receiptId, alertId: r.alertId, outcome: r.outcome, ticketId: r.ticketId }, 'alert receipt applied');
          } catch (err) {
            if (!isPermanent(err)) throw err;
            const message = err instanceof Error ? err.message : String(err);
            const alertId = (await trx('alert_receipts').where({ id: receiptId }).first('alert_id').catch(() => undefined)) as { alert_id: string } | undefined;
            deps.logger.error({ err, jobId: job.id, receiptId, alertId: alertId?.alert_id }, 'receipt failed permanently');
            permanent.push({ receiptId, message });
          }
        }
      });
    } catch (err) {
      metrics.jobFailures.inc({ queue: 'alerts', kind: 'retry' });
      deps.logger.warn({ err, jobId: job.id, receipts: parsed.data.receiptIds.length, attempt: job.attemptsMade + 1 }, 'alerts job failed; it will be retried');
      const message = err instanceof Error ? err.message : String(err);
      await recordReceiptFailure(deps.db, parsed.data.receiptIds, message, false).catch(() => undefined);
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
