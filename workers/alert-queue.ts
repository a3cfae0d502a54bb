import crypto from 'node:crypto';
import type { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import type { Knex } from 'knex';
import type { Logger } from '../lib/logger';
import type { RedisConnection } from '../lib/redis';
import { claimUnenqueuedReceipts, markEnqueued, returnEnqueuedToOutbox } from '../db/queries/inbox';
import { withTimeout } from '../lib/timeout';
import { jobOptions, type JobPayload, type RetryBudget } from './catalog';
import { EnqueueWindow } from './enqueue-window';

const CHUNK = 200;
/** How long a receipt may wait unenqueued before the relay enqueues it: twice its interval, at most 10 s. */
export const relayGraceSeconds = (intervalSeconds: number): number => Math.min(10, intervalSeconds * 2);

/**
 * Puts stored alert receipts on the `alerts` queue. Redis being down never fails the caller: the
 * receipts stay in the Postgres outbox (enqueued_at NULL) and the relay enqueues them later
 * (R-ALR-1). Enqueued receipts are marked in batches, off the request path.
 */
export class AlertEnqueuer {
  /** Receipts enqueued but not yet marked, each with the job that carries it (same index). */
  private pendingMarks: string[] = [];
  private pendingMarkJobs: string[] = [];
  private readonly lostListeners: Array<() => Promise<void>> = [];
  private readonly retry: RetryBudget;
  private pendingEnqueue: string[] = [];
  private enqueueTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<boolean>>();
  /** How long enqueueSoon holds receipts: longer when they arrive fast (fewer, larger jobs). */
  private readonly window = new EnqueueWindow();

  private readonly addTimeoutMs: number;
  /**
   * How long after the enqueue the intake marks receipts enqueued: half the relay's grace. A worker
   * that applies a receipt marks it in the same update (finishReceipts), so when the workers keep
   * up there is nothing left to write; a backlog is marked then, before the relay would take it.
   */
  private readonly markDelayMs: number;
  private readonly redis: RedisConnection | undefined;
  /** The outbox marker's value at the last sweep. */
  private markerSeen: string | undefined;
  /** The Redis server's replication id at the last sweep (a failover changes it). */
  private replidSeen: string | undefined;
  /** After Redis lost the queue: the cutoff of receipts still to return (some were busy). */
  private recovering: Date | undefined;

  /**
   * `redis` (the queue's connection) lets the relay notice that Redis lost its data and put the
   * receipts whose jobs were lost back in the outbox (see `recoverLostJobs`).
   */
  constructor(
    private readonly queue: Queue,
    private readonly db: Knex,
    private readonly logger: Logger,
    opts: { addTimeoutMs?: number; redis?: RedisConnection; relayIntervalSeconds?: number; retry?: RetryBudget } = {},
  ) {
    this.addTimeoutMs = opts.addTimeoutMs ?? 1000;
    this.retry = opts.retry ?? {};
    this.markDelayMs = (relayGraceSeconds(opts.relayIntervalSeconds ?? 5) * 1000) / 2;
    this.redis = opts.redis;
  }

  /**
   * Coalesces receipts of concurrent requests into one job (flushed after the window of
   * enqueue-window.ts — 3 ms, up to 50 ms under load — or at `CHUNK` receipts): fewer Redis round
   * trips, and the worker applies a job's receipts in one transaction. Never throws; failures
   * leave the receipts to the relay.
   */
  enqueueSoon(receiptIds: string[]): void {
    this.pendingEnqueue.push(...receiptIds);
    if (this.pendingEnqueue.length >= CHUNK) this.flushEnqueue();
    else this.enqueueTimer ??= setTimeout(() => this.flushEnqueue(), this.window.ms());
  }

  private flushEnqueue(): void {
    clearTimeout(this.enqueueTimer);
    this.enqueueTimer = undefined;
    const ids = this.pendingEnqueue;
    this.pendingEnqueue = [];
    if (ids.length === 0) return;
    this.window.flushed(ids.length, performance.now());
    const p = this.enqueue(ids);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private timeoutError(): Error {
    return new Error(`Redis did not answer within ${this.addTimeoutMs} ms`);
  }

  /** Returns true when every receipt is on the queue. */
  async enqueue(receiptIds: string[]): Promise<boolean> {
    if (receiptIds.length === 0) return true;
    const jobs: {
      name: string;
      data: JobPayload<'alerts'>;
      opts: ReturnType<typeof jobOptions> & { jobId: string };
    }[] = [];
    try {
      for (let i = 0; i < receiptIds.length; i += CHUNK) {
        // Job ids of our own, never BullMQ's counter: that restarts at 1 when Redis loses its data,
        // and a worker still running an old job "7" would then renew, finish or fail the new "7".
        const opts = { ...jobOptions('alerts', this.retry), jobId: `receipts-${crypto.randomUUID()}` };
        jobs.push({ name: 'receipts', data: { v: 1, receiptIds: receiptIds.slice(i, i + CHUNK) }, opts });
      }
      await withTimeout<unknown>(
        jobs.length === 1 ? this.queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.queue.addBulk(jobs),
        this.addTimeoutMs,
        () => this.timeoutError(),
      );
    } catch (err) {
      this.logger.warn(
        { err: String(err), receipts: receiptIds.length },
        'enqueue failed; receipts stay in the outbox for the relay',
      );
      return false;
    }
    for (const j of jobs) {
      this.pendingMarks.push(...j.data.receiptIds);
      for (let i = 0; i < j.data.receiptIds.length; i++) this.pendingMarkJobs.push(j.opts.jobId);
    }
    this.flushTimer ??= setTimeout(() => void this.flush(), this.markDelayMs);
    return true;
  }

  /** Sends what is coalesced, waits for enqueues in flight, and marks the enqueued receipts. */
  async drain(): Promise<void> {
    this.flushEnqueue();
    await Promise.allSettled([...this.inflight]);
    await this.flush();
  }

  /** Marks the enqueued receipts not yet processed (one UPDATE for many requests). */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = this.pendingMarks;
    const jobIds = this.pendingMarkJobs;
    this.pendingMarks = [];
    this.pendingMarkJobs = [];
    this.flushing = this.flushing.then(async () => {
      if (ids.length === 0) return;
      try {
        // In chunks: a worker waits for the receipts of its job that an UPDATE here holds.
        for (let i = 0; i < ids.length; i += CHUNK)
          await markEnqueued(this.db, ids.slice(i, i + CHUNK), jobIds.slice(i, i + CHUNK));
      } catch (err) {
        // Unmarked receipts are found by the relay and enqueued again; the worker is idempotent.
        this.logger.warn({ err: String(err) }, 'could not mark receipts enqueued');
      }
    });
    return this.flushing;
  }

  /**
   * Redis that restarted without persistence, was flushed or failed over to an empty replica has
   * lost every queued job, and with them receipts already marked enqueued (R-ALR-1: that must not
   * lose an accepted alert). A marker key beside the queue's keys (same hash tag) tells: when it
   * is gone, or is not the one this process saw last time (another process, or a command of ours
   * that ioredis queued while Redis was down, created it anew), every receipt enqueued before then
   * but not yet processed goes back to the outbox — receipts a worker is applying right now on the
   * next sweeps, once it let go of them. At worst a receipt whose job survived is enqueued twice;
   * the worker applies it once. Returns how many receipts were returned.
   *
   * A failover (Sentinel promoting a replica) keeps the marker — it was replicated — but the last
   * jobs added before the master died may not have been: a changed replication id of the server
   * (`INFO replication` master_replid, new on every promotion or restart) counts as a loss too.
   * (Not for Redis Cluster: there the queue's node is not the one a plain command reaches.)
   */
  async recoverLostJobs(): Promise<number> {
    if (!this.redis) return 0;
    const key = this.queue.toKey('outbox-marker');
    const seen = await withTimeout(this.redis.get(key), this.addTimeoutMs, () => this.timeoutError());
    let failedOver = false;
    if (!(this.redis instanceof Cluster)) {
      const info = await withTimeout(this.redis.info('replication'), this.addTimeoutMs, () => this.timeoutError());
      const replid = /master_replid:(\w+)/.exec(info)?.[1];
      failedOver = replid !== undefined && this.replidSeen !== undefined && replid !== this.replidSeen;
      this.replidSeen = replid ?? this.replidSeen;
    }
    const lost = seen === null || failedOver || (this.markerSeen !== undefined && seen !== this.markerSeen);
    this.markerSeen = seen ?? undefined;
    if (seen === null)
      await withTimeout(
        this.redis.set(key, `${new Date().toISOString()} ${crypto.randomUUID()}`, 'NX'),
        this.addTimeoutMs,
        () => this.timeoutError(),
      );
    if (lost) await this.notifyLost();
    if (!lost && this.recovering === undefined) return 0;
    const r = await returnEnqueuedToOutbox(this.db, lost ? null : (this.recovering ?? null));
    this.recovering = r.busy > 0 ? r.before : undefined;
    if (r.returned > 0)
      this.logger.warn(
        { receipts: r.returned, busy: r.busy },
        failedOver
          ? 'Redis failed over (its replication id changed): jobs added just before may be lost; unprocessed receipts are back in the outbox'
          : 'Redis lost the alerts queue (its marker key was gone or new); unprocessed receipts are back in the outbox',
      );
    return r.returned;
  }

  /**
   * Runs `listener` whenever this process notices that Redis lost its data (see
   * `recoverLostJobs`): the job schedulers are re-created that way (issue 13 item 5). A failing
   * listener is logged and tried again at the next sweep (the loss is remembered until it succeeds).
   */
  onQueueLost(listener: () => Promise<void>): void {
    this.lostListeners.push(listener);
  }

  private lostPending = false;

  private async notifyLost(): Promise<void> {
    this.lostPending = true;
    await this.retryLostListeners();
  }

  private async retryLostListeners(): Promise<void> {
    if (!this.lostPending) return;
    let ok = true;
    for (const l of this.lostListeners) {
      try {
        await l();
      } catch (err) {
        ok = false;
        this.logger.warn({ err: String(err) }, 're-creating what Redis lost failed; tried again at the next relay sweep');
      }
    }
    this.lostPending = !ok;
  }

  /** One relay sweep: enqueues receipts the intake could not. Returns how many were enqueued. */
  async relayOnce(graceSeconds: number): Promise<number> {
    await this.recoverLostJobs();
    await this.retryLostListeners();
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
