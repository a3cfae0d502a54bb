import type { Knex } from 'knex';

/**
 * Issue 18 (R-STORM-1): inhibition and grouping. The database decides under concurrent workers:
 *
 * - `storm_groups`: one row per (group rule, values of its `by` fields). Every alert that may join
 *   a group locks its row (upsert) first, so the count "more than N within M seconds" and the
 *   parent it opens are decided by one transaction at a time: exactly one parent per group.
 * - `tickets.parent_ticket_id`: a child has one column for its parent, so it can never be a child
 *   of two groups. `tickets.storm_group_id`: the group a ticket was counted in (a candidate until
 *   the group opens its parent), `tickets.storm_parent`: the ticket is a group's parent incident.
 * - `storm_inhibit_sources`: a ticket whose alert matched an inhibit rule's source side, with the
 *   values of the rule's `equal` fields (canonical JSON), so a target finds its source by index.
 * - `storm_related_alerts`: a target alert attached to its source's ticket instead of opening one.
 *   At most one firing attachment per dedup key (partial unique index): never related twice.
 *   `pending_ticket` is the ticket it would have opened, opened when its source resolves.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE storm_groups (
      id bigserial PRIMARY KEY,
      rule text NOT NULL,
      group_key text NOT NULL,
      key_values jsonb NOT NULL DEFAULT '{}'::jsonb,
      parent_ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT storm_groups_rule_key_unique UNIQUE (rule, group_key)
    );
    ALTER TABLE tickets
      ADD COLUMN parent_ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      ADD COLUMN storm_group_id bigint REFERENCES storm_groups(id) ON DELETE SET NULL,
      ADD COLUMN storm_parent boolean NOT NULL DEFAULT false,
      ADD CONSTRAINT tickets_parent_not_self CHECK (parent_ticket_id IS NULL OR parent_ticket_id <> id),
      ADD CONSTRAINT tickets_parent_has_no_parent CHECK (NOT (storm_parent AND parent_ticket_id IS NOT NULL));
    CREATE INDEX tickets_parent_idx ON tickets (parent_ticket_id) WHERE parent_ticket_id IS NOT NULL;
    CREATE INDEX tickets_storm_candidates_idx ON tickets (storm_group_id, first_occurred_at) WHERE storm_group_id IS NOT NULL AND parent_ticket_id IS NULL AND NOT storm_parent;

    CREATE TABLE storm_inhibit_sources (
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      rule text NOT NULL,
      equal_key text NOT NULL,
      matches_target boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (ticket_id, rule)
    );
    CREATE INDEX storm_inhibit_sources_key_idx ON storm_inhibit_sources (rule, equal_key);

    CREATE TABLE storm_related_alerts (
      id bigserial PRIMARY KEY,
      ticket_id bigint NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
      rule text NOT NULL,
      dedup_key text NOT NULL,
      alert_id bigint REFERENCES alerts(id) ON DELETE SET NULL,
      title text NOT NULL,
      state text NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'resolved', 'released')),
      when_source_resolves text NOT NULL DEFAULT 'open' CHECK (when_source_resolves IN ('open', 'stay')),
      occurrences integer NOT NULL DEFAULT 1,
      first_occurred_at timestamptz NOT NULL,
      last_occurred_at timestamptz NOT NULL,
      resolved_at timestamptz,
      released_ticket_id bigint REFERENCES tickets(id) ON DELETE SET NULL,
      pending_ticket jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX storm_related_one_firing_per_key ON storm_related_alerts (dedup_key) WHERE state = 'firing';
    CREATE INDEX storm_related_ticket_idx ON storm_related_alerts (ticket_id, id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS storm_related_alerts;
    DROP TABLE IF EXISTS storm_inhibit_sources;
    DROP INDEX IF EXISTS tickets_storm_candidates_idx;
    DROP INDEX IF EXISTS tickets_parent_idx;
    ALTER TABLE tickets
      DROP CONSTRAINT IF EXISTS tickets_parent_has_no_parent,
      DROP CONSTRAINT IF EXISTS tickets_parent_not_self,
      DROP COLUMN IF EXISTS storm_parent,
      DROP COLUMN IF EXISTS storm_group_id,
      DROP COLUMN IF EXISTS parent_ticket_id;
    DROP TABLE IF EXISTS storm_groups;
  `);
}
