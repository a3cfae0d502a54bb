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
import { processRenewalJob, scheduleRenewals } from './renewal.worker';
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

/** The queues other than `alerts`: upkeep (stale tickets) and renewals, with their schedules. */
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
    { connection, prefix, concurrency: 1 },
  );
  upkeep.on('error', (e: Error) => logger.warn({ err: e.message }, 'upkeep worker error'));
  await queues.upkeep.upsertJobScheduler('upkeep-stale-tickets', { every: 60_000 }, { name: 'stale-tickets', data: { v: 1, kind: 'stale-tickets' } });
  await queues.upkeep.upsertJobScheduler('upkeep-window-ends', { every: 60_000 }, { name: 'window-ends', data: { v: 1, kind: 'window-ends' } });

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
    { connection, prefix, concurrency: 1 },
  );
  renewals.on('error', (e: Error) => logger.warn({ err: e.message }, 'renewals worker error'));
  await scheduleRenewals(queues.renewals, { time: deps.config.HUB_RENEWAL_TIME, timezone: deps.config.HUB_RENEWAL_TIMEZONE });
  return [upkeep, renewals];
}
