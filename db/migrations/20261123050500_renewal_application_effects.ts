import type { Knex } from 'knex';

/**
 * R-REN-5 / R-REN-15: whether a renewal deactivates its original is decided when the renewal is
 * made (the original was still running on the renewal's start date), but applied on that date by
 * the renewal worker. An original that had already expired keeps its end date and its status, and
 * its end date alone cannot tell the two cases apart (the default start is the day after the end),
 * so the decision is stored with the scheduled application.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE renewal_applications ADD COLUMN deactivate_original boolean NOT NULL DEFAULT false');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE renewal_applications DROP COLUMN IF EXISTS deactivate_original');
}
