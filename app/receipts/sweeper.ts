import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { writeAudit } from '../../db/queries/audit';
import {
  claimReceiptsForRedrive,
  deadLetterExhaustedReceipts,
  jobsOfWaitingReceipts,
  receiptBacklog,
  type ReceiptBacklog,
} from '../../db/queries/receipt-recovery';
import type { Logger } from '../../lib/logger';
import { metrics } from '../../lib/metrics';
import type { ReceiptJobs } from './receipt-jobs';

/** The audit actor of what the sweeper decides. */
export const SWEEPER_ACTOR = 'receipt-sweeper';
/** Receipts per re-driven job (the intake's chunk size). */
const PER_JOB = 200;
/** Receipts claimed per statement; a sweep repeats until none is left. */
const CLAIM_LIMIT = 1000;
/** Jobs checked in Redis per sweep (one pipelined round trip). */
const JOBS_PER_SWEEP = 2000;

export interface SweeperDeps {
  db: Knex;
  jobs: ReceiptJobs;
  logger: Logger;
  /** Seconds on the queue before a receipt's job is looked at; doubled per re-drive (HUB_SWEEPER_GRACE_SECONDS). */
  graceSeconds: number;
  /** Re-drives before a receipt is dead-lettered (HUB_SWEEPER_MAX_REDRIVES). */
  maxRedrives: number;
}

export interface SweepResult {
  /** Jobs carrying waiting receipts that the queue still holds: left alone. */
  liveJobs: number;
  /** Jobs carrying waiting receipts that the queue no longer holds (or never did). */
  deadJobs: number;
  redriven: string[];
  deadLettered: string[];
  backlog: ReceiptBacklog;
}

/**
 * One sweep of the invariant "every stored receipt is eventually processed or explicitly
 * dead-lettered" (issue 13 item 2). The outbox relay enqueues receipts never enqueued; this takes
 * the ones that were enqueued, are still unprocessed after the grace period, and whose job is no
 * longer live — it failed all its attempts (an outage longer than the retry budget), stalled out,
 * was removed in the dashboard, aged out of the failed set or was lost with Redis. Those are
 * re-driven under a new job; after `maxRedrives` re-drives they are dead-lettered with the last
 * error, for an operator to see and re-drive (app/receipts/dead-letters.ts).
 *
 * Cheap and set-based: one grouped query for the jobs of waiting receipts, one pipelined Redis
 * round trip for their state, one UPDATE per 1,000 receipts. Safe with a sweeper in every process:
 * a claim changes the receipt's job id under SKIP LOCKED, so each receipt is re-driven once; the
 * new job is enqueued before that claim commits (a failed enqueue leaves the receipt as it was).
 */
export async function sweepReceipts(deps: SweeperDeps): Promise<SweepResult> {
  const { db, jobs, logger } = deps;
  const result: SweepResult = { liveJobs: 0, deadJobs: 0, redriven: [], deadLettered: [], backlog: { oldestUnprocessedAgeSeconds: null, unprocessed: 0, deadLettered: 0 } };
  const waiting = await jobsOfWaitingReceipts(db, { graceSeconds: deps.graceSeconds, limit: JOBS_PER_SWEEP });
  if (waiting.length > 0) {
    const known = waiting.flatMap((w) => (w.jobId === null ? [] : [w.jobId]));
    const live = await jobs.liveJobIds(known);
    const deadJobIds = known.filter((id) => !live.has(id));
    const nullJob = waiting.some((w) => w.jobId === null);
    result.liveJobs = live.size;
    result.deadJobs = deadJobIds.length + (nullJob ? 1 : 0);
    if (result.deadJobs > 0) {
      const filter = { deadJobIds, nullJob, graceSeconds: deps.graceSeconds, maxRedrives: deps.maxRedrives };
      const exhausted = await db.transaction(async (trx) => {
        const rows = await deadLetterExhaustedReceipts(trx, { ...filter, by: SWEEPER_ACTOR });
        for (const r of rows)
          await writeAudit(trx, { actor: SWEEPER_ACTOR, action: 'receipt.dead_letter', entityType: 'alert_receipt', entityId: r.id, after: { alertId: r.alertId, reason: r.reason } });
        return rows;
      });
      for (const r of exhausted) logger.error({ receiptId: r.id, alertId: r.alertId, reason: r.reason }, 'receipt dead-lettered: it was re-driven too often without being processed');
      result.deadLettered = exhausted.map((r) => r.id);
      if (exhausted.length > 0) metrics.receiptsDeadLettered.inc({ by: 'sweeper' }, exhausted.length);

      for (;;) {
        const claimed = await db.transaction(async (trx) => {
          const rows = await claimReceiptsForRedrive(trx, { ...filter, jobIdPrefix: `sweep-${crypto.randomUUID()}-`, perJob: PER_JOB, limit: CLAIM_LIMIT });
          const byJob = new Map<string, string[]>();
          for (const r of rows) byJob.set(r.jobId, [...(byJob.get(r.jobId) ?? []), r.id]);
          // Enqueued before the claim commits: should Redis refuse, the claim rolls back and the
          // receipts wait for the next sweep with their re-drive count unchanged.
          if (rows.length > 0) await jobs.add([...byJob].map(([jobId, receiptIds]) => ({ jobId, receiptIds })));
          return rows;
        });
        result.redriven.push(...claimed.map((r) => r.id));
        if (claimed.length < CLAIM_LIMIT) break;
      }
      if (result.redriven.length > 0) {
        metrics.receiptsRedriven.inc(result.redriven.length);
        logger.warn({ receipts: result.redriven.length, deadJobs: result.deadJobs }, 'receipt sweeper re-drove receipts whose job was gone (failed for good, stalled out, removed or lost)');
      }
    }
  }
  result.backlog = await receiptBacklog(db);
  metrics.oldestUnprocessedReceiptAge.set(result.backlog.oldestUnprocessedAgeSeconds ?? 0);
  metrics.deadLetteredReceipts.set(result.backlog.deadLettered);
  return result;
}
