import os from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Knex } from 'knex';
import type { HubConfig } from '../config/env';
import { connectionConfig } from '../app/psa/connection-secrets';
import { DeliveryStopped, deliverRun } from '../app/psa/deliver';
import type { DeliveryRef } from '../app/psa/outbox';
import { PsaError, type PsaSession } from '../connectors';
import { breakerLabel, breakerOnFailure, breakerOnSuccess, breakerWaitMs, closedBreaker, type BreakerState } from '../core/psa/delivery';
import { listPsaConnections } from '../db/queries/psa-connections';
import { failDelivery, pendingDeliveries, settleWithoutNumbers } from '../db/queries/psa-deliveries';
import type { PsaConnectionRow } from '../db/tables';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { RedisConnection } from '../lib/redis';
import { psaDeliveryCatalog, RETENTION } from './catalog';
import { CallBudgetSpent, PsaCallBudget } from './psa-call-budget';
import { ratePerHourOf } from './psa-rate-limit';

/**
 * PSA delivery (issue 16 item 3), the adapter side: one BullMQ queue and worker per enabled
 * connection, refreshed as connections come and go; the enqueuer the pipeline, the ticket API and
 * the retry use; and the sweep that re-enqueues pending deliveries whose job was lost.
 *
 * Per connection: a rate limit on PSA calls — every HTTP call counted, not every run —
 * (a sliding 60 s window in Redis, psa-rate-limit.ts, shared by every worker process; `rateLimitPerHour`
 * or the type's default, spread per minute), `Retry-After`
 * honoured (the queue waits, no attempt spent), exponential backoff on other transient failures,
 * and a circuit breaker that pauses the queue after HUB_PSA_BREAKER_FAILURES consecutive failures
 * and lets one delivery try again after the cooldown. Jobs carry the delivery's rank as BullMQ
 * priority: a backlog drains critical first.
 */
export class PsaEnqueuer {
  private readonly queues = new Map<string, Queue>();
  /** Connections whose queue is paused, until when (epoch ms): their new deliveries get no job meanwhile ({@link hold}). */
  private readonly held = new Map<string, number>();
  constructor(
    private readonly ctx: { connection: RedisConnection; prefix: string; config: HubConfig; logger: Logger },
  ) {}

  queue(connectionName: string): Queue {
    let q = this.queues.get(connectionName);
    if (!q) {
      q = new Queue(psaDeliveryCatalog.queueOf(connectionName), { connection: this.ctx.connection, prefix: this.ctx.prefix });
      q.on('error', (e: Error) => this.ctx.logger.debug({ err: e.message, queue: q!.name }, 'queue error'));
      this.queues.set(connectionName, q);
    }
    return q;
  }

  /**
   * The connection's queue is paused until `untilMs` (epoch ms; the call budget is spent, the PSA asked
   * to wait, the breaker is open): until then its new deliveries get no job of their own — at the rate
   * limit a storm's tickets would otherwise each add a job that can only wait (a BullMQ add is the most
   * expensive part of recording a delivery after its row). Whoever paused the queue enqueues the
   * connection's pending deliveries, most urgent first, when the pause ends
   * ({@link PsaDeliveryService}); the sweep is the safety net. The last pause counts, as for the
   * queue's own rate limit. Changes of existing deliveries (notes, updates) are added as before.
   */
  hold(connectionName: string, untilMs: number): void {
    this.held.set(connectionName, untilMs);
  }

  /** The hold ends now (the connection stopped: one started again gets jobs at once). */
  release(connectionName: string): void {
    this.held.delete(connectionName);
  }

  private isHeld(connectionName: string): boolean {
    const until = this.held.get(connectionName);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.held.delete(connectionName);
    return false;
  }

