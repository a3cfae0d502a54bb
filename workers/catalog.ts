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
    attempts: 8,
    backoff: { type: 'exponential' as const, delay: 500 },
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
  },
  /** Periodic upkeep: stale-ticket auto-resolve, alerts held over a maintenance window. */
  upkeep: {
    queue: 'upkeep',
    payload: z.object({ v: z.literal(1), kind: z.enum(['stale-tickets', 'window-ends']) }),
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 5000 },
  },
} as const;

export type QueueName = keyof typeof jobCatalog;
export type JobPayload<Q extends QueueName> = z.infer<(typeof jobCatalog)[Q]['payload']>;

/** Job options every producer of a queue uses: retries with backoff; failed jobs kept for operators. */
export function jobOptions(q: QueueName): {
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number };
} {
  const c = jobCatalog[q];
  return { attempts: c.attempts, backoff: c.backoff, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 14 * 24 * 3600 } };
}
