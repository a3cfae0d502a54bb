import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { applyReceiptJob, recordFailedAttempt } from '../app/alerts/apply-job';
import type { PipelineDeps } from '../app/alerts/deps';
import { isHubError } from '../core/errors';
import { metrics } from '../lib/metrics';
import { jobCatalog } from './catalog';

/**
 * The `alerts` queue's processor, an adapter: it parses the job (receipt ids only, STYLE.md
 * principle 5), applies its receipts with the use case (app/alerts/apply-job.ts) and reports to
 * BullMQ — a transient failure is thrown so the job retries with backoff; receipts Postgres refused
 * for good fail the job at once (UnrecoverableError), leaving it in the failed set with the reason
 * while the job's other receipts are applied.
 */
export function alertProcessor(deps: PipelineDeps, opts: { notReadyDelayMs?: number } = {}) {
  const notReadyDelayMs = opts.notReadyDelayMs ?? 5000;
  return async (job: Job, token?: string): Promise<{ outcomes: Record<string, number> }> => {
    const parsed = jobCatalog.alerts.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid alerts job payload: ${parsed.error.message}`);
    const ids = parsed.data.receiptIds;
    const end = metrics.jobDuration.startTimer({ queue: 'alerts' });
    let applied;
    try {
      applied = await applyReceiptJob(deps, ids, { jobId: job.id });
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
      await recordFailedAttempt(deps, ids, err);
      throw err;
    } finally {
      end();
    }
    const outcomes: Record<string, number> = {};
    for (const r of applied.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    if (applied.permanent.length > 0) {
      metrics.jobFailures.inc({ queue: 'alerts', kind: 'permanent' });
      throw new UnrecoverableError(`receipts failed permanently: ${applied.permanent.map((p) => `${p.receiptId}: ${p.message}`).join('; ')}`);
    }
    return { outcomes };
  };
}