  /**
   * Adds the jobs of these deliveries. A change gets a job of its own: `d-<id>` dedupes a storm (one
   * job waits while repeats fold into the row); `delayMs` lets repeats of a delivered ticket gather
   * before a note goes out. New deliveries sent at once are grouped per connection and priority, up
   * to `batchSize` a job (`d-<first>+<count>`: the same group added twice, e.g. by the sweep, is one
   * job), so one run claims, reads the numbers of and settles many tickets — unless the connection is
   * held ({@link hold}): then they wait for the enqueue at the pause's end.
   */
  async enqueue(refs: ReadonlyArray<DeliveryRef & { delayMs?: number; unique?: boolean }>): Promise<void> {
    const c = this.ctx.config;
    type DeliveryJob = { connectionName: string; rank: number; ids: string[]; jobId: string; delayMs?: number };
    // Per connection: its adds go in one round trip (a MULTI), not one per job — a pipeline round of
    // many new tickets makes many jobs, and each add alone is a Redis round trip on the worker's way.
    const perQueue = new Map<string, DeliveryJob[]>();
    const push = (j: DeliveryJob): void => {
      const list = perQueue.get(j.connectionName);
      if (list) list.push(j);
      else perQueue.set(j.connectionName, [j]);
    };
    const groups = new Map<string, string[]>();
    // The hold looked up once per connection: at the rate limit a storm's round brings thousands of held refs.
    const held = new Map<string, boolean>();
    const heldNow = (name: string): boolean => {
      let h = held.get(name);
      if (h === undefined) held.set(name, (h = this.isHeld(name)));
      return h;
    };
    for (const r of refs) {
      if (r.isNew && !r.delayMs && !r.unique) {
        if (heldNow(r.connectionName)) continue;
        const key = `${r.rank}\u0000${r.connectionName}`;
        const group = groups.get(key);
        if (group) group.push(r.id);
        else groups.set(key, [r.id]);
        continue;
      }
      push({ connectionName: r.connectionName, rank: r.rank, ids: [r.id], jobId: r.unique ? `d-${r.id}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` : `d-${r.id}`, ...(r.delayMs ? { delayMs: r.delayMs } : {}) });
    }
    for (const [key, ids] of groups) {
      const [rank, connectionName] = key.split('\u0000') as [string, string];
      for (let i = 0; i < ids.length; i += psaDeliveryCatalog.batchSize) {
        const chunk = ids.slice(i, i + psaDeliveryCatalog.batchSize);
        push({ connectionName, rank: Number(rank), ids: chunk, jobId: chunk.length === 1 ? `d-${chunk[0]!}` : `d-${chunk[0]!}+${chunk.length}` });
      }
    }
    await Promise.all(
      [...perQueue].map(([connectionName, list]) =>
        this.queue(connectionName).addBulk(
          list.map((j) => ({
            name: 'deliver',
            data: { v: 1, deliveryId: j.ids[0]!, ...(j.ids.length > 1 ? { more: j.ids.slice(1) } : {}) },
            opts: {
              jobId: j.jobId,
              priority: j.rank,
              ...(j.delayMs ? { delay: j.delayMs } : {}),
              attempts: psaDeliveryCatalog.attempts(c),
              backoff: psaDeliveryCatalog.backoff(c),
              removeOnComplete: psaDeliveryCatalog.removeOnComplete,
              removeOnFail: { ...RETENTION.removeOnFail },
            },
          })),
        ),
      ),
    );
  }

  /** Refs from the pipeline: a new delivery goes at once, a change to a delivered ticket after the coalescing window. */
  async enqueueRecorded(refs: readonly DeliveryRef[]): Promise<void> {
    // New ones as they are (no delay: sent at once, or skipped while held), not copied one by one.
    const coalesceMs = this.ctx.config.HUB_PSA_COALESCE_MS;
    await this.enqueue(refs.map((r) => (r.isNew ? r : { ...r, delayMs: coalesceMs })));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

/** Pending deliveries a sweep (or the end of a pause) enqueues per connection, most urgent first. */
const PENDING_PER_SWEEP = 500;
/** After a pause's end, so the hold has expired when its pending deliveries are enqueued. */
const RESUME_SLACK_MS = 50;

interface ConnectionRuntime {
  row: PsaConnectionRow;
  session: PsaSession;
  worker: Worker;
  /** The connection's rate limit (null: none). */
  budget: PsaCallBudget | null;
  breaker: BreakerState;
}

export interface PsaDeliveryDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  config: HubConfig;
  /** The worker connection (blocking commands) and the producer one. */
  connection: RedisConnection;
  producer: RedisConnection;
  prefix: string;
  enqueuer: PsaEnqueuer;
}

/** Runs the workers of every enabled connection, refreshed (and pending deliveries swept) every HUB_PSA_SWEEP_MS. */
export class PsaDeliveryService {
  private readonly running = new Map<string, ConnectionRuntime>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** Per paused connection: the enqueue of its pending deliveries when the pause ends. */
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;
  private readonly workerId = `${os.hostname()}:${process.pid}`;

