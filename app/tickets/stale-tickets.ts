import type { Knex } from 'knex';
import { resolveStaleTickets } from '../../db/queries/upkeep';
import { afterStormResolves } from '../alerts/storms';
import { recordTicketChanges } from '../psa/outbox';

/**
 * Lost resolves (the `stale-tickets` upkeep job): open tickets whose alert has not repeated for
 * their rule's staleness timeout are resolved automatically — and, as for any other resolution
 * (R-STORM-1), a resolved source releases the targets it muted that still fire, and a parent whose
 * last open child this was resolves. One transaction, with the PSA outbox (issue 16): each resolution
 * is recorded for the ticket's PSA connections (a close and a note); the delivery sweep sends them.
 */
export async function resolveStale(
  db: Knex,
  now: Date,
): Promise<{ resolved: string[]; parentsResolved: number; released: number; psaPending: number }> {
  return db.transaction(async (trx) => {
    const resolved = await resolveStaleTickets(trx, now);
    const psa = await recordTicketChanges(
      trx,
      resolved.map((ticketId) => ({ ticketId, notes: [{ title: 'Resolved', body: 'Resolved automatically: the alert stopped repeating (no resolve event was received).' }], changed: true })),
    );
    const storms = await afterStormResolves(trx, resolved, now);
    return { resolved, parentsResolved: storms.parentsResolved, released: storms.released, psaPending: psa.length + storms.psa.length };
  });
}
