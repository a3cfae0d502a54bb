import type { Knex } from 'knex';

/**
 * Issue 15 item 3 (R-LINK-7/8): where a dated device → contract link came from. `import` = a row of
 * `POST /api/v1/devices/import` / `hub import devices` naming the contract; `rule` = a rules `link`
 * event (its rule name stays in created_by_rule). NULL = made otherwise (by hand, by triage, by a
 * renewal) or before this column existed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE device_contract_links ADD COLUMN origin text CHECK (origin IN ('import', 'rule'));
    UPDATE device_contract_links SET origin = 'rule' WHERE created_by_rule IS NOT NULL;
    COMMENT ON COLUMN device_contract_links.origin IS 'import | rule | NULL (by hand, triage, renewal, or older than the column)';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE device_contract_links DROP COLUMN IF EXISTS origin');
}
