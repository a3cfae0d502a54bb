import type { Knex } from 'knex';

/**
 * Issue 16 item 4: status back (R-PSA-3).
 *
 * - `psa_status_events`: each PSA callback the hub acted on, unique per (connection, event key), so
 *   a repeated or replayed callback (Autotask re-sends a callout it thinks failed; a captured signed
 *   body posted again) does its work once. Kept small: rows older than the retention are deleted by
 *   the poll job.
 * - `psa_status_back`: per connection, the cursor of the polling fallback (`polled_until`: the PSA's
 *   last-activity stamp up to which changes were read) and the webhook the hub registered in the PSA.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE psa_status_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      connection_id bigint NOT NULL REFERENCES psa_connections(id) ON DELETE CASCADE,
      event_key text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 300),
      external_id text,
      outcome text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT psa_status_events_key_unique UNIQUE (connection_id, event_key)
    );
    CREATE INDEX psa_status_events_received_idx ON psa_status_events (received_at);

    CREATE TABLE psa_status_back (
      connection_id bigint PRIMARY KEY REFERENCES psa_connections(id) ON DELETE CASCADE,
      polled_until timestamptz,
      last_poll_at timestamptz,
      last_poll_error text,
      webhook_id text,
      webhook_url text,
      webhook_registered_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    COMMENT ON COLUMN psa_status_back.polled_until IS 'PSA last-activity stamp up to which ticket changes were read by the polling fallback';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE psa_status_back; DROP TABLE psa_status_events;`);
}
