import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import { writeAudit } from '../../db/queries/audit';
import { deadLetterJobReceipts, listDeadLetters, reviveDeadLetter, type DeadLetterRow } from '../../db/queries/receipt-recovery';
import { metrics } from '../../lib/metrics';
import type { ReceiptJobs } from './receipt-jobs';

/** Who did it and in which request, for the audit log. */
export interface Actor {
  actor: string;
  requestId?: string | null;
}

export interface DiscardedJob {
  queue: string;
  jobId: string;
  /** The receipt ids the job carries (alerts queue), else empty. */
  receiptIds: readonly string[];
  failedReason: string | null;
  attemptsMade: number;
}

/**
 * An operator discards a job (API or dashboard; issue 13 items 2 and 7). Its unprocessed receipts
 * are dead-lettered — with the reason, who and when, audited — in one transaction, and only then
 * is the job removed (`removeJob`): an alert is never dropped by deleting a job. Should the removal
 * fail, the receipts stay dead-lettered (the sweeper leaves them alone) and the discard can be
 * repeated. Returns the dead-lettered receipt ids.
 */
export async function discardJob(
  deps: { db: Knex },
  job: DiscardedJob,
  by: Actor & { via: 'api' | 'dashboard' },
  removeJob: () => Promise<void>,
): Promise<string[]> {
  const reason = `job ${job.queue}:${job.jobId} discarded by ${by.actor} (${by.via})${job.failedReason ? `; it had failed: ${job.failedReason}` : ''}`;
  const dead = await deps.db.transaction(async (trx) => {
    const rows = await deadLetterJobReceipts(trx, { receiptIds: job.receiptIds, jobId: job.jobId, reason, by: by.actor });
    await writeAudit(trx, {
      actor: by.actor,
      action: 'job.discard',
      entityType: 'job',
      entityId: `${job.queue}:${job.jobId}`,
      before: { receiptIds: job.receiptIds, failedReason: job.failedReason, attemptsMade: job.attemptsMade },
      after: { via: by.via, deadLetteredReceiptIds: rows.map((r) => r.id) },
      requestId: by.requestId ?? null,
    });
    for (const r of rows)
      await writeAudit(trx, {
        actor: by.actor,
        action: 'receipt.dead_letter',
        entityType: 'alert_receipt',
        entityId: r.id,
        after: { alertId: r.alertId, reason },
        requestId: by.requestId ?? null,
      });
    return rows.map((r) => r.id);
  });
  if (dead.length > 0) metrics.receiptsDeadLettered.inc({ by: 'operator' }, dead.length);
  await removeJob();
  return dead;
}

/** An operator retries a failed job: audited with the receipts it carries. */
export async function auditJobRetry(deps: { db: Knex }, job: DiscardedJob, by: Actor & { via: 'api' | 'dashboard' }): Promise<void> {
  await writeAudit(deps.db, {
    actor: by.actor,
    action: 'job.retry',
    entityType: 'job',
    entityId: `${job.queue}:${job.jobId}`,
    before: { receiptIds: job.receiptIds, failedReason: job.failedReason, attemptsMade: job.attemptsMade },
    after: { via: by.via },
    requestId: by.requestId ?? null,
  });
}

export interface DeadLetter {
  receiptId: string;
  alertId: string;
  source: string;
  sourceAlertId: string;
  title: string;
  severity: string;
  hostname: string | null;
  receivedAt: string;
  deadLetteredAt: string;
  deadLetteredBy: string;
  reason: string;
  lastError: string | null;
  attempts: number;
  redrives: number;
  jobId: string | null;
}

const out = (r: DeadLetterRow): DeadLetter => ({
  receiptId: r.id,
  alertId: r.alert_id,
  source: r.source,
  sourceAlertId: r.source_alert_id,
  title: r.title,
  severity: r.severity,
  hostname: r.hostname,
  receivedAt: r.received_at.toISOString(),
  deadLetteredAt: r.dead_lettered_at.toISOString(),
  deadLetteredBy: r.dead_lettered_by,
  reason: r.dead_letter_reason,
  lastError: r.error,
  attempts: r.attempts,
  redrives: r.redrives,
  jobId: r.job_id,
});

/** The dead letters an operator must look at, newest first. */
export async function deadLetterPage(deps: { db: Knex }, page: { limit: number; offset: number }): Promise<{ items: DeadLetter[]; total: number }> {
  const rows = await listDeadLetters(deps.db, page);
  return { items: rows.map(out), total: rows[0]?.total ?? 0 };
}

/**
 * An operator re-drives a dead-lettered receipt: it leaves the dead letters and goes on the queue
 * under a new job, in one step — the enqueue happens before the change commits, so when Redis
 * refuses nothing changes (503). Audited with what it was dead-lettered for.
 */
export async function redriveDeadLetter(deps: { db: Knex; jobs: ReceiptJobs }, receiptId: string, by: Actor): Promise<{ receiptId: string; jobId: string }> {
  const jobId = `redrive-${crypto.randomUUID()}`;
  await deps.db.transaction(async (trx) => {
    const was = await reviveDeadLetter(trx, { receiptId, jobId });
    if (!was) throw new HubError('NOT_FOUND', `dead-lettered receipt ${receiptId} not found (never dead-lettered, already re-driven or processed)`);
    await writeAudit(trx, {
      actor: by.actor,
      action: 'receipt.redrive',
      entityType: 'alert_receipt',
      entityId: receiptId,
      before: { deadLetteredBy: was.deadLetteredBy, reason: was.reason },
      after: { jobId, alertId: was.alertId },
      requestId: by.requestId ?? null,
    });
    try {
      await deps.jobs.add([{ jobId, receiptIds: [receiptId] }]);
    } catch (e) {
      throw new HubError('NOT_READY', `receipt ${receiptId} could not be enqueued (${e instanceof Error ? e.message : String(e)}); it stays dead-lettered`);
    }
  });
  return { receiptId, jobId };
}