  constructor(private readonly deps: PsaDeliveryDeps) {}

  async start(): Promise<void> {
    await this.refresh();
    const every = this.deps.config.HUB_PSA_SWEEP_MS;
    this.timer = setInterval(() => {
      void this.refresh().catch((err: unknown) => this.deps.logger.warn({ err: String(err) }, 'PSA delivery refresh failed; tried again at the next interval'));
    }, every);
    this.timer.unref();
  }

  /** Starts workers of new or changed connections, stops those of deleted or disabled ones, re-enqueues pending deliveries. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.closed) return;
    const rows = await listPsaConnections(this.deps.db, { enabled: true });
    const wanted = new Map(rows.map((r) => [r.name, r]));
    for (const [name, rt] of this.running) {
      const row = wanted.get(name);
      if (!row || row.updated_at.getTime() !== rt.row.updated_at.getTime()) await this.stop(name);
    }
    for (const row of rows) {
      if (this.closed) return;
      if (!this.running.has(row.name)) {
        try {
          this.running.set(row.name, this.startConnection(row));
        } catch (err) {
          this.deps.logger.error({ err: err instanceof Error ? err.message : String(err), connection: row.name }, 'PSA connection cannot start (its deliveries wait)');
        }
      }
      await this.enqueuePending(row.name);
      const rt = this.running.get(row.name);
      if (rt) metrics.psaBreaker.set({ connection: row.name }, breakerLabel(rt.breaker, this.deps.now().getTime()) === 'closed' ? 0 : 1);
    }
  }

  /** The connection's pending deliveries not leased by a run, most urgent first (500 at most), get their jobs again. */
  private async enqueuePending(name: string): Promise<void> {
    const pending = await pendingDeliveries(this.deps.db, name, PENDING_PER_SWEEP);
    // Like the pipeline's: a delivery not yet created goes at once, a change of a created one after
    // the coalescing window (a sweep enqueueing at once would send a note per sweep in a storm).
    if (pending.length > 0) await this.deps.enqueuer.enqueueRecorded(pending);
  }

  private startConnection(row: PsaConnectionRow): ConnectionRuntime {
    const { config: c } = this.deps;
    const { connector, config } = connectionConfig(row, c.HUB_SECRET_KEYS);
    const perHour = ratePerHourOf(row, c.HUB_PSA_AUTOTASK_RATE_PER_HOUR);
    // One slot of the sliding window per HTTP call to the PSA (a run may look up, create, read the ticket numbers, note, update).
    const budget = perHour === null ? null : new PsaCallBudget(row.name, { redis: this.deps.producer, prefix: this.deps.prefix, perHour });
    const beforeCall = budget ? () => budget.beforeCall() : undefined;
    const session = connector.open(config, { connectionName: row.name, now: this.deps.now, autotaskZoneLookupUrl: c.HUB_AUTOTASK_ZONE_LOOKUP_URL, timeoutMs: c.HUB_PSA_TIMEOUT_MS, ...(beforeCall ? { beforeCall } : {}) });
    const rt = { row, session, budget, breaker: closedBreaker() } as Omit<ConnectionRuntime, 'worker'> as ConnectionRuntime;
    rt.worker = new Worker(psaDeliveryCatalog.queueOf(row.name), (job, token) => this.process(rt, job, token), {
      connection: this.deps.connection,
      prefix: this.deps.prefix,
      concurrency: psaDeliveryCatalog.concurrency,
      name: this.workerId,
      maxStalledCount: psaDeliveryCatalog.maxStalledCount,
      // A worker that died mid-run (SIGKILL, OOM) gives its jobs back after HUB_JOB_LOCK_SECONDS, like the alert queue's.
      lockDuration: c.HUB_JOB_LOCK_SECONDS * 1000,
      stalledInterval: c.HUB_JOB_LOCK_SECONDS * 1000,
    });
    rt.worker.on('error', (e: Error) => this.deps.logger.warn({ err: e.message, connection: row.name }, 'PSA worker error'));
    this.deps.logger.info({ connection: row.name, type: row.type, ratePerHour: perHour }, 'PSA delivery worker started');
    return rt;
  }

