import type { Knex } from 'knex';

/**
 * Issue 13 item 1: "every company" becomes an explicit flag on the token instead of "no
 * api_token_companies rows". Those rows cascade away with their company, so a token scoped to a
 * deleted company used to read as unscoped. Now a token without the flag and without rows has
 * access to nothing.
 *
 * Existing tokens: one without rows gets the flag, unless its creation audit row shows it was
 * created with companies (they were deleted since; the token had silently widened, and it now
 * sees nothing again). Scoped tokens keep their list. The default is false so that any writer
 * that forgets the column fails closed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE api_tokens ADD COLUMN all_companies boolean NOT NULL DEFAULT false;
    UPDATE api_tokens t SET all_companies = true
     WHERE NOT EXISTS (SELECT 1 FROM api_token_companies c WHERE c.token_id = t.id)
       AND NOT EXISTS (
             SELECT 1 FROM audit_log a
              WHERE a.entity_type = 'api_token' AND a.action = 'create' AND a.entity_id = t.id::text
                AND jsonb_typeof(a.after -> 'companyIds') = 'array'
                AND jsonb_array_length(a.after -> 'companyIds') > 0);
    COMMENT ON COLUMN api_tokens.all_companies IS
      'true = the token sees every company; false = only the companies in api_token_companies (none left = nothing)';
    COMMENT ON TABLE api_token_companies IS
      'The companies of a token without all_companies; no rows = no company (never "every company")';
  `);
}

/**
 * Back to "no rows = every company". A token that was left with no company would widen to every
 * company under the old meaning, so it is revoked first (with an audit row) — rolling back must
 * not reopen the hole this migration closed.
 */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    WITH emptied AS (
      UPDATE api_tokens t SET revoked_at = now()
       WHERE NOT t.all_companies AND t.revoked_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM api_token_companies c WHERE c.token_id = t.id)
      RETURNING t.id
    )
    INSERT INTO audit_log (actor, action, entity_type, entity_id, after)
    SELECT 'migration:token_all_companies', 'revoke', 'api_token', id::text,
           jsonb_build_object('reason', 'rollback: a token without companies would read as every company')
      FROM emptied;
    COMMENT ON TABLE api_token_companies IS NULL;
    ALTER TABLE api_tokens DROP COLUMN all_companies;
  `);
}
