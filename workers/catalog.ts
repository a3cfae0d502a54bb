import { z } from 'zod';

/**
 * The one job catalog (STYLE.md principle 5): each queue, its payload schema (parsed on pickup),
 * attempts and backoff. Payloads are ids and small JSON — never Dates or Buffers — and carry a
 * schema version `v`.
 */
const id = z.string().regex(/^\d+$/);

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
  },
  /** Periodic upkeep: stale-ticket auto-resolve, alerts held over a maintenance window. */
  upkeep: {
    queue: 'upkeep',
    payload: z.object({ v: z.literal(1), kind: z.enum(['stale-tickets', 'window-ends']) }),
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 5000 },
    /** Upkeep runs again on its schedule within a minute: a stalled run is recovered once (BullMQ's default), a second stall fails it. */
    maxStalledCount: 1,
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
