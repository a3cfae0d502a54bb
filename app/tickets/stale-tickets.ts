import type { Knex } from 'knex';
import { resolveStaleTickets } from '../../db/queries/upkeep';
import { afterStormResolves } from '../alerts/storms';

/**
 * Lost resolves (the `stale-tickets` upkeep job): open tickets whose alert has not repeated for
 * their rule's staleness timeout are resolved automatically — and, as for any other resolution
 * (R-STORM-1), a resolved source releases the targets it muted that still fire, and a parent whose
 * last open child this was resolves. One transaction.
 */
export async function resolveStale(
  db: Knex,
  now: Date,
): Promise<{ resolved: string[]; parentsResolved: number; released: number }> {
  return db.transaction(async (trx) => {
    const resolved = await resolveStaleTickets(trx, now);
    const storms = await afterStormResolves(trx, resolved, now);
    return { resolved, ...storms };
  });
}
