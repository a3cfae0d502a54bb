import type { Knex } from 'knex';

/** What postAlerts has had answered so far: a 2xx means the request's receipts are committed (R-ALR-1). */
export interface PostProgress {
  acceptedAlerts: number;
}

export const newProgress = (): PostProgress => ({ acceptedAlerts: 0 });

/**
 * Whether every alert a run posted is processed, at a cost that does not grow with the run: until every
 * alert is answered nothing is asked of Postgres (an unanswered one cannot be processed yet); then one
 * probe of the unprocessed receipts (`alert_receipts_pending_idx`).
 *
 * The benchmarks used to count the processed receipts every 50 ms from the first post: a scan of the
 * whole table (about 3 ms at 20,000 receipts, twenty times a second), on the two cores the hub was
 * being measured on. Its CPU was never counted as the hub's (the bench's own connection is left out,
 * cpu.ts), but it took cores from the run and grew with it; the perfbase prototypes count only after
 * their load ends.
 */
export async function allProcessed(db: Knex, progress: PostProgress, total: number): Promise<boolean> {
  if (progress.acceptedAlerts < total) return false;
  const { rows } = await db.raw<{ rows: Array<{ pending: boolean }> }>('SELECT EXISTS (SELECT 1 FROM alert_receipts WHERE processed_at IS NULL) AS pending');
  return rows[0]?.pending === false;
}