  /** Waits `ms` without spending an attempt: the whole queue is rate-limited (every worker process sees it). */
  private async pause(rt: ConnectionRuntime, ms: number): Promise<never> {
    const wait = Math.max(1, Math.ceil(ms));
    this.holdNewJobs(rt.row.name, wait);
    await rt.worker.rateLimit(wait);
    throw Worker.RateLimitError();
  }

  /**
   * While the queue is paused its new deliveries get no job (PsaEnqueuer.hold); when the pause ends
   * the pending ones are enqueued, most urgent first. The last pause replaces an earlier one's timer,
   * as the queue's rate limit does.
   */
  private holdNewJobs(name: string, ms: number): void {
    if (this.closed) return;
    this.deps.enqueuer.hold(name, Date.now() + ms);
    clearTimeout(this.resumeTimers.get(name));
    const timer = setTimeout(() => {
      this.resumeTimers.delete(name);
      // A connection stopped meanwhile (disabled, deleted) gets no jobs; one restarted is swept at its start.
      if (this.closed || !this.running.has(name)) return;
      void this.enqueuePending(name).catch((err: unknown) =>
        this.deps.logger.warn({ err: String(err), connection: name }, 'PSA deliveries not enqueued after a pause; the sweep enqueues them'),
      );
    }, ms + RESUME_SLACK_MS);
    timer.unref();
    this.resumeTimers.set(name, timer);
  }

