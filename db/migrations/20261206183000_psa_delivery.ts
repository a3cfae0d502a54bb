import type { Knex } from 'knex';

const REF_TABLES = ['companies', 'contracts', 'services', 'slas', 'devices'] as const;

/**
 * Issue 16: PSA delivery.
 *
 * - `psa_connections`: one configured PSA (or webhook receiver). `config` holds the settings
 *   without secrets; the secret fields of the connector (Autotask `secret`, `webhookSecret`, …)
 *   are sealed into `secrets_enc` like source secrets (AES-256-GCM under HUB_SECRET_KEYS, the
 *   connection's name as associated data: `psaSecretsContext`).
 * - `psa_refs` (jsonb `{ "<connection name>": "<PSA id>" }`) on companies, contracts, services,
 *   slas and devices: a column rather than a table, because a record is always read with its refs
 *   and the import (and delivery) look records up by `psa_refs ->> name` (GIN index).
 * - `psa_deliveries`: the outbox, one row per (ticket, connection), written in the same
 *   transaction as the ticket change. What is still to send is data on the row: no external id
 *   yet (create), `pending_occurrences` since `occurrences_since` (coalesced into one note),
 *   `pending_notes` (re-fires, resolutions, ticket notes), `change_seq > sent_seq` (priority,
 *   status, contract changed: update or close). `claimed_by/claimed_until` is the lease of the
 *   one worker delivering it; `rank` orders a backlog (1 = critical first).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE psa_connections (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
      type text NOT NULL CHECK (type IN ('autotask','connectwise','webhook')),
      enabled boolean NOT NULL DEFAULT true,
      config jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(config) = 'object'),
      secrets_enc text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT psa_connections_name_unique UNIQUE (name)
    );
    COMMENT ON COLUMN psa_connections.secrets_enc IS 'The connector''s secret fields, sealed like source secrets with the connection name as associated data';

    CREATE TABLE psa_deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      connection_id bigint NOT NULL REFERENCES psa_connections(id) ON DELETE CASCADE,
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','failed','skipped')),
      rank smallint NOT NULL DEFAULT 3 CHECK (rank BETWEEN 1 AND 9),
      external_id text,
      external_number text,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      pending_occurrences integer NOT NULL DEFAULT 0 CHECK (pending_occurrences >= 0),
      occurrences_since timestamptz,
      pending_notes jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(pending_notes) = 'array'),
      change_seq bigint NOT NULL DEFAULT 0,
      sent_seq bigint NOT NULL DEFAULT 0,
      closed_in_psa boolean NOT NULL DEFAULT false,
      claimed_by text,
      claimed_until timestamptz,
      pending_since timestamptz DEFAULT now(),
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT psa_deliveries_ticket_connection_unique UNIQUE (ticket_id, connection_id)
    );
    CREATE UNIQUE INDEX psa_deliveries_external_id_unique ON psa_deliveries (connection_id, external_id) WHERE external_id IS NOT NULL;
    CREATE INDEX psa_deliveries_backlog_idx ON psa_deliveries (connection_id, rank, id) WHERE state = 'pending';
    CREATE INDEX psa_deliveries_failed_idx ON psa_deliveries (connection_id, id) WHERE state = 'failed';
  `);
  for (const t of REF_TABLES) {
    await knex.raw(`
      ALTER TABLE ${t} ADD COLUMN psa_refs jsonb NOT NULL DEFAULT '{}'::jsonb
        CONSTRAINT ${t}_psa_refs_object CHECK (jsonb_typeof(psa_refs) = 'object');
      CREATE INDEX ${t}_psa_refs_idx ON ${t} USING gin (psa_refs jsonb_path_ops);
    `);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const t of REF_TABLES) await knex.raw(`ALTER TABLE ${t} DROP COLUMN psa_refs`);
  await knex.raw(`DROP TABLE psa_deliveries; DROP TABLE psa_connections;`);
}
