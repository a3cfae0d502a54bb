import type { Knex } from 'knex';

/**
 * Maintenance windows (issue 6): alerts a window silenced are listed, never dropped, and with
 * `processAfter` those still firing when the window ends are processed then.
 *
 * The unit of work is the receipt, so the receipt records which window silenced it — a snapshot
 * of the window (its key, name, timing and processAfter), because the window may be edited or
 * deleted before it ends, and a rules-file window has no row at all. `maintenance_window_key`
 * (derived) lists a window's alerts by index.
 *
 * Releasing a receipt when its window ended re-opens it for the worker (processed_at and
 * enqueued_at back to NULL, so the outbox relay enqueues it even if Redis is down) and marks it
 * `window_release = 'requeued'`: the worker must not suppress it by a window again (it would,
 * since the alert's own time is still inside the window). Receipts not re-processed are marked
 * too (`resolved`: a resolve arrived since; `superseded`: a later firing of the same condition
 * exists; `kept`: the window no longer asks to process after), so every release runs once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE alert_receipts
      ADD COLUMN maintenance_window jsonb,
      ADD COLUMN maintenance_window_key text GENERATED ALWAYS AS (maintenance_window->>'key') STORED,
      ADD COLUMN window_released_at timestamptz,
      ADD COLUMN window_release text CHECK (window_release IN ('requeued','resolved','superseded','kept')),
      ADD CONSTRAINT alert_receipts_window_release_pair_check CHECK ((window_release IS NULL) = (window_released_at IS NULL));
    CREATE INDEX alert_receipts_window_key_idx ON alert_receipts (maintenance_window_key, alert_id) WHERE maintenance_window_key IS NOT NULL;
    -- Only receipts a processAfter window still holds: the window-end run's work list (the predicate
    -- is spelled as heldReceipts() queries it, so the planner can use the index).
    CREATE INDEX alert_receipts_window_pending_idx ON alert_receipts (id)
      WHERE maintenance_window IS NOT NULL AND window_released_at IS NULL AND (maintenance_window->>'processAfter')::boolean;
    CREATE INDEX maintenance_windows_company_idx ON maintenance_windows (company_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS maintenance_windows_company_idx;
    DROP INDEX IF EXISTS alert_receipts_window_pending_idx;
    DROP INDEX IF EXISTS alert_receipts_window_key_idx;
    ALTER TABLE alert_receipts
      DROP CONSTRAINT IF EXISTS alert_receipts_window_release_pair_check,
      DROP COLUMN IF EXISTS window_release,
      DROP COLUMN IF EXISTS window_released_at,
      DROP COLUMN IF EXISTS maintenance_window_key,
      DROP COLUMN IF EXISTS maintenance_window;
  `);
}
