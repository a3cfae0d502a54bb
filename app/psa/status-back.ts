import type { Knex } from 'knex';
import { ALL_COMPANIES } from '../../core/access/company-scope';
import { statusBackDecision, type StatusBackIgnoreReason } from '../../core/psa/status-back';
import type { PsaTicketState } from '../../connectors/types';
import { lockDeliveryByExternalId, markClosedInPsa, recordStatusEvent, setStatusEventOutcome } from '../../db/queries/psa-status-back';
import { workTicket } from '../tickets/work-ticket';
import type { PsaConnectionRow } from '../../db/tables';

/**
 * Status back (R-PSA-3): a ticket completed or closed in the PSA closes the hub's ticket, so the
 * next firing of its alert opens a new ticket (R-ALR-4). Reports come from the PSA's webhook
 * (`POST /hooks/psa/:connection`) or from the polling fallback; each report is one transaction:
 * the event recorded once (a retried or replayed callout does nothing the second time), the
 * delivery row locked, the decision of core/psa/status-back, the hub ticket closed with an audit
 * row by `psa:<connection>`, and the delivery marked closed in the PSA with everything recorded
 * so far counted as sent — so the close is never echoed back to the PSA it came from.
 */
export interface StatusReport {
  state: PsaTicketState;
  /** The PSA reported the ticket deleted. */
  deleted?: boolean;
  /** The callout's event key (webhooks); polls have none (their reports are idempotent by state). */
  eventKey?: string;
}

export type StatusBackOutcome = 'closed' | 'duplicate' | StatusBackIgnoreReason;

export interface StatusBackResult {
  externalId: string;
  ticketId: string | null;
  outcome: StatusBackOutcome;
}

export async function applyStatusReports(
  db: Knex,
  connection: Pick<PsaConnectionRow, 'id' | 'name'>,
  reports: readonly StatusReport[],
  ctx: { now: Date; requestId?: string | null },
): Promise<StatusBackResult[]> {
  const results: StatusBackResult[] = [];
  for (const report of reports) {
    results.push(await db.transaction((trx) => applyOne(trx, connection, report, ctx)));
  }
  return results;
}

async function applyOne(
  trx: Knex.Transaction,
  connection: Pick<PsaConnectionRow, 'id' | 'name'>,
  report: StatusReport,
  ctx: { now: Date; requestId?: string | null },
): Promise<StatusBackResult> {
  const { state } = report;
  if (report.eventKey !== undefined) {
    const first = await recordStatusEvent(trx, { connectionId: connection.id, eventKey: report.eventKey, externalId: state.externalId, outcome: 'received' });
    if (!first) return { externalId: state.externalId, ticketId: null, outcome: 'duplicate' };
  }
  const delivery = await lockDeliveryByExternalId(trx, connection.id, state.externalId);
  const decision = statusBackDecision({ hubStatus: delivery?.ticket_status ?? null, psaStatus: state.status, deleted: report.deleted ?? false });
  let outcome: StatusBackOutcome = decision.kind === 'close' ? 'closed' : decision.reason;
  if (delivery && decision.kind === 'close') {
    await workTicket(
      trx,
      { ticketId: String(delivery.ticket_id), status: 'closed', note: `closed in ${connection.name} (PSA ticket ${state.externalId}, status ${state.psaStatus || 'closed'})` },
      { scope: ALL_COMPANIES, actor: `psa:${connection.name}`, requestId: ctx.requestId ?? null, now: ctx.now, fromPsaConnectionId: String(connection.id) },
    );
    outcome = 'closed';
  }
  if (delivery && !delivery.closed_in_psa && (state.status === 'closed' || state.status === 'resolved') && report.deleted !== true) {
    await markClosedInPsa(trx, delivery.delivery_id);
  }
  if (report.eventKey !== undefined) await setStatusEventOutcome(trx, connection.id, report.eventKey, outcome);
  return { externalId: state.externalId, ticketId: delivery?.ticket_id ?? null, outcome };
}
