import type { Knex } from 'knex';

/**
 * The alert write path, tuned with the end-to-end benchmark (issue 7):
 *
 * - `alerts` is inserted small (the payload) and updated once with the decision (~1.5 kB). With
 *   room left on the page, that update is a HOT update: no new entry in each of the four indexes.
 *   Rows end up ~2 kB either way, so the table's final size barely changes.
 * - `alert_receipts_alert_idx (alert_id)` duplicated the leading column of the unique
 *   (alert_id, delivery_id) index; every receipt paid for both.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE alerts SET (fillfactor = 50);
    DROP INDEX IF EXISTS alert_receipts_alert_idx;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE alerts RESET (fillfactor);
    CREATE INDEX IF NOT EXISTS alert_receipts_alert_idx ON alert_receipts (alert_id);
  `);
}
