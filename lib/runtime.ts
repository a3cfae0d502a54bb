import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import type { Knex } from 'knex';
import { createApp } from '../api/app';
import type { AppDeps } from '../api/context';
import { READINESS, READINESS_DETAILS, type ReadinessCheck, type ReadinessDetail } from '../api/health.route';
import { RECEIPT_JOBS } from '../api/admin/dead-letters/dead-letters.route';
import { ENQUEUER } from '../api/webhooks/webhook.route';
import type { HubConfig } from '../config/env';
import { connectionLimitsOf, createDb } from '../db/connection';
import { maintenanceWindowHook } from '../app/maintenance/window-hook';
import { rulesWindowsOf } from '../db/queries/maintenance-windows';
import { SlaCache } from '../db/queries/sla-definitions';
import { AlertEnqueuer, startRelay } from '../workers/alert-queue';
import { alertProcessor } from '../workers/alert.worker';
import { jobCatalog, jobOptions, type QueueName } from '../workers/catalog';
import { receiptBacklog } from '../db/queries/receipt-recovery';
import { startReceiptSweeper } from '../workers/receipt-sweeper';
import { bullReceiptJobs } from '../workers/receipt-jobs';
import { ensureSchedules } from '../workers/schedules';
import { registerWorkerServices } from '../workers/services';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { checkNoEviction, createRedis, type RedisConnection } from './redis';
import { startRules, type LiveRules } from '../app/rules/live-rules';
import { applySourcesFile } from '../app/sources/sources-file';

export interface HubProcessOptions {
  api: boolean;
  worker: boolean;
  config: HubConfig;
  logger: Logger;
  /** Clock for the pipeline (tests and the demo may pin it). */
  now?: () => Date;
}

export interface HubProcess {
  /** The API's bound port (when `api`). */
  port: number | null;
  db: Knex;
  queues: Record<QueueName, Queue>;
  rules: LiveRules;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

/**
 * Starts an API process, a worker process, or both in one (SPEC §8 `npm start`, `start:api`,
 * `start:worker`). Any number of each may run against one Postgres and one Redis.
 */
export async function startHub(opts: HubProcessOptions): Promise<HubProcess> {
  const { config, logger } = opts;
  const now = opts.now ?? (() => new Date());
  const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_MAX, connectionLimitsOf(config));
  const producerRedis = createRedis(config.REDIS_URL);
  // Redis may be down at start: the API still accepts alerts into the outbox; errors are logged, not thrown.
  producerRedis.on('error', (e: Error) => logger.debug({ err: e.message }, 'redis (producer) error'));
  const connections: RedisConnection[] = [producerRedis];
  const prefix = config.HUB_QUEUE_PREFIX;
  const queues = {
    alerts: new Queue('alerts', { connection: producerRedis, prefix }),
    renewals: new Queue('renewals', { connection: producerRedis, prefix }),
    upkeep: new Queue('upkeep', { connection: producerRedis, prefix }),
    'rule-replays': new Queue('rule-replays', { connection: producerRedis, prefix }),
  } satisfies Record<QueueName, Queue>;
  for (const q of Object.values(queues)) q.on('error', (e: Error) => logger.debug({ err: e.message, queue: q.name }, 'queue error'));

