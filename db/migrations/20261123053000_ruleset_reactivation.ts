import type { Knex } from 'knex';

/**
 * R-RUL-3: every ruleset that goes live is recorded. An admin who reverts an edit (A → B → A)
 * puts A live again, and that activation needs its own version (tickets reference versions, and
 * "what was live on Tuesday" must have one answer), so a content hash may now appear in several
 * versions. The version stays unique; the hash keeps an index for look-ups.
 *
 * A refused ruleset stays "the current error" until a good ruleset is loaded again (possibly the
 * same content as the live one, when the admin reverts the bad edit): resolved_at records that,
 * so every process's `GET /rules/status` agrees on whether an error is pending.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE rulesets DROP CONSTRAINT rulesets_hash_unique');
  await knex.raw('CREATE INDEX rulesets_content_hash_idx ON rulesets (content_hash)');
  await knex.raw('ALTER TABLE ruleset_errors ADD COLUMN resolved_at timestamptz');
  await knex.raw('CREATE INDEX ruleset_errors_detected_idx ON ruleset_errors (detected_at DESC, id DESC)');
}

export async function down(knex: Knex): Promise<void> {
  const dup = await knex.raw<{ rows: unknown[] }>('SELECT content_hash FROM rulesets GROUP BY content_hash HAVING count(*) > 1 LIMIT 1');
  if (dup.rows.length > 0) {
    // Deleting history to restore the old constraint would lose which version tickets used.
    throw new Error('rulesets: a content hash was re-activated under several versions; the unique constraint cannot be restored without deleting versions');
  }
  await knex.raw('DROP INDEX IF EXISTS ruleset_errors_detected_idx');
  await knex.raw('ALTER TABLE ruleset_errors DROP COLUMN IF EXISTS resolved_at');
  await knex.raw('DROP INDEX IF EXISTS rulesets_content_hash_idx');
  await knex.raw('ALTER TABLE rulesets ADD CONSTRAINT rulesets_hash_unique UNIQUE (content_hash)');
}
