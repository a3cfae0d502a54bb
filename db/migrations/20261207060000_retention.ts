import type { Knex } from 'knex';

/**
 * Issue 19, cost as the data grows: what the retention job (app/retention/) needs.
 *
 * - `audit_log` becomes a table partitioned by month of `at` (Postgres declarative range
 *   partitioning): partitions `audit_log_yYYYYmMM` plus `audit_log_default` for rows outside every
 *   month (kept empty in practice: the job creates months ahead). Audit retention is then a
 *   DETACH + DROP of whole months: the same cost whatever the table's size. The primary key must
 *   include the partition key, so it becomes (id, at); `id` stays an identity (values kept, the
 *   sequence continues after the largest). audit_log has no other uniqueness and nothing
 *   references it, so nothing is weakened.
 *
 * - `deliveries`, `alerts` and `alert_receipts` are NOT partitioned. Each carries an idempotency
 *   guarantee the intake relies on (`ON CONFLICT` and at-least-once re-delivery):
 *   deliveries (source_id, delivery_key) — a sender's retried delivery is recognised;
 *   alerts (source_id, source_alert_id) — the same alert event gets the same alert (R-ALR-4 counts);
 *   alert_receipts (alert_id, delivery_id) — a receipt is applied once.
 *   A unique constraint on a partitioned table must contain the partition key (a time), which
 *   would make each of them unique only within a partition: a retry landing in the next month
 *   would create a second row. So these keep their global unique indexes, and their retention is
 *   a bounded, batched DELETE walking an index in time/id order from where the previous run
 *   stopped (retention_marks) — each run's cost follows the rows that aged out since the last run,
 *   not the table's size.
 *
 * - Two indexes that make those deletes cheap: `alerts (first_delivery_id)` and
 *   `alert_receipts (delivery_id)` — without them each deleted delivery would scan both tables
 *   to check its foreign keys (the second also serves findDeliveryAlertIds, a delivery-id retry).
 *   Both are appended in id order (right-most leaf page), the cheapest index to maintain. And
 *   `storm_related_alerts (alert_id)`: each deleted alert sets its attachments' alert_id to NULL.
 *
 * - `tickets (company_id, id DESC)` replaces `tickets (company_id)`: the ticket list of one company,
 *   newest first, walked the primary key backwards past every other company's tickets on the aged
 *   benchmark (EXPLAIN ANALYZE on 100,000 tickets of 200 companies: 48 ms; with this index 0.6 ms).
 *
 * - `retention_marks`: where each id-ordered walk stopped (one row per kind).
 *
 * Up and down keep every row (test/integration/db/retention-migration.test.ts). On a large
 * existing audit_log, up copies the table once (an ACCESS EXCLUSIVE lock for the copy).
 */

const AUDIT_COLUMNS = 'id, at, actor, action, entity_type, entity_id, company_id, before, after, request_id';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE audit_log RENAME TO audit_log_unpartitioned;
    ALTER INDEX audit_log_pkey RENAME TO audit_log_unpartitioned_pkey;
    ALTER INDEX audit_log_entity_idx RENAME TO audit_log_unpartitioned_entity_idx;
    ALTER INDEX audit_log_at_idx RENAME TO audit_log_unpartitioned_at_idx;

    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text,
      company_id bigint,
      before jsonb,
      after jsonb,
      request_id text,
      CONSTRAINT audit_log_pkey PRIMARY KEY (id, at)
    ) PARTITION BY RANGE (at);
    CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
    CREATE INDEX audit_log_at_idx ON audit_log (at);
    CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
  `);
  // One partition per month from the oldest row's month to three months ahead.
  await knex.raw(`
    DO $$
    DECLARE m date;
    BEGIN
      FOR m IN SELECT generate_series(
                 date_trunc('month', least(coalesce((SELECT min(at) FROM audit_log_unpartitioned), now()), now()) AT TIME ZONE 'UTC')::date,
                 (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date,
                 interval '1 month')::date
      LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
                       'audit_log_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM'),
                       (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
      END LOOP;
    END $$;
  `);
  await knex.raw(`
    INSERT INTO audit_log (${AUDIT_COLUMNS}) OVERRIDING SYSTEM VALUE SELECT ${AUDIT_COLUMNS} FROM audit_log_unpartitioned;
    SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce((SELECT max(id) FROM audit_log_unpartitioned), 0) + 1, false);
    DROP TABLE audit_log_unpartitioned;
    DO $$ BEGIN
      EXECUTE format('ALTER SEQUENCE %s RENAME TO audit_log_id_seq', pg_get_serial_sequence('audit_log', 'id'));
    END $$;

    CREATE INDEX alerts_first_delivery_idx ON alerts (first_delivery_id);
    CREATE INDEX alert_receipts_delivery_idx ON alert_receipts (delivery_id);
    CREATE INDEX storm_related_alerts_alert_idx ON storm_related_alerts (alert_id) WHERE alert_id IS NOT NULL;
    CREATE INDEX tickets_company_id_idx ON tickets (company_id, id DESC);
    DROP INDEX tickets_company_idx;

    CREATE TABLE retention_marks (
      kind text PRIMARY KEY,
      -- The walk of this kind resumes after this id.
      after_id bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS retention_marks;
    DROP INDEX IF EXISTS alert_receipts_delivery_idx;
    DROP INDEX IF EXISTS storm_related_alerts_alert_idx;
    CREATE INDEX IF NOT EXISTS tickets_company_idx ON tickets (company_id);
    DROP INDEX IF EXISTS tickets_company_id_idx;
    DROP INDEX IF EXISTS alerts_first_delivery_idx;

    CREATE TABLE audit_log_plain (
      id bigint GENERATED ALWAYS AS IDENTITY,
      at timestamptz NOT NULL DEFAULT now(),
      actor text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text,
      company_id bigint,
      before jsonb,
      after jsonb,
      request_id text
    );
    INSERT INTO audit_log_plain (${AUDIT_COLUMNS}) OVERRIDING SYSTEM VALUE SELECT ${AUDIT_COLUMNS} FROM audit_log;
    SELECT setval(pg_get_serial_sequence('audit_log_plain', 'id'), coalesce((SELECT max(id) FROM audit_log), 0) + 1, false);
    DROP TABLE audit_log;
    ALTER TABLE audit_log_plain RENAME TO audit_log;
    ALTER SEQUENCE audit_log_plain_id_seq RENAME TO audit_log_id_seq;
    ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
    CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
    CREATE INDEX audit_log_at_idx ON audit_log (at);
  `);
}
