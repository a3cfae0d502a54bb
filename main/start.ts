import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue, Worker } from 'bullmq';
import type { Knex } from 'knex';
import { createApp } from '../api/app';
import type { AppDeps, ReadinessCheck, ReadinessDetail } from '../api/context';
import { maintenanceWindowHook } from '../app/maintenance/window-hook';
import { sweepReceipts } from '../app/receipts/sweeper';
import { startRules, type LiveRules } from '../app/rules/live-rules';
import { applySourcesFile } from '../app/sources/sources-file';
import type { HubConfig } from '../config/env';
import { connectionLimitsOf, createDb } from '../db/connection';
import { rulesWindowsOf } from '../app/maintenance/ruleset-windows';
import { receiptBacklog } from '../db/queries/receipt-recovery';
import { SlaCache } from '../app/slas/sla-cache';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { startPeriodic } from '../lib/periodic';
import { checkNoEviction, createRedis, type RedisConnection } from '../lib/redis';
import { AlertEnqueuer, relayGraceSeconds } from '../workers/alert-queue';
import { batchedAlertProcessor } from '../workers/alert-batcher';
import { jobOptions, PROCESS_TIMERS, type ProcessTimerName, type QueueName } from '../workers/catalog';
import { bullReceiptJobs } from '../workers/receipt-jobs';
import { renewalProcessor } from '../workers/renewal.worker';
import { replayProcessor } from '../workers/rule-replay.worker';
import { ensureSchedules } from '../workers/schedules';
import { upkeepProcessor } from '../workers/upkeep.worker';
import { psaCallBudgetFor } from './psa-call-budget';
import { retentionPolicyOf } from '../app/retention/apply-retention';
import { PsaDeliveryService, PsaEnqueuer } from '../workers/psa-delivery';
import { createQueues, createQueueWorker } from './workers';

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
  const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_MAX, connectionLimitsOf(config), {
    warn: (message: unknown) => logger.warn({ knex: String(message) }, 'database client warning'),
    error: (message: unknown) => logger.error({ knex: String(message) }, 'database client error'),
    deprecate: (method: string, alternative: string) => logger.warn({ method, alternative }, 'database client deprecation'),
    debug: (message: unknown) => logger.debug({ knex: String(message) }, 'database client debug'),
  });
  const producerRedis = createRedis(config.REDIS_URL);
  // Redis may be down at start: the API still accepts alerts into the outbox; errors are logged, not thrown.
  producerRedis.on('error', (e: Error) => logger.debug({ err: e.message }, 'redis (producer) error'));
  const connections: RedisConnection[] = [producerRedis];
  const prefix = config.HUB_QUEUE_PREFIX;
  const queues = createQueues(producerRedis, prefix, logger);

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
  // Issue 16: PSA delivery queues (one per connection); API and worker processes both enqueue.
  const psaEnqueuer = new PsaEnqueuer({ connection: producerRedis, prefix, config, logger });
  closers.push(() => psaEnqueuer.close());
  const enqueuer = new AlertEnqueuer(queues.alerts, db, logger, { redis: producerRedis, relayIntervalSeconds: config.HUB_RELAY_INTERVAL_SECONDS, retry });
  // The process timers of workers/catalog.ts PROCESS_TIMERS, in every process (API and worker).
  // Issue 13 item 2: receipts whose job is gone are re-driven (or dead-lettered) by every process.
  const receiptJobs = bullReceiptJobs(queues.alerts, producerRedis, { retry });
  const timerTicks: Record<ProcessTimerName, () => Promise<unknown>> = {
    relay: () => enqueuer.relayOnce(relayGraceSeconds(config.HUB_RELAY_INTERVAL_SECONDS)),
    'receipt-sweep': () =>
      sweepReceipts({ db, jobs: receiptJobs, logger, graceSeconds: config.HUB_SWEEPER_GRACE_SECONDS, maxRedrives: config.HUB_SWEEPER_MAX_REDRIVES }),
  };
  // Stopped in reverse: the timers first, then what the intake coalesced is sent and marked.
  closers.push(() => enqueuer.drain());
  for (const name of Object.keys(PROCESS_TIMERS) as ProcessTimerName[]) {
    const t = PROCESS_TIMERS[name];
    const timer = startPeriodic(timerTicks[name], {
      everySeconds: t.everySeconds(config),
      firstAfterSeconds: t.firstAfterSeconds(config),
      onError: (err) => logger.warn({ err: String(err), timer: name }, `${name} failed; tried again at the next interval`),
    });
    closers.push(async () => {
      const stopped = timer.stop();
      if (t.waitOnStop) await stopped;
    });
  }
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
    const pipeline = {
      db,
      logger,
      now,
      rules,
      slas: new SlaCache(),
      fallbackZone: config.HUB_RENEWAL_TIMEZONE,
      maintenanceWindow: maintenanceWindowHook(() => rulesWindowsOf(rules.store.current()), { ttlMs: config.HUB_MAINTENANCE_CACHE_MS }),
      scheduleHoldOff: async (receiptId: string, delayMs: number) => {
        await queues.alerts.add('receipts', { v: 1, receiptIds: [receiptId] }, { ...jobOptions('alerts', retry), delay: delayMs, jobId: `hold-${receiptId}` });
      },
      psaEnqueue: (refs: Parameters<PsaEnqueuer['enqueueRecorded']>[0]) => psaEnqueuer.enqueueRecorded(refs),
    };
    const psaDelivery = new PsaDeliveryService({ db, logger, now, config, connection: workerRedis, producer: producerRedis, prefix, enqueuer: psaEnqueuer });
    await psaDelivery.start();
    // Closed before the enqueuer (closers run in reverse): in-flight deliveries finish or keep their lease.
    closers.push(() => psaDelivery.close());
    // Every queue of the catalog gets its worker the same way; only the processors differ.
    const processors: Record<QueueName, Parameters<typeof createQueueWorker>[1]> = {
      // The jobs running at once in this process applied together, in one transaction (issue 19).
      alerts: batchedAlertProcessor(pipeline),
      renewals: renewalProcessor({ db, logger, now, timezone: config.HUB_RENEWAL_TIMEZONE }),
      upkeep: upkeepProcessor({
        db,
        logger,
        now,
        enqueue: async (ids) => {
          await enqueuer.enqueue(ids);
        },
        rulesWindows: () => rulesWindowsOf(rules.store.current()),
        secretKeys: config.HUB_SECRET_KEYS,
        connectorDeps: { autotaskZoneLookupUrl: config.HUB_AUTOTASK_ZONE_LOOKUP_URL, timeoutMs: config.HUB_PSA_TIMEOUT_MS },
        psaCallBudget: psaCallBudgetFor(producerRedis, config),
        retention: retentionPolicyOf(config),
      }),
      'rule-replays': replayProcessor({ db, slas: new SlaCache(), logger, fallbackZone: config.HUB_RENEWAL_TIMEZONE }),
    };
    for (const name of Object.keys(processors) as QueueName[])
      workers.push(createQueueWorker(name, processors[name], { connection: workerRedis, prefix, config, logger }));
    await ensureSchedules(queues, config);
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
      services: {
        readiness,
        readinessDetails,
        alertEnqueuer: enqueuer,
        receiptJobs,
        queues,
        rules,
        psaEnqueuer,
        // An import or a test asked through the API waits up to 30 s for a call (the request is open meanwhile).
        psaCallBudget: psaCallBudgetFor(producerRedis, config, { maxWaitMs: 30_000, retryHint: 'try again in a minute, or raise the connection’s rateLimitPerHour' }),
      },
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
