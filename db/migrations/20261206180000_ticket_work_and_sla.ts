import type { Knex } from 'knex';

/**
 * Issue 15 items 1–2 (R-TKT-1, R-TKT-2): working a ticket and tracking its SLA.
 *
 * - `tickets.assignee`: who works the ticket (free text: a technician's name or login).
 * - `tickets.first_response_at`: the first response — the first status change out of `new`, or an
 *   operator note marked as the response. Set once, never moved.
 * - `ticket_sla_breaches`: one row per ticket and target ("response", "resolution") once its due
 *   date passed unmet, written by the upkeep job when it happens (not when someone reads the ticket).
 *   The unique constraint makes the job idempotent under BullMQ's at-least-once delivery and
 *   concurrent workers. `due_at` is when the breach happened; `priority` is kept for the metric.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE tickets
      ADD COLUMN assignee text,
      ADD COLUMN first_response_at timestamptz;
    CREATE TABLE ticket_sla_breaches (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      target text NOT NULL CHECK (target IN ('response','resolution')),
      due_at timestamptz NOT NULL,
      priority text NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ticket_sla_breaches_once UNIQUE (ticket_id, target)
    );
    -- The breach job's candidates: tickets whose response or resolution is still owed.
    CREATE INDEX tickets_sla_response_open_idx ON tickets (first_response_due_at)
      WHERE first_response_at IS NULL AND resolved_at IS NULL AND closed_at IS NULL AND first_response_due_at IS NOT NULL;
    CREATE INDEX tickets_sla_resolution_open_idx ON tickets (resolution_due_at)
      WHERE resolved_at IS NULL AND closed_at IS NULL AND resolution_due_at IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS tickets_sla_resolution_open_idx;
    DROP INDEX IF EXISTS tickets_sla_response_open_idx;
    DROP TABLE IF EXISTS ticket_sla_breaches;
    ALTER TABLE tickets
      DROP COLUMN IF EXISTS first_response_at,
      DROP COLUMN IF EXISTS assignee;
  `);
}
