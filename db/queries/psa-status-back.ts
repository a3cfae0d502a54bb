import type { Db } from '../connection';
import type { TicketStatus } from '../tables';

/**
 * Status back (migration 20261206184000): callouts acted on once, the poll cursor and the
 * registered webhook per connection, and the delivery a PSA ticket belongs to.
 */

/** Records a callout's event; false when the same event was recorded before (a retry or a replay). */
export async function recordStatusEvent(db: Db, e: { connectionId: string; eventKey: string; externalId: string | null; outcome: string }): Promise<boolean> {
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `INSERT INTO psa_status_events (connection_id, event_key, external_id, outcome) VALUES (?, ?, ?, ?)
     ON CONFLICT (connection_id, event_key) DO NOTHING RETURNING id`,
    [e.connectionId, e.eventKey, e.externalId, e.outcome],
  );
  return rows.length > 0;
}

export async function setStatusEventOutcome(db: Db, connectionId: string, eventKey: string, outcome: string): Promise<void> {
  await db('psa_status_events').where({ connection_id: connectionId, event_key: eventKey }).update({ outcome });
}

/** Events older than `before` (the replay window is the retention). */
export async function deleteStatusEventsBefore(db: Db, before: Date): Promise<number> {
  return db('psa_status_events').where('received_at', '<', before).delete();
}

export interface DeliveryOfPsaTicket {
  delivery_id: string;
  ticket_id: string;
  ticket_status: TicketStatus;
  closed_in_psa: boolean;
}

/** The delivery (and its hub ticket's status) a PSA ticket of a connection was created for, its row locked. */
export async function lockDeliveryByExternalId(db: Db, connectionId: string, externalId: string): Promise<DeliveryOfPsaTicket | undefined> {
  const { rows } = await db.raw<{ rows: DeliveryOfPsaTicket[] }>(
    `SELECT d.id AS delivery_id, d.ticket_id, t.status AS ticket_status, d.closed_in_psa
       FROM psa_deliveries d JOIN tickets t ON t.id = d.ticket_id
      WHERE d.connection_id = ? AND d.external_id = ?
      FOR UPDATE OF d`,
    [connectionId, externalId],
  );
  const r = rows[0];
  return r ? { ...r, delivery_id: String(r.delivery_id), ticket_id: String(r.ticket_id) } : undefined;
}

/**
 * The PSA closed the ticket: nothing the hub recorded for this connection up to now is to be sent
 * back (the close came from there — R-PSA-3: never echoed); notes and repeats still pending stay.
 */
export async function markClosedInPsa(db: Db, deliveryId: string): Promise<void> {
  await db.raw(
    `UPDATE psa_deliveries
        SET closed_in_psa = true,
            sent_seq = change_seq,
            state = CASE WHEN state = 'pending' AND external_id IS NOT NULL AND pending_occurrences = 0 AND pending_notes = '[]'::jsonb
                         THEN 'delivered' ELSE state END,
            updated_at = now()
      WHERE id = ?`,
    [deliveryId],
  );
}

export interface StatusBackRow {
  connection_id: string;
  polled_until: Date | null;
  last_poll_at: Date | null;
  last_poll_error: string | null;
  webhook_id: string | null;
  webhook_url: string | null;
  webhook_registered_at: Date | null;
  updated_at: Date;
}

export async function getStatusBack(db: Db, connectionId: string): Promise<StatusBackRow | undefined> {
  return (await db('psa_status_back').where('connection_id', connectionId).first()) as StatusBackRow | undefined;
}

/** After a poll: the cursor moves forward only (a slower, older poll never moves it back). */
export async function savePollResult(db: Db, connectionId: string, r: { polledUntil: Date | null; at: Date; error: string | null }): Promise<void> {
  await db.raw(
    `INSERT INTO psa_status_back (connection_id, polled_until, last_poll_at, last_poll_error) VALUES (?, ?, ?, ?)
     ON CONFLICT (connection_id) DO UPDATE
        SET polled_until = GREATEST(psa_status_back.polled_until, EXCLUDED.polled_until),
            last_poll_at = EXCLUDED.last_poll_at,
            last_poll_error = EXCLUDED.last_poll_error,
            updated_at = now()`,
    [connectionId, r.polledUntil, r.at, r.error],
  );
}

export async function saveWebhookRegistration(db: Db, connectionId: string, r: { webhookId: string; url: string; at: Date }): Promise<void> {
  await db.raw(
    `INSERT INTO psa_status_back (connection_id, webhook_id, webhook_url, webhook_registered_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (connection_id) DO UPDATE
        SET webhook_id = EXCLUDED.webhook_id, webhook_url = EXCLUDED.webhook_url, webhook_registered_at = EXCLUDED.webhook_registered_at, updated_at = now()`,
    [connectionId, r.webhookId, r.url, r.at],
  );
}
