import type { Knex } from 'knex';
import { computeDueDates } from '../../core/slas/due-dates';
import { priorityFor } from '../../core/tickets/ticket-text';
import { getService } from '../../db/queries/services';
import type { SlaCache } from '../slas/sla-cache';
import type { AlertRow } from '../../db/tables';
import type { Decision, Priority } from '../../rules/engine/types';
import type { BuiltFacts } from '../alerts/build-facts';
import { resolveAssignment } from '../alerts/assign-contract';

/**
 * Issue 15 item 8: the dry run names what it decided — the contract, service and SLA the ticket
 * would carry (ids and names, resolved exactly as the worker's `newTicket` resolves them with
 * `resolveAssignment`), its priority and due dates, and in plain words which rule chose the
 * contract and from which link or default.
 */

export type DecisionOutcome = 'ticket' | 'occurrence' | 'suppress' | 'maintenance' | 'hold' | 'none';

export interface NamedRef {
  id: string;
  name: string;
}

export interface NamedDecision {
  outcome: DecisionOutcome;
  contract: NamedRef | null;
  service: NamedRef | null;
  sla: NamedRef | null;
  priority: Priority | null;
  /** ISO instants; null without an SLA (or without a target for the priority). */
  dueDates: { response: string; resolutionPlan: string; resolution: string } | null;
  explanation: string;
}

/** What resolving an assignment gives, before it is put in words. */
export interface ResolvedAssignment {
  contract: NamedRef | null;
  service: NamedRef | null;
  sla: NamedRef | null;
  priority: Priority;
  dueDates: NamedDecision['dueDates'];
  via: string;
  notes: string[];
}

/** The contract, service, SLA, priority and due dates a ticket created at `createdAt` would get. */
export async function resolveTicketFields(
  trx: Knex.Transaction,
  slas: SlaCache,
  decision: Decision,
  built: BuiltFacts,
  severity: AlertRow['severity'],
  createdAt: Date,
): Promise<ResolvedAssignment> {
  const chosen = await resolveAssignment(
    trx,
    decision,
    { company: built.company, deviceContract: built.deviceContract, defaultContract: built.defaultContract, date: built.date },
    new Map(),
  );
  const priority = priorityFor(severity, decision.assignment.priority);
  const slaDef = chosen.slaId ? await slas.get(trx, chosen.slaId) : undefined;
  const due = slaDef ? computeDueDates(slaDef, priority, createdAt) : null;
  let service: NamedRef | null = null;
  if (chosen.serviceId) {
    const s = chosen.contract && chosen.serviceId === chosen.contract.service_id && chosen.contract.service_name
      ? { id: chosen.serviceId, name: chosen.contract.service_name }
      : await getService(trx, chosen.serviceId);
    service = s ? { id: String(s.id), name: s.name } : null;
  }
  return {
    contract: chosen.contract ? { id: String(chosen.contract.contract_id), name: chosen.contract.name } : null,
    service,
    sla: chosen.slaId && slaDef ? { id: String(chosen.slaId), name: slaDef.row.name } : null,
    priority,
    dueDates: due
      ? { response: due.firstResponseDueAt.toISOString(), resolutionPlan: due.resolutionPlanDueAt.toISOString(), resolution: due.resolutionDueAt.toISOString() }
      : null,
    via: chosen.via,
    notes: chosen.notes,
  };
}

/** The fired rule whose event set the contract (the first one to set it wins, as in decide). */
function contractRule(decision: Decision): Decision['rulesFired'][number] | undefined {
  return decision.rulesFired.find((r) => r.event.params !== undefined && r.event.params.contract !== undefined);
}

/** The decision in plain words: which rule chose the contract, from which link or default. */
export function explainChoice(decision: Decision, r: ResolvedAssignment | null, outcome: DecisionOutcome, built: Pick<BuiltFacts, 'device' | 'date'>): string {
  if (decision.outcome === 'suppress') {
    const rule = decision.rulesFired.find((f) => f.event.type === 'suppress');
    return `Suppressed by rule "${rule?.name ?? '?'}"${decision.suppressReason ? `: ${decision.suppressReason}` : ''}; no ticket.`;
  }
  if (outcome === 'maintenance') return 'A maintenance window silences the alert; no ticket.';
  if (outcome === 'none') return 'A resolved alert opens no ticket; it resolves the open ticket of its key, if any.';
  if (!r) return 'No ticket.';
  const rule = contractRule(decision);
  const byRule = rule ? `Rule "${rule.name}" (${rule.file})` : 'No rule';
  const parts: string[] = [];
  if (r.contract) {
    const from =
      r.via === 'device'
        ? `from the contract link of device ${built.device?.hostname ?? '?'} on ${built.date}`
        : r.via === 'default'
          ? `from the company's default contract on ${built.date}`
          : `by its reference "${r.via.replace(/^ref:/, '')}"`;
    parts.push(`${byRule} chose contract "${r.contract.name}" ${from}.`);
  } else {
    const choice = decision.assignment.contract;
    const why =
      choice !== null && typeof choice === 'object'
        ? `${byRule} named contract "${choice.ref}", which the company does not have on ${built.date}`
        : choice === 'device'
          ? `${byRule} chose the device's contract, but the device has no contract link on ${built.date}`
          : choice === 'default'
            ? `${byRule} chose the company's default contract, but there is none on ${built.date}`
            : rule
              ? `${byRule} chose no contract`
              : 'No rule chose a contract';
    parts.push(`${why}: the ticket is left for triage.`);
  }
  if (r.service) parts.push(`Service "${r.service.name}".`);
  if (r.sla) parts.push(`SLA "${r.sla.name}", priority ${r.priority}${r.dueDates ? '' : ' (the SLA has no target for it: no due dates)'}.`);
  else parts.push(`Priority ${r.priority}; no SLA, so no due dates.`);
  if (outcome === 'occurrence') parts.push('An open ticket of the same key exists: the alert counts as an occurrence on it.');
  if (outcome === 'hold') parts.push('The ticket is held off first and opens unless the alert clears meanwhile.');
  for (const n of r.notes) parts.push(`Note: ${n}.`);
  return parts.join(' ');
}
