import type { Knex } from 'knex';
import type { Db } from '../connection';

/**
 * Queries of the receipt sweeper and the dead letters (issue 13 item 2): every stored receipt is
 * eventually processed or explicitly dead-lettered. One statement per function.
 *
 * A receipt "waits" when it is unprocessed, not dead-lettered, marked enqueued longer ago than its
 * re-drive delay (`graceSeconds` doubled per earlier re-drive, at most 64 times) and not held off
 * (`not_before`) into the future. The sweeper asks Redis whether the jobs carrying waiting
 * receipts are live; receipts of dead jobs are re-driven or, after `maxRedrives`, dead-lettered.
 */

const WAITING = `processed_at IS NULL AND dead_lettered_at IS NULL AND enqueued_at IS NOT NULL
  AND enqueued_at < now() - make_interval(secs => ?::float8 * power(2, least(redrives, 6)))
  AND (not_before IS NULL OR not_before < now() - make_interval(secs => ?::float8))`;
/** Receipts carried by one of `jobIds`, or by no recorded job when `nullJob`. */
const OF_JOBS = `(job_id = ANY(?::text[]) OR (?::boolean AND job_id IS NULL))`;

export interface WaitingJob {
  /** null: receipts marked enqueued without a recorded job (rows older than the job_id column). */
  jobId: string | null;
  receipts: number;
}

/** The jobs carrying waiting receipts (oldest first), for the sweeper to check in Redis. */
export async function jobsOfWaitingReceipts(db: Db, o: { graceSeconds: number; limit: number }): Promise<WaitingJob[]> {
  const r = (await db.raw(
    `SELECT job_id, count(*)::int AS receipts FROM alert_receipts WHERE ${WAITING}
      GROUP BY job_id ORDER BY min(id) LIMIT ?`,
    [o.graceSeconds, o.graceSeconds, o.limit],
  )) as { rows: Array<{ job_id: string | null; receipts: number }> };
  return r.rows.map((x) => ({ jobId: x.job_id, receipts: x.receipts }));
}

export interface DeadJobsFilter {
  /** Jobs Redis no longer holds live (failed for good, removed, aged out, lost). */
  deadJobIds: readonly string[];
  /** Also take waiting receipts without a recorded job. */
  nullJob: boolean;
  graceSeconds: number;
  maxRedrives: number;
}

/**
 * Claims waiting receipts of dead jobs for a re-drive: each gets a new job id
 * (`jobIdPrefix` + chunk number, `perJob` receipts a chunk), enqueued_at now and one re-drive more.
 * SKIP LOCKED plus the job id changing make it safe with several sweepers: a receipt is claimed
 * once. Returns the receipts with their new job ids.
 */
export async function claimReceiptsForRedrive(
  db: Db,
  f: DeadJobsFilter & { jobIdPrefix: string; perJob: number; limit: number },
): Promise<Array<{ id: string; jobId: string }>> {
  const r = (await db.raw(
    `WITH picked AS (
       SELECT id FROM alert_receipts WHERE ${WAITING} AND ${OF_JOBS} AND redrives < ?
        ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED
     ), c AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM picked)
     UPDATE alert_receipts r SET job_id = ? || ((c.n - 1) / ?)::text, enqueued_at = now(), redrives = r.redrives + 1
       FROM c WHERE r.id = c.id
     RETURNING r.id, r.job_id`,
    <Knex.RawBinding[]>[f.graceSeconds, f.graceSeconds, f.deadJobIds, f.nullJob, f.maxRedrives, f.limit, f.jobIdPrefix, f.perJob],
  )) as { rows: Array<{ id: string; job_id: string }> };
  return r.rows.map((x) => ({ id: String(x.id), jobId: x.job_id }));
}

/**
 * Dead-letters waiting receipts of dead jobs that were re-driven `maxRedrives` times already: the
 * reason names the re-drives and the last error the worker recorded.
 */
export async function deadLetterExhaustedReceipts(
  db: Db,
  f: DeadJobsFilter & { by: string },
): Promise<Array<{ id: string; alertId: string; reason: string }>> {
  const r = (await db.raw(
    `UPDATE alert_receipts SET dead_lettered_at = now(), dead_lettered_by = ?,
            dead_letter_reason = 'not processed after ' || redrives || ' re-drives; last error: ' || coalesce(error, 'none recorded')
      WHERE id IN (SELECT id FROM alert_receipts WHERE ${WAITING} AND ${OF_JOBS} AND redrives >= ? FOR UPDATE SKIP LOCKED)
      RETURNING id, alert_id, dead_letter_reason`,
    <Knex.RawBinding[]>[f.by, f.graceSeconds, f.graceSeconds, f.deadJobIds, f.nullJob, f.maxRedrives],
  )) as { rows: Array<{ id: string; alert_id: string; dead_letter_reason: string }> };
  return r.rows.map((x) => ({ id: String(x.id), alertId: String(x.alert_id), reason: x.dead_letter_reason }));
}

/**
 * Dead-letters the unprocessed receipts of a discarded job: those the job carries now (its id is
 * the receipt's job_id, or none was recorded). A receipt re-driven meanwhile belongs to its new job
 * and is left alone.
 */
