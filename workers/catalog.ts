import { z } from 'zod';
import type { HubConfig } from '../config/env';

/**
 * The one job catalog (STYLE.md principle 5): each queue, its payload schema (parsed on pickup),
 * attempts, backoff, how its worker runs (concurrency, lock, maxStalledCount), the retention of its
 * jobs (RETENTION below) and every periodic job (SCHEDULES, PROCESS_TIMERS below). Payloads are ids
 * and small JSON — never Dates or Buffers — and carry a schema version `v`.
 *
 * main/ builds the queues and the workers from this file alone: a new periodic job is one entry in
 * UPKEEP_JOBS (its interval) plus one handler in workers/upkeep.worker.ts (the compiler asks for it).
 */
const id = z.string().regex(/^\d+$/);

/**
 * The periodic upkeep jobs, by name: each becomes a job scheduler `upkeep-<name>` on the `upkeep`
 * queue repeating every `everySeconds(config)`, and a job `{ v: 1, kind: <name> }` that
 * workers/upkeep.worker.ts hands to the handler of that name.
 */
export const UPKEEP_JOBS = {
  /** Tickets whose alerts went quiet are resolved (R-ALR-4 auto-resolve). */
  'stale-tickets': { everySeconds: (c: Pick<HubConfig, 'HUB_UPKEEP_INTERVAL_SECONDS'>) => c.HUB_UPKEEP_INTERVAL_SECONDS },
  /** Alerts held by a `processAfter` maintenance window are released once it ended (issue 6). */
  'window-ends': { everySeconds: (c: Pick<HubConfig, 'HUB_UPKEEP_INTERVAL_SECONDS'>) => c.HUB_UPKEEP_INTERVAL_SECONDS },
  /** SLA breaches are recorded when they happen, not when someone reads the ticket (R-TKT-2). */
  'sla-breaches': { everySeconds: (c: Pick<HubConfig, 'HUB_UPKEEP_INTERVAL_SECONDS'>) => c.HUB_UPKEEP_INTERVAL_SECONDS },
  /** PSA status back by polling: tickets completed or closed in a PSA close the hub's (R-PSA-3, issue 16 item 4). */
  'psa-status-poll': { everySeconds: (c: Pick<HubConfig, 'HUB_PSA_POLL_INTERVAL_SECONDS'>) => c.HUB_PSA_POLL_INTERVAL_SECONDS },
  /** Issue 19: data past its retention removed in bounded batches; audit_log months created ahead and dropped when old (app/retention/). */
  retention: { everySeconds: (c: Pick<HubConfig, 'HUB_RETENTION_INTERVAL_SECONDS'>) => c.HUB_RETENTION_INTERVAL_SECONDS },
} as const;
export type UpkeepKind = keyof typeof UPKEEP_JOBS;
const upkeepKinds = Object.keys(UPKEEP_JOBS) as [UpkeepKind, ...UpkeepKind[]];

export const jobCatalog = {
  /** Alert receipts to apply to tickets (R-ALR-3/4). */
  alerts: {
    queue: 'alerts',
    payload: z.object({ v: z.literal(1), receiptIds: z.array(id).min(1).max(1000) }),
    /**
     * The retry budget: 8 attempts 0.5 s apart doubling ≈ 64 s of a dependency (Postgres) being
     * down. A longer outage fails the job; the receipt sweeper re-drives its receipts (issue 13
     * item 2), so the budget bounds how long a job occupies Redis, not whether an alert is applied.
     * HUB_ALERT_ATTEMPTS / HUB_ALERT_BACKOFF_MS override it (see `alertRetryBudgetMs`).
     */
    attempts: 8,
    backoff: { type: 'exponential' as const, delay: 500 },
    /**
     * A job whose worker died (or whose lock lapsed on a starved event loop) goes back to the queue
     * up to twice (BullMQ's default is once); the third stall fails it. Applying receipts is
     * idempotent, so a stall costs only time and one more chance is cheap on a busy 2-core box —
     * but a job that kills its worker (memory) must not take down worker after worker for ever:
     * the sweeper re-drives a stalled-out job's receipts after its grace period, and dead-letters
     * them after HUB_SWEEPER_MAX_REDRIVES.
     */
    maxStalledCount: 2,
    /** Jobs one worker process runs at once; the lock (and the stalled check) is HUB_JOB_LOCK_SECONDS. */
    worker: { concurrency: (c: HubConfig) => c.HUB_WORKER_CONCURRENCY, lockSeconds: (c: HubConfig): number | undefined => c.HUB_JOB_LOCK_SECONDS },
  },
  /** Renewals: daily run, catch-up at start, one renewal's date-dependent effects (R-REN-15). */
  renewals: {
    queue: 'renewals',
    payload: z.object({
      v: z.literal(1),
      kind: z.enum(['daily', 'catchup', 'apply']),
      renewalContractId: id.optional(),
    }),
    attempts: 5,
    backoff: { type: 'exponential' as const, delay: 2000 },
    /** Renewal runs are idempotent (Postgres decides) and short: up to two stalls are recovered, like the alerts queue. */
    maxStalledCount: 2,
    /** One run at a time per process; BullMQ's lock and stalled check (30 s). */
    worker: { concurrency: (_c: HubConfig) => 1, lockSeconds: (_c: HubConfig): number | undefined => undefined },
  },
  /** Periodic upkeep: stale-ticket auto-resolve, alerts held over a maintenance window. */
  upkeep: {
    queue: 'upkeep',
    payload: z.object({ v: z.literal(1), kind: z.enum(upkeepKinds) }),
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 5000 },
    /** Upkeep runs again on its schedule within a minute: a stalled run is recovered once (BullMQ's default), a second stall fails it. */
    maxStalledCount: 1,
    /** One run at a time per process; BullMQ's lock and stalled check (30 s). */
    worker: { concurrency: (_c: HubConfig) => 1, lockSeconds: (_c: HubConfig): number | undefined => undefined },
  },
  /**
   * A replay of a candidate ruleset over a period (issue 17 item 2): the id of its rule_replays row.
   * The job resumes at the row's cursor, so a retry or a stall costs only the batch in flight.
   */
  'rule-replays': {
    queue: 'rule-replays',
    payload: z.object({ v: z.literal(1), replayId: id }),
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 5000 },
    /** Long-running and resumable: up to two stalls are recovered, like the alerts queue. */
    maxStalledCount: 2,
    /** One replay at a time per process (a replay reads a whole period); BullMQ's lock and stalled check (30 s). */
    worker: { concurrency: (_c: HubConfig) => 1, lockSeconds: (_c: HubConfig): number | undefined => undefined },
  },
} as const;

