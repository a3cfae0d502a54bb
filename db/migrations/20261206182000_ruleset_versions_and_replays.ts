import type { Knex } from 'knex';

/**
 * Issue 15 items 8/9, issue 17 item 2: the rules editor's server side.
 *
 * - `rulesets.files`: the file texts as written (an array of `{ name, text }`), so a version shows
 *   exactly what the admin saved, comments of formatting included; `content` stays the parsed
 *   form the hash and the engine use. Older versions have none (the API pretty-prints `content`).
 * - `rulesets.message`: why a version was saved through the API (null for file edits).
 * - `rule_replays` / `rule_replay_changes`: a replay of a candidate ruleset over a period runs as a
 *   background job; its progress and each changed decision are rows, written batch by batch with
 *   the cursor (`cursor_alert_id`) in the same transaction, so a retried job resumes where the last
 *   commit left it and a change is never counted twice (primary key (replay_id, alert_id)).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE rulesets ADD COLUMN files jsonb, ADD COLUMN message text;

    CREATE TABLE rule_replays (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
      since timestamptz NOT NULL,
      until timestamptz NOT NULL,
      candidate jsonb NOT NULL,
      candidate_hash text NOT NULL,
      live_version integer NOT NULL,
      progress_done integer NOT NULL DEFAULT 0,
      progress_total integer,
      cursor_alert_id bigint,
      error text,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      CONSTRAINT rule_replays_period CHECK (until > since)
    );
    CREATE INDEX rule_replays_created_idx ON rule_replays (created_at DESC);

    CREATE TABLE rule_replay_changes (
      replay_id bigint NOT NULL REFERENCES rule_replays(id) ON DELETE CASCADE,
      alert_id bigint NOT NULL,
      occurred_at timestamptz NOT NULL,
      title text NOT NULL,
      device jsonb NOT NULL,
      changes jsonb NOT NULL,
      fields text[] NOT NULL,
      PRIMARY KEY (replay_id, alert_id)
    );
    CREATE INDEX rule_replay_changes_fields_idx ON rule_replay_changes USING gin (fields);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS rule_replay_changes;
    DROP TABLE IF EXISTS rule_replays;
    ALTER TABLE rulesets DROP COLUMN IF EXISTS message, DROP COLUMN IF EXISTS files;
  `);
}
