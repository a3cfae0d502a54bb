import type { Knex } from 'knex';
import { connectors } from '../../connectors';
import { deliveryPlan, PRIORITY_RANK, type PlanTicket } from '../../core/psa/delivery';
import type { Priority } from '../../core/slas/due-dates';
import { listPsaConnections } from '../../db/queries/psa-connections';
import { insertDeliveries, recordDeliveryChanges, type DeliveryChange, type DeliveryRef } from '../../db/queries/psa-deliveries';
import { psaRefsOf } from '../../db/queries/psa-refs';

/**
 * The PSA outbox (issue 16 item 3): what must reach the PSAs is written in the transaction of
 * the ticket change itself — the alert pipeline's (app/alerts/apply-receipts.ts) and a ticket
 * PATCH's — so a ticket never exists without its deliveries, nor a delivery without its ticket.
 * The returned refs are enqueued by the caller once the transaction committed; a ref whose job
 * is lost is found again by the delivery sweeper.
 */
export type { DeliveryRef } from '../../db/queries/psa-deliveries';
export type { PlanTicket } from '../../core/psa/delivery';

/** New tickets: one delivery per enabled connection (or per the rule's `deliver`). */
export async function recordNewTickets(trx: Knex.Transaction, tickets: readonly PlanTicket[]): Promise<DeliveryRef[]> {
  if (tickets.length === 0) return [];
  const enabled = await listPsaConnections(trx, { enabled: true });
  if (enabled.length === 0) return [];
  const companyIds = [...new Set(tickets.map((t) => t.companyId).filter((c): c is string => c !== null))];
  const refs = await psaRefsOf(trx, 'companies', companyIds);
  const plan = deliveryPlan(
    tickets,
    // A type whose connector this build lacks still gets its deliveries (they wait, visible, for a build that has it).
    enabled.map((c) => ({ id: String(c.id), name: c.name, needsCompanyRef: connectors[c.type]?.needsCompanyRef ?? true })),
    refs,
  );
  return insertDeliveries(trx, plan);
}

/** Changes of tickets that may have deliveries: repeats, notes, state changes (priority, status, contract). */
export async function recordTicketChanges(
  trx: Knex.Transaction,
  changes: readonly DeliveryChange[],
  opts: { exceptConnectionId?: string | undefined } = {},
): Promise<DeliveryRef[]> {
  return recordDeliveryChanges(trx, changes, opts);
}

export const rankOf = (p: Priority): number => PRIORITY_RANK[p];
