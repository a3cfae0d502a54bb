import { UnrecoverableError, type Job } from 'bullmq';
import { recordReceiptFailure } from '../db/queries/alert-processing';
import { metrics } from '../lib/metrics';
import { jobCatalog } from './catalog';
import { isPermanent, processReceipt, type PipelineDeps } from './alert-pipeline';

/**
 * The `alerts` queue's processor. A job carries receipt ids only (parsed on pickup, STYLE.md
 * principle 5). Receipts are applied one by one, each in its own transaction; a retried job skips
 * the receipts already applied. A transient failure retries the job with backoff; a permanent one
 * fails it at once (UnrecoverableError) and the job stays in the failed set with the reason.
 */
export function alertProcessor(deps: PipelineDeps) {
  return async (job: Job): Promise<{ outcomes: Record<string, number> }> => {
    const parsed = jobCatalog.alerts.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid alerts job payload: ${parsed.error.message}`);
    const end = metrics.jobDuration.startTimer({ queue: 'alerts' });
    const outcomes: Record<string, number> = {};
    const permanent: string[] = [];
    try {
      for (const receiptId of parsed.data.receiptIds) {
        const log = deps.logger.child({ jobId: job.id, receiptId });
        try {
          const r = await processReceipt(deps, receiptId);
          outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
          log.debug({ outcome: r.outcome, ticketId: r.ticketId }, 'receipt processed');
        } catch (err) {
          const perm = isPermanent(err);
          const message = err instanceof Error ? err.message : String(err);
          await recordReceiptFailure(deps.db, receiptId, message, perm).catch(() => undefined);
          log.error({ err, permanent: perm }, 'receipt failed');
          if (!perm) {
            metrics.jobFailures.inc({ queue: 'alerts', kind: 'retry' });
            throw err;
          }
          permanent.push(`${receiptId}: ${message}`);
        }
      }
    } finally {
      end();
    }
    if (permanent.length > 0) {
      metrics.jobFailures.inc({ queue: 'alerts', kind: 'permanent' });
      throw new UnrecoverableError(`receipts failed permanently: ${permanent.join('; ')}`);
    }
    return { outcomes };
  };
}
