import os from 'node:os';
import { Queue, Worker, type Processor } from 'bullmq';
import type { HubConfig } from '../config/env';
import type { Logger } from '../lib/logger';
import type { RedisConnection } from '../lib/redis';
import { jobCatalog, type QueueName } from '../workers/catalog';

/** Every queue of the catalog, on one (producer) connection. */
export function createQueues(connection: RedisConnection, prefix: string, logger: Logger): Record<QueueName, Queue> {
  const queues = {
    alerts: new Queue('alerts', { connection, prefix }),
    renewals: new Queue('renewals', { connection, prefix }),
    upkeep: new Queue('upkeep', { connection, prefix }),
    'rule-replays': new Queue('rule-replays', { connection, prefix }),
  } satisfies Record<QueueName, Queue>;
  for (const q of Object.values(queues)) q.on('error', (e: Error) => logger.debug({ err: e.message, queue: q.name }, 'queue error'));
  return queues;
}

/**
 * The one way a worker is made: the queue's entry in workers/catalog.ts gives its concurrency,
 * lock (and stalled check) and maxStalledCount; the processor is the queue's `*.worker.ts` adapter.
 * Errors of the worker and failed jobs are logged the same way for every queue.
 */
export function createQueueWorker(
  name: QueueName,
  processor: Processor,
  ctx: { connection: RedisConnection; prefix: string; config: HubConfig; logger: Logger },
): Worker {
  const entry = jobCatalog[name];
  const lockSeconds = entry.worker.lockSeconds(ctx.config);
  const worker = new Worker(name, processor, {
    connection: ctx.connection,
    prefix: ctx.prefix,
    concurrency: entry.worker.concurrency(ctx.config),
    // Stored on every job as processedBy: the dashboard (and the fault tests) show which process ran it.
    name: `${os.hostname()}:${process.pid}`,
    // A dead worker's jobs return to the queue after the lock expires and the next stalled check runs.
    ...(lockSeconds === undefined ? {} : { lockDuration: lockSeconds * 1000, stalledInterval: lockSeconds * 1000 }),
    maxStalledCount: entry.maxStalledCount,
  });
  worker.on('error', (e: Error) => ctx.logger.warn({ err: e.message }, `${name} worker error`));
  worker.on('failed', (job, err) => ctx.logger.warn({ jobId: job?.id, err: err.message, attemptsMade: job?.attemptsMade }, `${name} job failed`));
  return worker;
}