export type QueueName = keyof typeof jobCatalog;
export type JobPayload<Q extends QueueName> = z.infer<(typeof jobCatalog)[Q]['payload']>;

/** Overrides of the alerts queue's retry budget (HUB_ALERT_ATTEMPTS, HUB_ALERT_BACKOFF_MS). */
export interface RetryBudget {
  attempts?: number | undefined;
  backoffMs?: number | undefined;
}

/**
 * How long successive failures of one job take before it fails for good: the sum of the
 * exponential backoff delays between its attempts (BullMQ waits `delay * 2^(n-1)` before retry n).
 */
export function retryBudgetMs(q: QueueName, over: RetryBudget = {}): number {
  const attempts = over.attempts ?? jobCatalog[q].attempts;
  const delay = over.backoffMs ?? jobCatalog[q].backoff.delay;
  let total = 0;
  for (let n = 1; n < attempts; n++) total += delay * 2 ** (n - 1);
  return total;
}

/**
 * Retention, set deliberately (issue 13 item 2):
 * - completed jobs: an hour, at most 1,000 — the dashboard shows recent work; what happened to an
 *   alert is in Postgres (receipt outcome, ticket, audit), not in Redis.
 * - failed jobs: 7 days, at most 10,000 — long enough for operators to read the reasons; bounded
 *   because Redis runs with `noeviction` and a failure storm must not fill it (the intake's
 *   enqueues would then fail). A failed job aging out loses nothing: its receipts are in Postgres
 *   and the receipt sweeper re-drives them well before (minutes, not days).
 */
export const RETENTION = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;

/** Job options every producer of a queue uses: retries with backoff, the retention above. */
export function jobOptions(
  q: QueueName,
  over: RetryBudget = {},
): {
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
} {
  const c = jobCatalog[q];
  return {
    attempts: over.attempts ?? c.attempts,
    backoff: { type: c.backoff.type, delay: over.backoffMs ?? c.backoff.delay },
    removeOnComplete: { ...RETENTION.removeOnComplete },
    removeOnFail: { ...RETENTION.removeOnFail },
  };
}

/** '00:15' → '15 0 * * *' (minute hour, every day). */
export function cronPattern(time: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!m) throw new Error(`renewal time must be HH:MM (00:00–23:59), got ${JSON.stringify(time)}`);
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}

/** What the schedules of each queue read of the configuration. */
export interface ScheduleConfigOf {
  alerts: Record<never, never>;
  upkeep: Pick<HubConfig, 'HUB_UPKEEP_INTERVAL_SECONDS' | 'HUB_PSA_POLL_INTERVAL_SECONDS' | 'HUB_RETENTION_INTERVAL_SECONDS'>;
  renewals: Pick<HubConfig, 'HUB_RENEWAL_TIME' | 'HUB_RENEWAL_TIMEZONE'>;
  'rule-replays': Record<never, never>;
}


/** One job scheduler (BullMQ `upsertJobScheduler`): every N ms, or a cron pattern in a zone. */
export interface Schedule<Q extends QueueName> {
  /** The scheduler's id in Redis (stable: upserting it again changes nothing). */
  id: string;
  queue: Q;
  /** The job name (what the dashboard shows). */
  name: string;
  data: JobPayload<Q>;
  repeat: (c: ScheduleConfigOf[Q]) => { every: number } | { pattern: string; tz: string };
  /**
   * A job added once whenever the schedules are (re-)created: a job scheduler does not replay runs
   * missed while no worker was up (or while Redis had lost its data).
   */
  catchUp?: { name: string; data: JobPayload<Q> };
}

