import type { Knex } from 'knex';

/**
 * Issue 15 item 5: a company's IANA time zone. The alert's date — which link, which default
 * contract, which contract is in effect — is the date in this zone (else the zone of the SLA of the
 * contract chosen, else HUB_RENEWAL_TIMEZONE). NULL = not set. Validated by the API (luxon's IANA
 * zone check), not here: Postgres' zone list may differ from the process'.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE companies ADD COLUMN timezone text;
    COMMENT ON COLUMN companies.timezone IS 'IANA zone the company''s alert dates are counted in; NULL = the SLA''s, else HUB_RENEWAL_TIMEZONE';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE companies DROP COLUMN IF EXISTS timezone');
}
