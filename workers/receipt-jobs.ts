import type { Queue } from 'bullmq';
import type { ReceiptJobs } from '../app/receipts/receipt-jobs';
import type { RedisConnection } from '../lib/redis';
import { withTimeout } from '../lib/timeout';
import { jobOptions, type JobPayload, type RetryBudget } from './catalog';

/**
 * The receipt use cases' view of the `alerts` queue (app/receipts/receipt-jobs.ts) on BullMQ.
 *
 * Liveness of many jobs in ONE pipelined round trip: per job, does its hash exist, and is it in
 * the failed or completed set. BullMQ keeps a job's hash while it waits, is delayed, prioritized or
 * active (and while it is kept as completed/failed); it removes the hash with the job. So live =
 * hash present and in neither finished set. (All keys share the queue's prefix and hash tag, so
 * the pipeline also works on a Redis Cluster.)
 */
export function bullReceiptJobs(queue: Queue, redis: RedisConnection, opts: { timeoutMs?: number; retry?: RetryBudget } = {}): ReceiptJobs {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const timeout = () => new Error(`Redis did not answer within ${timeoutMs} ms`);
  return {
    async liveJobIds(jobIds) {
      if (jobIds.length === 0) return new Set();
      // `redis` is the queue's own connection (same server, same key space).
      const pipeline = redis.pipeline();
      const failed = queue.toKey('failed');
      const completed = queue.toKey('completed');
      for (const id of jobIds) pipeline.exists(queue.toKey(id)).zscore(failed, id).zscore(completed, id);
      const replies: Array<[Error | null, unknown]> | null = await withTimeout(pipeline.exec(), timeoutMs, timeout);
      if (!replies) throw new Error('Redis pipeline was not executed');
      const live = new Set<string>();
      jobIds.forEach((id, i) => {
        const [exists, inFailed, inCompleted] = [replies[3 * i], replies[3 * i + 1], replies[3 * i + 2]];
        for (const r of [exists, inFailed, inCompleted]) if (!r || r[0]) throw r?.[0] ?? new Error('incomplete pipeline reply');
        if (exists![1] === 1 && inFailed![1] === null && inCompleted![1] === null) live.add(id);
      });
      return live;
    },
    async add(jobs) {
      if (jobs.length === 0) return;
      const o = jobOptions('alerts', opts.retry);
      const bulk = jobs.map((j) => ({
        name: 'receipts',
        data: { v: 1, receiptIds: [...j.receiptIds] } satisfies JobPayload<'alerts'>,
        opts: { ...o, jobId: j.jobId },
      }));
      await withTimeout(queue.addBulk(bulk), timeoutMs, timeout);
    },
  };
}
