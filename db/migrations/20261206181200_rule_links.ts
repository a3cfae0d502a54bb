import type { Knex } from 'knex';

/**
 * Issue 15 item 3 (R-LINK-7): a device link made by a rules `link` event names the rule that made
 * it. NULL = made by hand, by an import or by a renewal.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE device_contract_links ADD COLUMN created_by_rule text;
    COMMENT ON COLUMN device_contract_links.created_by_rule IS 'the rule whose "link" event made this link (R-LINK-7); NULL = by hand, import or renewal';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE device_contract_links DROP COLUMN IF EXISTS created_by_rule');
}