export async function deadLetterJobReceipts(
  db: Db,
  o: { receiptIds: readonly string[]; jobId: string; reason: string; by: string },
): Promise<Array<{ id: string; alertId: string }>> {
  if (o.receiptIds.length === 0) return [];
  const r = (await db.raw(
    `UPDATE alert_receipts SET dead_lettered_at = now(), dead_lettered_by = ?, dead_letter_reason = ?,
            enqueued_at = coalesce(enqueued_at, now())
      WHERE id = ANY(?::bigint[]) AND processed_at IS NULL AND dead_lettered_at IS NULL AND (job_id IS NULL OR job_id = ?)
      RETURNING id, alert_id`,
    <Knex.RawBinding[]>[o.by, o.reason.slice(0, 2000), o.receiptIds, o.jobId],
  )) as { rows: Array<{ id: string; alert_id: string }> };
  return r.rows.map((x) => ({ id: String(x.id), alertId: String(x.alert_id) }));
}

export interface DeadLetterRow {
  id: string;
  alert_id: string;
  source: string;
  source_alert_id: string;
  title: string;
  severity: string;
  hostname: string | null;
  received_at: Date;
  dead_lettered_at: Date;
  dead_lettered_by: string;
  dead_letter_reason: string;
  error: string | null;
  attempts: number;
  redrives: number;
  job_id: string | null;
  total: number;
}

/** Dead-lettered receipts not processed since, newest first, with the total for paging. */
export async function listDeadLetters(db: Db, o: { limit: number; offset: number }): Promise<DeadLetterRow[]> {
  const r = (await db.raw(
    `SELECT r.id, r.alert_id, s.name AS source, a.source_alert_id, a.title, a.severity, a.hostname, r.received_at,
            r.dead_lettered_at, r.dead_lettered_by, r.dead_letter_reason, r.error, r.attempts, r.redrives, r.job_id,
            (count(*) OVER ())::int AS total
       FROM alert_receipts r JOIN alerts a ON a.id = r.alert_id JOIN sources s ON s.id = a.source_id
      WHERE r.dead_lettered_at IS NOT NULL AND r.processed_at IS NULL
      ORDER BY r.dead_lettered_at DESC, r.id DESC LIMIT ? OFFSET ?`,
    [o.limit, o.offset],
  )) as { rows: DeadLetterRow[] };
  return r.rows.map((x) => ({ ...x, id: String(x.id), alert_id: String(x.alert_id) }));
}

/**
 * Takes a receipt out of the dead letters for a re-drive under `jobId` (re-drive count reset).
 * Returns what it was dead-lettered for, or undefined when it is not (or no longer) dead-lettered.
 */
export async function reviveDeadLetter(
  db: Db,
  o: { receiptId: string; jobId: string },
): Promise<{ alertId: string; deadLetteredBy: string; reason: string } | undefined> {
  const r = (await db.raw(
    `WITH old AS (
       SELECT id, dead_lettered_by, dead_letter_reason FROM alert_receipts
        WHERE id = ? AND dead_lettered_at IS NOT NULL AND processed_at IS NULL FOR UPDATE
     )
     UPDATE alert_receipts r SET dead_lettered_at = NULL, dead_lettered_by = NULL, dead_letter_reason = NULL,
            job_id = ?, enqueued_at = now(), redrives = 0
       FROM old WHERE r.id = old.id
     RETURNING r.alert_id, old.dead_lettered_by, old.dead_letter_reason`,
    [o.receiptId, o.jobId],
  )) as { rows: Array<{ alert_id: string; dead_lettered_by: string; dead_letter_reason: string }> };
  const row = r.rows[0];
  return row ? { alertId: String(row.alert_id), deadLetteredBy: row.dead_lettered_by, reason: row.dead_letter_reason } : undefined;
}

export interface ReceiptBacklog {
  /** Age of the oldest receipt still to process (not held off into the future); null when none. */
  oldestUnprocessedAgeSeconds: number | null;
  unprocessed: number;
  deadLettered: number;
}

/** The backlog figures of /readyz and the metrics. */
export async function receiptBacklog(db: Db): Promise<ReceiptBacklog> {
  const r = (await db.raw(
    `SELECT (SELECT extract(epoch FROM now() - min(received_at))::float8 FROM alert_receipts
              WHERE processed_at IS NULL AND dead_lettered_at IS NULL AND (not_before IS NULL OR not_before <= now())) AS oldest,
            (SELECT count(*)::int FROM alert_receipts WHERE processed_at IS NULL AND dead_lettered_at IS NULL) AS unprocessed,
            (SELECT count(*)::int FROM alert_receipts WHERE dead_lettered_at IS NOT NULL AND processed_at IS NULL) AS dead`,
  )) as { rows: Array<{ oldest: number | null; unprocessed: number; dead: number }> };
  const row = r.rows[0]!;
  return { oldestUnprocessedAgeSeconds: row.oldest === null ? null : Math.max(0, row.oldest), unprocessed: row.unprocessed, deadLettered: row.dead };
}