  private async process(rt: ConnectionRuntime, job: Job, token?: string): Promise<{ delivered: number; calls: number } | undefined> {
    const parsed = psaDeliveryCatalog.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid PSA delivery job: ${parsed.error.message}`);
    const name = rt.row.name;
    const wait = breakerWaitMs(rt.breaker, this.deps.now().getTime());
    if (wait > 0) return this.pause(rt, wait);
    const end = metrics.jobDuration.startTimer({ queue: 'psa' });
    const ids = [parsed.data.deliveryId, ...(parsed.data.more ?? [])];
    // Calls this run took ahead, and made (unknown when it failed outside the PSA calls: nothing given back then).
    let prepaid = 0;
    let made: number | null = null;
    try {
      const r = await deliverRun(
        {
          db: this.deps.db,
          session: rt.session,
          token: `${this.workerId}:${job.id ?? ''}:${token ?? ''}`,
          leaseMs: this.deps.config.HUB_PSA_TIMEOUT_MS * 6,
          pullUrgent: psaDeliveryCatalog.batchSize,
          expectCalls: async (n) => {
            prepaid = (await rt.budget?.prepay(n)) ?? 0;
          },
        },
        ids,
        this.deps.now,
      );
      made = r.kind === 'done' ? r.calls : 0;
      rt.breaker = breakerOnSuccess();
      metrics.psaBreaker.set({ connection: name }, 0);
      if (r.kind === 'not-claimed') return undefined;
      const again: Array<{ id: string; connectionName: string; rank: number; delayMs: number; unique: boolean }> = [];
      for (const o of r.outcomes) {
        if (o.failed !== undefined) {
          metrics.psaDeliveries.inc({ connection: name, outcome: 'failed' });
          this.deps.logger.warn({ connection: name, deliveryId: o.id, err: o.failed }, 'PSA delivery failed permanently (retry it once fixed)');
          continue;
        }
        metrics.psaDeliveries.inc({ connection: name, outcome: o.created ? 'created' : 'updated' });
        if (o.latencyMs !== null) metrics.psaLatency.observe({ connection: name }, o.latencyMs / 1000);
        // Changes recorded while this run was sending: one more run after the coalescing window.
        if (o.state === 'pending') again.push({ id: o.id, connectionName: name, rank: job.opts.priority ?? 3, delayMs: this.deps.config.HUB_PSA_COALESCE_MS, unique: true });
      }
      if (again.length > 0) await this.deps.enqueuer.enqueue(again);
      const failed = r.outcomes.filter((o) => o.failed !== undefined);
      // Every delivery of the job refused by the PSA: the job fails too (kept with the failed jobs, like a single delivery's).
      if (failed.length > 0 && failed.length === r.outcomes.length) throw new UnrecoverableError(failed.map((o) => o.failed).join('; '));
      return { delivered: r.outcomes.filter((o) => o.state === 'delivered').length, calls: r.calls };
    } catch (thrown) {
      if (thrown instanceof UnrecoverableError) throw thrown;
      if (thrown instanceof DeliveryStopped) made = thrown.calls;
      // The delivery the run stopped at (the job's own for a failure outside a delivery, e.g. the database).
      const deliveryId = thrown instanceof DeliveryStopped ? thrown.deliveryId : parsed.data.deliveryId;
      const err = thrown instanceof DeliveryStopped ? thrown.cause : thrown;
      // Out of calls for this window: the queue waits, no attempt spent, not a PSA failure (the breaker is untouched).
      if (err instanceof CallBudgetSpent) return this.pause(rt, err.waitMs);
      if (err instanceof PsaError && err.kind === 'permanent') {
        metrics.psaDeliveries.inc({ connection: name, outcome: 'failed' });
        this.deps.logger.warn({ connection: name, deliveryId, err: err.message }, 'PSA delivery failed permanently (retry it once fixed)');
        throw new UnrecoverableError(err.message);
      }
      metrics.psaDeliveries.inc({ connection: name, outcome: 'retry' });
      rt.breaker = breakerOnFailure(rt.breaker, this.deps.now().getTime(), { threshold: this.deps.config.HUB_PSA_BREAKER_FAILURES, cooldownMs: this.deps.config.HUB_PSA_BREAKER_COOLDOWN_MS });
      metrics.psaBreaker.set({ connection: name }, breakerLabel(rt.breaker, this.deps.now().getTime()) === 'closed' ? 0 : 1);
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof PsaError && err.details.retryAfterMs !== undefined) {
        this.deps.logger.info({ connection: name, retryAfterMs: err.details.retryAfterMs }, 'PSA asked to wait (Retry-After)');
        return this.pause(rt, err.details.retryAfterMs);
      }
      const open = breakerWaitMs(rt.breaker, this.deps.now().getTime());
      if (open > 0) {
        this.deps.logger.warn({ connection: name, pauseMs: open, err: message }, 'PSA circuit breaker open: the connection pauses');
        return this.pause(rt, open);
      }
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (last) {
        // Only the ticket numbers were left to read: the PSA tickets exist, so those deliveries are
        // delivered (without a number, the reason kept), not failed — a retry would create nothing.
        if (thrown instanceof DeliveryStopped && thrown.awaitingNumbers.length > 0)
          await settleWithoutNumbers(this.deps.db, thrown.awaitingNumbers, `ticket number not read after ${job.attemptsMade + 1} attempts: ${message}`);
        else await failDelivery(this.deps.db, deliveryId, `gave up after ${job.attemptsMade + 1} attempts: ${message}`);
      }
      throw err;
    } finally {
      if (made !== null) await rt.budget?.refund(prepaid - made);
      end();
    }
  }

  private async stop(name: string): Promise<void> {
    const rt = this.running.get(name);
    if (!rt) return;
    this.running.delete(name);
    // Its pause's hold ends with it: a connection started again (changed) gets jobs at once, like its sweep's.
    clearTimeout(this.resumeTimers.get(name));
    this.resumeTimers.delete(name);
    this.deps.enqueuer.release(name);
    await rt.worker.close();
    await rt.session.close?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.resumeTimers.values()) clearTimeout(t);
    this.resumeTimers.clear();
    await this.refreshing?.catch(() => undefined);
    for (const name of [...this.running.keys()]) await this.stop(name);
  }
}
