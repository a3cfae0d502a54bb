import type { Queue } from 'bullmq';
import type { Knex } from 'knex';
import type { Logger } from '../lib/logger';
import { claimUnenqueuedReceipts, markEnqueued } from '../db/queries/inbox';
import { jobOptions, type JobPayload } from './catalog';

const CHUNK = 200;

/**
 * Puts stored alert receipts on the `alerts` queue. Redis being down never fails the caller: the
 * receipts stay in the Postgres outbox (enqueued_at NULL) and the relay enqueues them later
 * (R-ALR-1). Enqueued receipts are marked in batches, off the request path.
 */
export class AlertEnqueuer {
  private pendingMarks: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: Queue,
    private readonly db: Knex,
    private readonly logger: Logger,
    private readonly addTimeoutMs = 1000,
  ) {}

  /** Returns true when every receipt is on the queue. */
  async enqueue(receiptIds: string[]): Promise<boolean> {
    if (receiptIds.length === 0) return true;
    try {
      const jobs: { name: string; data: JobPayload<'alerts'>; opts: ReturnType<typeof jobOptions> }[] = [];
      for (let i = 0; i < receiptIds.length; i += CHUNK) {
        jobs.push({ name: 'receipts', data: { v: 1, receiptIds: receiptIds.slice(i, i + CHUNK) }, opts: jobOptions('alerts') });
      }
      await withTimeout<unknown>(
        jobs.length === 1 ? this.queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.queue.addBulk(jobs),
        this.addTimeoutMs,
      );
    } catch (err) {
      this.logger.warn({ err: String(err), receipts: receiptIds.length }, 'enqueue failed; receipts stay in the outbox for the relay');
      return false;
    }
    this.pendingMarks.push(...receiptIds);
    this.flushTimer ??= setTimeout(() => void this.flush(), 50);
    return true;
  }

  /** Marks the enqueued receipts (one UPDATE for many requests). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = this.pendingMarks;
    this.pendingMarks = [];
    this.flushing = this.flushing.then(async () => {
      if (ids.length === 0) return;
      try {
        await markEnqueued(this.db, ids);
      } catch (err) {
        // Unmarked receipts are found by the relay and enqueued again; the worker is idempotent.
        this.logger.warn({ err: String(err) }, 'could not mark receipts enqueued');
      }
    });
    return this.flushing;
  }

  /** One relay sweep: enqueues receipts the intake could not. Returns how many were enqueued. */
  async relayOnce(graceSeconds: number): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await claimUnenqueuedReceipts(this.db, { graceSeconds, limit: 1000 });
      if (ids.length === 0) break;
      if (!(await this.enqueue(ids))) break;
      await this.flush();
      total += ids.length;
      if (ids.length < 1000) break;
    }
    if (total > 0) this.logger.info({ receipts: total }, 'relay enqueued receipts from the outbox');
    return total;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`queue add timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Runs relay sweeps every `intervalSeconds` (and once at start). */
export function startRelay(enqueuer: AlertEnqueuer, intervalSeconds: number, logger: Logger): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await enqueuer.relayOnce(Math.min(10, intervalSeconds * 2));
    } catch (err) {
      logger.warn({ err: String(err) }, 'relay sweep failed');
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
