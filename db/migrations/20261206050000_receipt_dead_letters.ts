import type { Knex } from 'knex';

/**
 * Issue 13 item 2: every stored receipt is eventually processed or explicitly dead-lettered.
 *
 * - `job_id`: the BullMQ job that carries the receipt now (written when it is marked enqueued). The
 *   receipt sweeper asks Redis whether that job is still live; a receipt whose job failed for good,
 *   stalled out, was removed or aged out is re-driven. NULL on rows enqueued before this column.
 * - `redrives`: how often the sweeper re-drove it; spaces re-drives out and bounds them.
 * - `dead_lettered_*`: an operator's discard (or the sweeper giving up) — who, when, why. A
 *   dead-lettered receipt is never enqueued again unless it is re-driven explicitly.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE alert_receipts
      ADD COLUMN job_id text,
      ADD COLUMN redrives integer NOT NULL DEFAULT 0,
      ADD COLUMN dead_lettered_at timestamptz,
      ADD COLUMN dead_lettered_by text,
      ADD COLUMN dead_letter_reason text;
    CREATE INDEX alert_receipts_dead_letter_idx ON alert_receipts (dead_lettered_at DESC, id DESC) WHERE dead_lettered_at IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS alert_receipts_dead_letter_idx;
    ALTER TABLE alert_receipts
      DROP COLUMN IF EXISTS job_id,
      DROP COLUMN IF EXISTS redrives,
      DROP COLUMN IF EXISTS dead_lettered_at,
      DROP COLUMN IF EXISTS dead_lettered_by,
      DROP COLUMN IF EXISTS dead_letter_reason;
  `);
}
