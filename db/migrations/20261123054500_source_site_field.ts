import type { Knex } from 'knex';

/**
 * SPEC §8 `POST /api/v1/sources { …, siteField? }`: a dot path into each alert's payload whose value
 * is the site / customer id (overriding the plugin's own). It is a source option like config,
 * but not the plugin's: plugin config schemas are strict and must not learn about it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sources ADD COLUMN site_field text');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sources DROP COLUMN IF EXISTS site_field');
}
