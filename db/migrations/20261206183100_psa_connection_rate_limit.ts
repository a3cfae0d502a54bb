import type { Knex } from 'knex';

/** Issue 16: a connection's own rate limit (PSA calls per hour); NULL = the default of its type (HUB_PSA_AUTOTASK_RATE_PER_HOUR for autotask). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE psa_connections ADD COLUMN rate_limit_per_hour integer CHECK (rate_limit_per_hour > 0)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE psa_connections DROP COLUMN rate_limit_per_hour`);
}
