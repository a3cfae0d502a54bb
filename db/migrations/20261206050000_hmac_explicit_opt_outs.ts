import type { Knex } from 'knex';

/**
 * Issue 13 items 4 and 8: HMAC sources are replay-protected by default (scheme "timestamped"), and
 * HMAC-SHA1 needs the per-source opt-in `allowSha1`. Sources stored before that kept working by
 * signing the body alone (no timestampHeader) or with sha1: they are written down here as the
 * explicit opt-outs they were, so every existing sender keeps working and GET /api/v1/sources
 * shows which sources lack replay protection. New sources must choose.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    UPDATE sources SET auth_settings = auth_settings || '{"scheme": "body-only"}'::jsonb
     WHERE auth_type = 'hmac' AND auth_settings->'scheme' IS NULL AND auth_settings->'timestampHeader' IS NULL`);
  await knex.raw(`
    UPDATE sources SET auth_settings = auth_settings || '{"allowSha1": true}'::jsonb
     WHERE auth_type = 'hmac' AND auth_settings->>'algorithm' = 'sha1' AND auth_settings->'allowSha1' IS NULL`);
}

/** Back to the old meaning (no scheme = body only when there is no timestamp header; sha1 allowed). */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`UPDATE sources SET auth_settings = auth_settings - 'allowSha1' WHERE auth_type = 'hmac'`);
  await knex.raw(`UPDATE sources SET auth_settings = auth_settings - 'scheme' WHERE auth_type = 'hmac' AND auth_settings->>'scheme' = 'body-only'`);
}
