import os from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Knex } from 'knex';
import type { HubConfig } from '../config/env';
import { connectionConfig } from '../app/psa/connection-secrets';
import { deliverOnce } from '../app/psa/deliver';
import type { DeliveryRef } from '../app/psa/outbox';
import { PsaError, type PsaSession } from '../connectors';
import { breakerLabel, breakerOnFailure, breakerOnSuccess, breakerWaitMs, closedBreaker, type BreakerState } from '../core/psa/delivery';
import { listPsaConnections } from '../db/queries/psa-connections';
import { failDelivery, pendingDeliveries } from '../db/queries/psa-deliveries';
import type { PsaConnectionRow } from '../db/tables';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { RedisConnection } from '../lib/redis';
import { psaDeliveryCatalog, RETENTION } from './catalog';
import { SlidingCallBudget } from './psa-rate-limit';

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
   * Adds one job per delivery. `d-<id>` dedupes a storm (one job waits while repeats fold into
   * the row); `delayMs` lets repeats of a delivered ticket gather before a note goes out.
   */
  async enqueue(refs: ReadonlyArray<DeliveryRef & { delayMs?: number; unique?: boolean }>): Promise<void> {
    const c = this.ctx.config;
    await Promise.all(
      refs.map((r) =>
        this.queue(r.connectionName).add(
          'deliver',
          { v: 1, deliveryId: r.id },
          {
            jobId: r.unique ? `d-${r.id}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` : `d-${r.id}`,
            priority: r.rank,
            ...(r.delayMs ? { delay: r.delayMs } : {}),
            attempts: psaDeliveryCatalog.attempts(c),
            backoff: psaDeliveryCatalog.backoff(c),
            removeOnComplete: psaDeliveryCatalog.removeOnComplete,
            removeOnFail: { ...RETENTION.removeOnFail },
          },
        ),
      ),
    );
  }

  /** Refs from the pipeline: a new delivery goes at once, a change to a delivered ticket after the coalescing window. */
  async enqueueRecorded(refs: readonly DeliveryRef[]): Promise<void> {
    await this.enqueue(refs.map((r) => ({ ...r, delayMs: r.isNew ? 0 : this.ctx.config.HUB_PSA_COALESCE_MS })));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

/**
 * The connection's rate limit has no call left in this window: thrown before the HTTP request, so
 * nothing was sent. What the run sent before stays saved (the PSA id is committed at once); the
 * rest goes in the next run.
 */
class CallBudgetSpent extends Error {
  constructor(readonly waitMs: number) {
    super(`PSA rate limit: no call left in this minute (next in ${Math.ceil(waitMs)} ms)`);
  }
}

interface ConnectionRuntime {
  row: PsaConnectionRow;
  session: PsaSession;
  worker: Worker;
  limiter: SlidingCallBudget | null;
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
      const pending = await pendingDeliveries(this.deps.db, row.name, 500);
      // Like the pipeline's: a delivery not yet created goes at once, a change of a created one after
      // the coalescing window (a sweep enqueueing at once would send a note per sweep in a storm).
      if (pending.length > 0) await this.deps.enqueuer.enqueueRecorded(pending);
      const rt = this.running.get(row.name);
      if (rt) metrics.psaBreaker.set({ connection: row.name }, breakerLabel(rt.breaker, this.deps.now().getTime()) === 'closed' ? 0 : 1);
    }
  }

  private startConnection(row: PsaConnectionRow): ConnectionRuntime {
    const { config: c } = this.deps;
    const { connector, config } = connectionConfig(row, c.HUB_SECRET_KEYS);
    const perHour = row.rate_limit_per_hour ?? (row.type === 'autotask' ? c.HUB_PSA_AUTOTASK_RATE_PER_HOUR : null);
    const limiter =
      perHour === null
        ? null
        : new SlidingCallBudget(this.deps.producer, { prefix: this.deps.prefix, limit: Math.max(1, Math.floor(perHour / 60)) });
    // One point per HTTP call to the PSA (a run may look up, create, read the ticket number, note, update).
    const beforeCall = limiter
      ? async (): Promise<void> => {
          const waitMs = await limiter.take(row.name);
          if (waitMs > 0) throw new CallBudgetSpent(waitMs);
        }
      : undefined;
    const session = connector.open(config, { connectionName: row.name, now: this.deps.now, autotaskZoneLookupUrl: c.HUB_AUTOTASK_ZONE_LOOKUP_URL, timeoutMs: c.HUB_PSA_TIMEOUT_MS, ...(beforeCall ? { beforeCall } : {}) });
    const rt = { row, session, limiter, breaker: closedBreaker() } as Omit<ConnectionRuntime, 'worker'> as ConnectionRuntime;
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
    await rt.worker.rateLimit(Math.max(1, Math.ceil(ms)));
    throw Worker.RateLimitError();
  }

  private async process(rt: ConnectionRuntime, job: Job, token?: string): Promise<{ state: string; calls: number } | undefined> {
    const parsed = psaDeliveryCatalog.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid PSA delivery job: ${parsed.error.message}`);
    const name = rt.row.name;
    const wait = breakerWaitMs(rt.breaker, this.deps.now().getTime());
    if (wait > 0) return this.pause(rt, wait);
    const end = metrics.jobDuration.startTimer({ queue: 'psa' });
    try {
      const r = await deliverOnce({ db: this.deps.db, session: rt.session, token: `${this.workerId}:${job.id ?? ''}:${token ?? ''}`, leaseMs: this.deps.config.HUB_PSA_TIMEOUT_MS * 6 }, parsed.data.deliveryId, this.deps.now);
      rt.breaker = breakerOnSuccess();
      metrics.psaBreaker.set({ connection: name }, 0);
      if (r.kind === 'not-claimed') return undefined;
      metrics.psaDeliveries.inc({ connection: name, outcome: r.created ? 'created' : 'updated' });
      if (r.latencyMs !== null) metrics.psaLatency.observe({ connection: name }, r.latencyMs / 1000);
      // Changes recorded while this run was sending: one more run after the coalescing window.
      if (r.state === 'pending') await this.deps.enqueuer.enqueue([{ id: parsed.data.deliveryId, connectionName: name, rank: job.opts.priority ?? 3, delayMs: this.deps.config.HUB_PSA_COALESCE_MS, unique: true }]);
      return { state: r.state, calls: r.calls };
    } catch (err) {
      // Out of calls for this window: the queue waits, no attempt spent, not a PSA failure (the breaker is untouched).
      if (err instanceof CallBudgetSpent) return this.pause(rt, err.waitMs);
      if (err instanceof PsaError && err.kind === 'permanent') {
        metrics.psaDeliveries.inc({ connection: name, outcome: 'failed' });
        this.deps.logger.warn({ connection: name, deliveryId: parsed.data.deliveryId, err: err.message }, 'PSA delivery failed permanently (retry it once fixed)');
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
      if (last) await failDelivery(this.deps.db, parsed.data.deliveryId, `gave up after ${job.attemptsMade + 1} attempts: ${message}`);
      throw err;
    } finally {
      end();
    }
  }

  private async stop(name: string): Promise<void> {
    const rt = this.running.get(name);
    if (!rt) return;
    this.running.delete(name);
    await rt.worker.close();
    await rt.session.close?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
    for (const name of [...this.running.keys()]) await this.stop(name);
  }
}
