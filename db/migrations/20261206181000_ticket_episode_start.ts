import type { Knex } from 'knex';

/**
 * Issue 15 item 7: a ticket's current firing episode starts at the firing that opened it, or at the
 * one that last reopened it (flapping). A resolved event older than that start ended an earlier
 * episode (a late retry) and must not resolve the ticket. NULL = `first_occurred_at` (never reopened).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tickets ADD COLUMN episode_started_at timestamptz;
    COMMENT ON COLUMN tickets.episode_started_at IS
      'occurred_at of the firing that last reopened the ticket; NULL = first_occurred_at. A resolved event older than this leaves the ticket open';
    -- The key's last resolution (newest occurred_at of a resolved event applied to it): one index
    -- probe per key. Only columns that never change after the insert, so the decision's update of
    -- the alert row stays a HOT update.
    CREATE INDEX alerts_resolved_key_idx ON alerts (dedup_key, occurred_at DESC) WHERE state = 'resolved';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS alerts_resolved_key_idx;
    ALTER TABLE tickets DROP COLUMN IF EXISTS episode_started_at;
  `);
}