export const DAILY_SCHEDULER_ID = 'renewals-daily';

/**
 * Every job scheduler of the hub. main/ upserts them at worker start and again whenever the hub
 * notices that Redis lost its data (issue 13 item 5): schedulers live in Redis and vanish with it.
 */
export const SCHEDULES: { [Q in QueueName]: ReadonlyArray<Schedule<Q>> } = {
  alerts: [],
  'rule-replays': [],
  upkeep: upkeepKinds.map(
    (kind): Schedule<'upkeep'> => ({
      id: `upkeep-${kind}`,
      queue: 'upkeep',
      name: kind,
      data: { v: 1, kind },
      repeat: (c) => ({ every: UPKEEP_JOBS[kind].everySeconds(c) * 1000 }),
    }),
  ),
  renewals: [
    {
      // R-REN-15: the daily renewal run at HUB_RENEWAL_TIME in HUB_RENEWAL_TIMEZONE, plus a catch-up run.
      id: DAILY_SCHEDULER_ID,
      queue: 'renewals',
      name: 'daily',
      data: { v: 1, kind: 'daily' },
      repeat: (c) => ({ pattern: cronPattern(c.HUB_RENEWAL_TIME), tz: c.HUB_RENEWAL_TIMEZONE }),
      catchUp: { name: 'catchup', data: { v: 1, kind: 'catchup' } },
    },
  ],
};

/**
 * Periodic work that runs on a timer inside EVERY process (API and worker), not as a queued job:
 * both exist for when Redis loses or fails jobs, so they must not depend on a queued job running,
 * and an API-only process must run them too (its intake fills the outbox).
 */
export const PROCESS_TIMERS = {
  /** The outbox relay: enqueues receipts the intake could not, notices that Redis lost its data (R-ALR-1). First run at once. */
  relay: {
    everySeconds: (c: HubConfig) => c.HUB_RELAY_INTERVAL_SECONDS,
    firstAfterSeconds: (_c: HubConfig) => 0,
    /** Not waited for at shutdown: a sweep may be waiting on a Redis that is gone (the enqueuer's drain sends what is left). */
    waitOnStop: false,
  },
  /** The receipt sweeper: re-drives (or dead-letters) receipts whose job is gone (issue 13 item 2). First run shortly after start. */
  'receipt-sweep': {
    everySeconds: (c: HubConfig) => c.HUB_SWEEPER_INTERVAL_SECONDS,
    firstAfterSeconds: (c: HubConfig) => Math.min(c.HUB_SWEEPER_INTERVAL_SECONDS, 5),
    /** A sweep in progress finishes before the pools close. */
    waitOnStop: true,
  },
} as const;
export type ProcessTimerName = keyof typeof PROCESS_TIMERS;

/**
 * Issue 16: PSA delivery, one queue per connection (`psa-<connection name>`), so a slow or failing
 * PSA — its rate limit, its circuit breaker — never holds another's deliveries. Not in `jobCatalog`:
 * the queues come and go with the connections (workers/psa-delivery.ts starts their workers).
 * A job carries a delivery id; the outbox row in Postgres says what to send.
 */
export const psaDeliveryCatalog = {
  queueOf: (connectionName: string): string => `psa-${connectionName}`,
  /**
   * `more`: further deliveries of the same connection and priority run by the same job (the new
   * tickets of one pipeline round), so their claim, numbers read and settle are one statement or
   * call each instead of one per ticket.
   */
  payload: z.object({ v: z.literal(1), deliveryId: id, more: z.array(id).max(99).optional() }),
  /** New deliveries one job carries at most. @defaultValue 25 */
  batchSize: 25,
  /** HUB_PSA_ATTEMPTS / HUB_PSA_BACKOFF_MS (exponential); a job that uses them up fails its delivery (visible, retryable). */
  attempts: (c: Pick<HubConfig, 'HUB_PSA_ATTEMPTS'>) => c.HUB_PSA_ATTEMPTS,
  backoff: (c: Pick<HubConfig, 'HUB_PSA_BACKOFF_MS'>) => ({ type: 'exponential' as const, delay: c.HUB_PSA_BACKOFF_MS }),
  /** A delivery run holds a lease in Postgres; a stalled job is taken again after the lease ends. */
  maxStalledCount: 3,
  /** Completed jobs are removed at once, so the job id `d-<delivery>` is free for the next change; failed ones kept like other queues'. */
  removeOnComplete: true,
  /**
   * Delivery runs one worker process makes at once per connection. One: a run carries many tickets
   * (`batchSize`, plus more urgent ones it takes along) and sends them most urgent first; two runs at
   * once would interleave one's low tickets with the other's critical ones. One PSA call at a time
   * (~0.3 s each at Autotask) is ~12,000 calls/h, above Autotask's own 10,000/h; more worker
   * processes add runs.
   */
  concurrency: 1,
} as const;
