import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Knex } from 'knex';
import type { HubConfig } from '../config/env';
import { rulesWindowsOf } from '../db/queries/maintenance-windows';
import { resolveStaleTickets } from '../db/queries/upkeep';
import type { LiveRules } from '../app/rules/live-rules';
import type { AlertEnqueuer } from './alert-queue';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { RedisConnection } from '../lib/redis';
import { jobCatalog, type QueueName } from './catalog';
import { processRenewalJob } from './renewal.worker';
import { processReplayJob } from './rule-replay.worker';
import { SlaCache } from '../db/queries/sla-definitions';
import { ensureSchedules } from './schedules';
import { processEndedWindows } from './window-end';

export interface WorkerServiceDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  queues: Record<QueueName, Queue>;
  connection: RedisConnection;
  prefix: string;
  config: HubConfig;
  enqueuer: AlertEnqueuer;
  rules: LiveRules;
}

/** The queues other than `alerts`: upkeep (stale tickets, window ends), renewals with their schedules (workers/schedules.ts), and rule replays. */
export async function registerWorkerServices(deps: WorkerServiceDeps): Promise<Worker[]> {
  const { db, logger, now, queues, connection, prefix } = deps;
  const upkeep = new Worker(
    'upkeep',
    async (job: Job) => {
      const p = jobCatalog.upkeep.payload.safeParse(job.data);
      if (!p.success) throw new UnrecoverableError(`invalid upkeep payload: ${p.error.message}`);
      const end = metrics.jobDuration.startTimer({ queue: 'upkeep' });
      try {
        if (p.data.kind === 'stale-tickets') {
          const ids = await resolveStaleTickets(db, now());
          if (ids.length) logger.info({ jobId: job.id, tickets: ids }, 'stale tickets resolved');
          return { resolved: ids.length };
        }
        // Alerts still firing when a processAfter maintenance window ends are processed then.
        const r = await processEndedWindows({
          db,
          logger,
          now,
          enqueue: async (ids) => {
            await deps.enqueuer.enqueue(ids);
          },
          rulesWindows: () => rulesWindowsOf(deps.rules.store.current()),
        });
        return r;
      } finally {
        end();
      }
    },
    { connection, prefix, concurrency: 1, maxStalledCount: jobCatalog.upkeep.maxStalledCount },
  );
  upkeep.on('error', (e: Error) => logger.warn({ err: e.message }, 'upkeep worker error'));

  // R-REN-15: scheduled renewals take effect on their date, applied once (Postgres decides).
  const renewals = new Worker(
    'renewals',
    async (job: Job) => {
      const result = await processRenewalJob({ db, logger: logger.child({ jobId: job.id }), now, timezone: deps.config.HUB_RENEWAL_TIMEZONE }, job.data);
      if (result.applied.length || result.autoRenewed.length || result.failed.length) {
        logger.info({ jobId: job.id, kind: result.kind, applied: result.applied, autoRenewed: result.autoRenewed, failed: result.failed }, 'renewal run');
      }
      if (result.failed.length) throw new Error(`renewals failed: ${result.failed.map((f) => `${f.contractId}: ${f.error}`).join('; ')}`);
      return result;
    },
    { connection, prefix, concurrency: 1, maxStalledCount: jobCatalog.renewals.maxStalledCount },
  );
  renewals.on('error', (e: Error) => logger.warn({ err: e.message }, 'renewals worker error'));
  // Replays of candidate rulesets (issue 17 item 2): one at a time per process; each resumes at its cursor.
  const slas = new SlaCache();
  const replays = new Worker('rule-replays', (job: Job) => processReplayJob({ db, slas, logger: logger.child({ queue: 'rule-replays' }) }, job), {
    connection,
    prefix,
    concurrency: 1,
    maxStalledCount: jobCatalog['rule-replays'].maxStalledCount,
  });
  replays.on('error', (e: Error) => logger.warn({ err: e.message }, 'rule-replays worker error'));
  // Also re-created when Redis comes back empty (lib/runtime.ts, issue 13 item 5).
  await ensureSchedules(queues, deps.config);
  return [upkeep, renewals, replays];
}
