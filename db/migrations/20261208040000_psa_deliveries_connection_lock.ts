import type { Knex } from 'knex';

/**
 * Issue 16, the outbox's cost per new ticket (bench/README.md, "Seventh look"): `psa_deliveries.connection_id`
 * loses its foreign key. The key was checked once per outbox row — an SPI query and a `FOR KEY SHARE`
 * lock of the connection's row for every new ticket of an apply transaction, all on the same one or two
 * connection rows — and that check was most of what an outbox row costs Postgres at fixed batches.
 *
 * The same integrity, kept without a per-row check:
 * - **Insert.** The only writer of new rows, `insertDeliveries` (db/queries/psa-deliveries.ts), takes its
 *   connection ids from `outboxTargets` in the same transaction, which now locks the enabled connections'
 *   rows `FOR KEY SHARE` once per statement — the lock the foreign key took per row. A delete of a connection
 *   (`FOR UPDATE`, app/psa/connections.ts `removeConnection`) therefore waits for every transaction that
 *   read the connection as a target, and a transaction reading targets after a delete committed no longer
 *   sees the connection.
 * - **Delete.** `ON DELETE CASCADE` becomes a row trigger on `psa_connections` that deletes the
 *   connection's deliveries in the deleting statement's transaction (so every delete path — the API, the
 *   demo, the benchmark — still takes them along), and `TRUNCATE psa_connections CASCADE` (the status
 *   tables keep their keys, so it needs CASCADE as before) still truncates `psa_deliveries` with it.
 *
 * Down deletes deliveries whose connection is gone (none, if only the hub wrote), then restores the key.
 * Test: test/integration/psa/connection-delete.test.ts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE psa_deliveries DROP CONSTRAINT psa_deliveries_connection_id_fkey;
    CREATE FUNCTION psa_connection_deliveries_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM psa_deliveries WHERE connection_id = OLD.id;
      RETURN OLD;
    END $$;
    CREATE TRIGGER psa_connections_deliveries_delete AFTER DELETE ON psa_connections
      FOR EACH ROW EXECUTE FUNCTION psa_connection_deliveries_delete();
    CREATE FUNCTION psa_connection_deliveries_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      TRUNCATE psa_deliveries;
      RETURN NULL;
    END $$;
    CREATE TRIGGER psa_connections_deliveries_truncate BEFORE TRUNCATE ON psa_connections
      FOR EACH STATEMENT EXECUTE FUNCTION psa_connection_deliveries_truncate();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS psa_connections_deliveries_truncate ON psa_connections;
    DROP FUNCTION IF EXISTS psa_connection_deliveries_truncate();
    DROP TRIGGER IF EXISTS psa_connections_deliveries_delete ON psa_connections;
    DROP FUNCTION IF EXISTS psa_connection_deliveries_delete();
    DELETE FROM psa_deliveries d WHERE NOT EXISTS (SELECT 1 FROM psa_connections c WHERE c.id = d.connection_id);
    ALTER TABLE psa_deliveries ADD CONSTRAINT psa_deliveries_connection_id_fkey
      FOREIGN KEY (connection_id) REFERENCES psa_connections(id) ON DELETE CASCADE;
  `);
}
