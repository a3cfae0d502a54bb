import type { Knex } from 'knex';
import { connectors } from '../../connectors';
import { companyRefGap, deliveryPlan, PRIORITY_RANK, type PlanTicket } from '../../core/psa/delivery';
import type { Priority } from '../../core/slas/due-dates';
import { companyNamesIn } from '../../db/queries/companies';
import { listPsaConnections, outboxTargets } from '../../db/queries/psa-connections';
import { deliveriesOfTicket, insertDeliveries, recordDeliveryChanges, type DeliveryChange, type DeliveryRef } from '../../db/queries/psa-deliveries';
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
  const companyIds = [...new Set(tickets.map((t) => t.companyId).filter((c): c is string => c !== null))];
  // One statement: the enabled connections and the companies' refs.
  const { connections: enabled, companyRefs: refs } = await outboxTargets(trx, companyIds);
  if (enabled.length === 0) return [];
  const plan = deliveryPlan(
    tickets,
    // A type whose connector this build lacks still gets its deliveries (they wait, visible, for a build that has it).
    enabled.map((c) => ({ id: String(c.id), name: c.name, needsCompanyRef: connectors[c.type]?.needsCompanyRef ?? true })),
    refs,
  );
  return insertDeliveries(trx, plan, new Map(enabled.map((c) => [c.id, c.name])));
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

/**
 * A ticket moved to another company (triage): the PSAs that have it but cannot move it there —
 * the new company has no psaRefs entry for them (the update then leaves the PSA ticket's company
 * as it is, connectors' updateTicket). One sentence each, for the triage note that goes out with
 * the move, so the technician in that PSA is told instead of the company silently staying.
 */
export async function companyMoveGaps(trx: Knex.Transaction, ticketId: string, companyId: string | null): Promise<string[]> {
  const created = (await deliveriesOfTicket(trx, ticketId)).filter((d) => d.external_id !== null);
  if (created.length === 0) return [];
  const types = new Map((await listPsaConnections(trx)).map((c) => [c.name, c.type]));
  const company = { id: companyId, name: companyId === null ? null : ((await companyNamesIn(trx, [companyId]))[0]?.name ?? null) };
  const refs = companyId === null ? undefined : (await psaRefsOf(trx, 'companies', [companyId])).get(companyId);
  const out: string[] = [];
  for (const d of created) {
    const type = types.get(d.connection_name);
    const needsCompanyRef = type === undefined ? true : (connectors[type]?.needsCompanyRef ?? true);
    if (companyRefGap({ companyId: company.id, companyName: company.name }, { name: d.connection_name, needsCompanyRef }, refs) === null) continue;
    const what = company.id === null ? 'the ticket has no company' : `company ${company.name ?? company.id} has no psaRefs.${d.connection_name}`;
    out.push(`not moved in ${d.connection_name}: ${what}; the PSA ticket stays with its previous company until the ref is set and the ticket changes again`);
  }
  return out;
}
