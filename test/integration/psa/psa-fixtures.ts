import type { Knex } from 'knex';
import { connectorOf } from '../../../connectors';
import { sealSecrets, splitConfig } from '../../../app/psa/connection-secrets';
import { insertRow } from '../../helpers/seed';

/**
 * A PSA connection stored as the connections API stores it (settings in `config`, the connector's
 * secret fields sealed), and a delivery row as the delivery worker leaves it once the PSA has the ticket.
 */
export async function insertPsaConnection(db: Knex, keys: readonly string[], c: { name: string; type: 'autotask' | 'connectwise' | 'webhook'; config: Record<string, unknown>; enabled?: boolean }): Promise<string> {
  const connector = connectorOf(c.type);
  const { settings, secrets } = splitConfig(connector, c.config);
  const row = await insertRow(db, 'psa_connections', {
    name: c.name,
    type: c.type,
    enabled: c.enabled ?? true,
    config: JSON.stringify(settings),
    secrets_enc: sealSecrets(c.name, secrets, keys),
  });
  return String(row.id);
}

export async function insertDeliveredTicket(db: Knex, ticketId: string, connectionId: string, externalId: string): Promise<string> {
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `INSERT INTO psa_deliveries (ticket_id, connection_id, state, external_id, delivered_at, pending_since)
     VALUES (?, ?, 'delivered', ?, now(), NULL)
     ON CONFLICT (ticket_id, connection_id) DO UPDATE SET state = 'delivered', external_id = EXCLUDED.external_id, delivered_at = now()
     RETURNING id`,
    [ticketId, connectionId, externalId],
  );
  return String(rows[0]!.id);
}
