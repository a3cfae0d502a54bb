import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { Knex } from 'knex';
import { applyScheduledRenewal, runScheduledRenewals, type ScheduledRunResult } from '../app/renewals/apply-scheduled';
import { todayIn } from '../core/dates';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { jobCatalog, type JobPayload } from './catalog';
import { upsertSchedules } from './schedules';

export { cronPattern, DAILY_SCHEDULER_ID } from './catalog';

/**
 * The `renewals` queue (R-REN-15), an adapter over app/renewals/apply-scheduled.ts: it parses the
 * job, turns the clock into "today" in the renewal zone and calls the use case. A renewal dated in
 * the future has its date-dependent effects (the original's deactivation, R-REN-5) applied on
 * that date; the daily run (and the catch-up run at start-up) applies every due application and
 * creates the auto-renewals. Applying is idempotent in Postgres (renewal_applications + row
 * lock): two workers, a retry or a rerun after a crash take effect once.
 */

export interface RenewalJobDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  /** Zone whose calendar date is "today" (HUB_RENEWAL_TIMEZONE). @defaultValue 'UTC' */
  timezone?: string;
}

export interface RenewalJobResult extends ScheduledRunResult {
  kind: JobPayload<'renewals'>['kind'];
}

/** Processes one renewals job; `payload` is parsed here (STYLE.md principle 5). */
export async function processRenewalJob(deps: RenewalJobDeps, payload: unknown): Promise<RenewalJobResult> {
  const parsed = jobCatalog.renewals.payload.safeParse(payload);
  if (!parsed.success) throw new UnrecoverableError(`invalid renewals job payload: ${parsed.error.message}`);
  const job = parsed.data;
  const today = todayIn(deps.timezone ?? 'UTC', deps.now());
  const end = metrics.jobDuration.startTimer({ queue: 'renewals' });
  try {
    if (job.kind === 'apply') {
      if (!job.renewalContractId) throw new UnrecoverableError('renewals job "apply" needs renewalContractId');
      return { kind: job.kind, ...(await applyScheduledRenewal(deps, job.renewalContractId, today)) };
    }
    const result = { kind: job.kind, ...(await runScheduledRenewals(deps, today)) };
    deps.logger.info(
      { kind: job.kind, today, applied: result.applied.length, skipped: result.skipped.length, autoRenewed: result.autoRenewed.length, failed: result.failed.length },
      'renewals run done',
    );
    return result;
  } finally {
    end();
  }
}

/**
 * The processor the renewals worker runs: one job, a log line when it did something, and a
 * failed renewal fails the job (it is retried with backoff; applying is idempotent).
 */
export function renewalProcessor(deps: RenewalJobDeps) {
  return async (job: Job): Promise<RenewalJobResult> => {
    const { logger } = deps;
    const result = await processRenewalJob({ ...deps, logger: logger.child({ jobId: job.id }) }, job.data);
    if (result.applied.length || result.autoRenewed.length || result.failed.length) {
      logger.info({ jobId: job.id, kind: result.kind, applied: result.applied, autoRenewed: result.autoRenewed, failed: result.failed }, 'renewal run');
    }
    if (result.failed.length) throw new Error(`renewals failed: ${result.failed.map((f) => `${f.contractId}: ${f.error}`).join('; ')}`);
    return result;
  };
}

/**
 * The daily renewal run at `time` in `timezone` (upserted, so every starting worker may call it),
 * plus one catch-up run now: a job scheduler does not replay runs missed while no worker was up.
 * Duplicate catch-ups are harmless: applying is idempotent in Postgres. (The renewals queue's
 * entries of SCHEDULES in catalog.ts; main/ creates all of them with `ensureSchedules`.)
 */
export async function scheduleRenewals(queue: Queue, opts: { time: string; timezone: string }): Promise<void> {
  await upsertSchedules(queue, 'renewals', { HUB_RENEWAL_TIME: opts.time, HUB_RENEWAL_TIMEZONE: opts.timezone });
}