  const closers: Array<() => Promise<void>> = [];
  const readiness: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await db.raw('select 1')) },
    {
      name: 'redis',
      check: async () => {
        if ((await producerRedis.ping()) !== 'PONG') throw new Error('no PONG');
      },
    },
  ];

  if (config.HUB_SOURCES_FILE) {
    try {
      await applySourcesFile(db, config.HUB_SOURCES_FILE, config.HUB_SECRET_KEYS, logger);
    } catch (e) {
      await db.destroy();
      producerRedis.disconnect();
      throw new StartupError(e instanceof Error ? e.message : String(e));
    }
  }

  const rules = await startRules({ db, config, logger, by: `${opts.worker ? 'worker' : 'api'}:${process.pid}` });
  closers.push(() => rules.close());
  readiness.push({ name: 'ruleset', check: async () => rules.assertReady() });

  const retry = { attempts: config.HUB_ALERT_ATTEMPTS, backoffMs: config.HUB_ALERT_BACKOFF_MS };
  const enqueuer = new AlertEnqueuer(queues.alerts, db, logger, { redis: producerRedis, relayIntervalSeconds: config.HUB_RELAY_INTERVAL_SECONDS, retry });
  const relay = startRelay(enqueuer, config.HUB_RELAY_INTERVAL_SECONDS, logger);
  closers.push(async () => {
    relay.stop();
    await enqueuer.drain();
  });
  // Issue 13 item 2: receipts whose job is gone are re-driven (or dead-lettered) by every process.
  const receiptJobs = bullReceiptJobs(queues.alerts, producerRedis, { retry });
  const sweeper = startReceiptSweeper(
    { db, jobs: receiptJobs, logger, graceSeconds: config.HUB_SWEEPER_GRACE_SECONDS, maxRedrives: config.HUB_SWEEPER_MAX_REDRIVES },
    config.HUB_SWEEPER_INTERVAL_SECONDS,
  );
  closers.push(() => sweeper.stop());
  const readinessDetails: ReadinessDetail[] = [
    {
      name: 'receipts',
      // A detail, never a failed check: taking an API out of rotation for an old backlog would stop intake too.
      read: async () => {
        const b = await receiptBacklog(db);
        return { oldestUnprocessedAgeSeconds: b.oldestUnprocessedAgeSeconds === null ? null : Math.round(b.oldestUnprocessedAgeSeconds), unprocessed: b.unprocessed, deadLettered: b.deadLettered };
      },
    },
  ];

  const workers: Worker[] = [];
  // Declared before anything may fail: closeAll() (a refused start) reads them.
  let server: http.Server | null = null;
  let port: number | null = null;
  if (opts.worker) {
    const problem = await checkNoEviction(producerRedis).catch((e: unknown) => `cannot check Redis maxmemory-policy: ${String(e)}`);
    if (problem) {
      await closeAll();
      throw new StartupError(problem);
    }
    const workerRedis = createRedis(config.REDIS_URL, { forWorker: true });
    workerRedis.on('error', (e: Error) => logger.debug({ err: e.message }, 'redis (worker) error'));
    connections.push(workerRedis);
    const slas = new SlaCache();
    const pipeline = {
      db,
      logger,
      now,
      rules,
      slas,
      maintenanceWindow: maintenanceWindowHook(() => rulesWindowsOf(rules.store.current()), { ttlMs: config.HUB_MAINTENANCE_CACHE_MS }),
      scheduleHoldOff: async (receiptId: string, delayMs: number) => {
        await queues.alerts.add('receipts', { v: 1, receiptIds: [receiptId] }, { ...jobOptions('alerts', retry), delay: delayMs, jobId: `hold-${receiptId}` });
      },
    };
    const alertWorker = new Worker('alerts', alertProcessor(pipeline), {
      connection: workerRedis,
      prefix,
      concurrency: config.HUB_WORKER_CONCURRENCY,
      // Stored on every job as processedBy: the dashboard (and the fault tests) show which process ran it.
      name: `${os.hostname()}:${process.pid}`,
      // A dead worker's jobs return to the queue after the lock expires and the next stalled check runs.
      lockDuration: config.HUB_JOB_LOCK_SECONDS * 1000,
      stalledInterval: config.HUB_JOB_LOCK_SECONDS * 1000,
      maxStalledCount: jobCatalog.alerts.maxStalledCount,
    });
    alertWorker.on('error', (e: Error) => logger.warn({ err: e.message }, 'alerts worker error'));
    alertWorker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message, attemptsMade: job?.attemptsMade }, 'alerts job failed'));
    workers.push(alertWorker);
    workers.push(...(await registerWorkerServices({ db, logger, now, queues, connection: workerRedis, prefix, config, enqueuer, rules })));
    // Issue 13 item 5: schedulers live in Redis; when the relay notices Redis lost its data, they
    // are re-created here, not only at the next worker start.
    enqueuer.onQueueLost(async () => {
      await ensureSchedules(queues, config);
      logger.warn('Redis lost its data: job schedulers (upkeep, renewals) re-created');
    });
  }

  if (opts.api) {
    const deps: AppDeps = {
      config,
      db,
      logger,
      services: { [READINESS]: readiness, [READINESS_DETAILS]: readinessDetails, [ENQUEUER]: enqueuer, [RECEIPT_JOBS]: receiptJobs, queues, rules },
    };
    const app = createApp(deps);
    server = http.createServer(app);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, config.HOST, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    logger.info({ port }, 'API listening');
  }
  metrics.rulesetVersion.set(rules.version());

  async function closeAll(): Promise<void> {
    // Stop intake first, then let workers finish (or return) in-flight jobs, then pools.
    if (server) {
      const s = server;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
        setTimeout(() => {
          s.closeAllConnections();
          resolve();
        }, 3000).unref();
      });
    }
    await Promise.allSettled(workers.map((w) => w.close()));
    for (const c of closers.reverse()) await c().catch((e: unknown) => logger.warn({ err: String(e) }, 'close failed'));
    await Promise.allSettled(Object.values(queues).map((q) => q.close()));
    for (const c of connections) c.disconnect();
    await db.destroy();
  }

  return { port, db, queues, rules, close: closeAll };
}
