import { UnrecoverableError, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { replayAttemptFailed, runReplay } from '../app/rules/replay-job';
import type { SlaCache } from '../app/slas/sla-cache';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { jobCatalog } from './catalog';

/**
 * The `rule-replays` queue, an adapter over app/rules/replay-job.ts: parse the job, run (or resume)
 * the replay, and record a failed attempt on its row — the last attempt fails the replay, so
 * `GET /api/v1/rules/replays/:id` never shows "running" for a replay nobody runs.
 */

export interface ReplayJobDeps {
  db: Knex;
  slas: SlaCache;
  logger: Logger;
  /** Alerts per batch. @defaultValue 500 */
  batchSize?: number;
  /** The zone an alert's date is counted in when neither its company nor its SLA has one (HUB_RENEWAL_TIMEZONE), as the worker counts it. @defaultValue 'UTC' */
  fallbackZone?: string | undefined;
}

export async function processReplayJob(deps: ReplayJobDeps, job: Pick<Job, 'id' | 'data' | 'attemptsMade' | 'opts'>): Promise<{ state: string; done: number } | null> {
  const parsed = jobCatalog['rule-replays'].payload.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid rule-replays job payload: ${parsed.error.message}`);
  const { replayId } = parsed.data;
  const end = metrics.jobDuration.startTimer({ queue: 'rule-replays' });
  try {
    const row = await runReplay({ db: deps.db, slas: deps.slas, fallbackZone: deps.fallbackZone, ...(deps.batchSize ? { batchSize: deps.batchSize } : {}) }, replayId);
    if (row) deps.logger.info({ jobId: job.id, replayId, state: row.state, done: row.progress_done, total: row.progress_total }, 'rule replay run');
    return row ? { state: row.state, done: row.progress_done } : null;
  } catch (e) {
    const attempts = job.opts.attempts ?? jobCatalog['rule-replays'].attempts;
    const final = e instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts;
    await replayAttemptFailed(deps.db, replayId, e, final).catch((err: unknown) => deps.logger.warn({ err, replayId }, 'could not record the failed replay attempt'));
    throw e;
  } finally {
    end();
  }
}

/** The processor the rule-replays worker runs (main/ makes the worker from workers/catalog.ts). */
export function replayProcessor(deps: ReplayJobDeps) {
  return (job: Job): Promise<{ state: string; done: number } | null> => processReplayJob({ ...deps, logger: deps.logger.child({ queue: 'rule-replays' }) }, job);
}
