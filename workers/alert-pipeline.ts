import type { Knex } from 'knex';
import { UnrecoverableError } from 'bullmq';
import { computeDueDates, type Priority } from '../core/slas/due-dates';
import { isWithinBusinessHours, localTime } from '../core/slas/business-calendar';
import type { AlertRow, CompanyRow, DeviceRow, TicketRow } from '../db/tables';
import {
  activeDefaultContract,
  addSourceRef,
  addTicketNote,
  companyById,
  companyForSite,
  contractByRef,
  countOccurrence,
  deviceByHostname,
  deviceBySourceRef,
  effectiveDeviceContract,
  finishReceipt,
  holdReceipt,
  insertTicketOrCount,
  lockTicketForKey,
  lockReceipt,
  reopenTicket,
  resolveTicket,
  resolvedSince,
  serviceByRef,
  slaByRef,
  upsertDiscoveredDevice,
  type ContractFactRow,
} from '../db/queries/alert-processing';
import type { SlaCache } from '../db/queries/sla-definitions';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { Decision, DecisionFacts } from '../rules/engine/types';

export interface Decider {
  decide(facts: DecisionFacts): Decision;
}

export interface PipelineDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  rules: Decider;
  slas: SlaCache;
  /** Schedules the receipt to run again after `delayMs` (hold-off). */
  scheduleHoldOff?: (receiptId: string, delayMs: number) => Promise<void>;
  /** Maintenance window check: a window name when the alert falls in one. */
  maintenanceWindow?: (
    db: Knex.Transaction,
    ctx: { alert: AlertRow; receiptId?: string; companyId: string | null; deviceId: string | null; at: Date },
  ) => Promise<string | null>;
}

export type ReceiptOutcome =
  | 'ticket_created'
  | 'occurrence'
  | 'reopened'
  | 'resolved'
  | 'annotated'
  | 'resolve_without_ticket'
  | 'suppressed'
  | 'maintenance'
  | 'held'
  | 'cleared_during_hold_off'
  | 'already_processed'
  | 'missing';

const SEVERITY_PRIORITY: Record<AlertRow['severity'], Priority> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  info: 'low',
};

/**
 * Applies one alert receipt (R-ALR-3, R-ALR-4) in one transaction: resolve the device and its
 * company (creating a discovered device, R-LINK-7), build the facts, decide with the live
 * ruleset, and create / count / resolve / reopen the ticket. The receipt row is locked first and
 * marked processed in the same transaction, so a job that runs twice (BullMQ is at-least-once), a
 * crash after the insert, or two workers on one receipt all have the effect of once.
 */
export async function processReceipt(
  deps: PipelineDeps,
  receiptId: string,
  /** The job's transaction: the receipt then runs in a savepoint of it. */
  outer?: Knex.Transaction,
): Promise<{ outcome: ReceiptOutcome; ticketId: string | null; alertId: string | null }> {
  return (outer ?? deps.db).transaction(async (trx) => {
    const rc = await lockReceipt(trx, receiptId);
    if (!rc) return { outcome: 'missing', ticketId: null, alertId: null };
    if (rc.processed_at) return { outcome: 'already_processed', ticketId: rc.ticket_id, alertId: rc.alert_id };
    const alert = rc.alert;
    const now = deps.now();
    const source = rc.source_name;

    const { company, device, deviceContract, defaultContract, facts, date } = await buildFacts(trx, deps.slas, {
      alert,
      source,
      discover: true,
    });

    const decision = deps.rules.decide(facts);
    for (const f of decision.rulesFired) metrics.decisions.inc({ rule: f.name });
    const decisionRecord = { ...decision, facts: { date, company: facts.company, device: facts.device, deviceContract: facts.deviceContract, defaultContract: facts.defaultContract } };

    const finish = async (outcome: ReceiptOutcome, ticketId: string | null, alertStatus: AlertRow['status'] = 'processed') => {
      await finishReceipt(trx, {
        receiptId,
        alertId: alert.id,
        outcome,
        ticketId,
        alertStatus,
        decision: decisionRecord,
        rulesetVersion: decision.rulesetVersion,
      });
      metrics.alertOutcomes.inc({ outcome });
      return { outcome, ticketId, alertId: alert.id };
    };

    const { open, last } = await lockTicketForKey(trx, alert.dedup_key);
    // Resolved events always pass (maintenance windows, suppression).
    if (alert.state === 'resolved') {
      if (!open) return finish('resolve_without_ticket', null);
      if (open.resolve_action === 'annotate' || decision.resolveAction === 'annotate') {
        await addTicketNote(trx, open.id, 'alert-resolved', `Source reported the alert resolved at ${alert.occurred_at.toISOString()}.`);
        return finish('annotated', open.id);
      }
      await resolveTicket(trx, open.id, now, `Resolved automatically: ${source} reported the alert resolved at ${alert.occurred_at.toISOString()}.`);
      return finish('resolved', open.id);
    }

    // Firing: an open ticket for this condition counts the repeat (R-ALR-4).
    if (open) {
      await countOccurrence(trx, open.id, alert.occurred_at);
      return finish('occurrence', open.id);
    }
    // Flapping: a re-fire within the reopen window of an automatic resolution reopens that ticket.
    const window = last?.reopen_window_minutes ?? decision.reopenWindowMinutes ?? null;
    if (last && window && last.status === 'resolved' && last.resolved_automatically && last.resolved_at && now.getTime() - last.resolved_at.getTime() <= window * 60_000) {
      const t = await reopenTicket(trx, last.id, alert.occurred_at);
      await addTicketNote(trx, t.id, 'flap', `Reopened: the alert fired again within ${window} min of its automatic resolution (flap ${t.flaps}).`);
      return finish('reopened', t.id);
    }

    if (decision.outcome === 'suppress') return finish('suppressed', null, 'suppressed');
    if (deps.maintenanceWindow) {
      const w = await deps.maintenanceWindow(trx, { alert, receiptId, companyId: company?.id ?? null, deviceId: device?.id ?? null, at: alert.occurred_at });
      if (w) return finish('maintenance', null, 'suppressed');
    }

    // Hold-off: wait for the clear before opening a ticket (blips that clear themselves make none).
    if (decision.holdOffSeconds && decision.holdOffSeconds > 0) {
      const until = new Date(rc.received_at.getTime() + decision.holdOffSeconds * 1000);
      if (now < until && deps.scheduleHoldOff) {
        await holdReceipt(trx, receiptId, alert.id, until);
        await deps.scheduleHoldOff(receiptId, until.getTime() - now.getTime());
        metrics.alertOutcomes.inc({ outcome: 'held' });
        return { outcome: 'held', ticketId: null, alertId: alert.id };
      }
      if (await resolvedSince(trx, alert.dedup_key, rc.received_at)) return finish('cleared_during_hold_off', null);
    }

    const chosen = await resolveAssignment(trx, decision, { company, deviceContract, defaultContract, date });
    const priority = decision.assignment.priority ?? SEVERITY_PRIORITY[alert.severity];
    const slaDef = chosen.slaId ? await deps.slas.get(trx, chosen.slaId) : undefined;
    const due = slaDef ? computeDueDates(slaDef, priority, now) : null;
    const { ticket, created } = await insertTicketOrCount(trx, {
      company_id: company?.id ?? null,
      device_id: device?.id ?? null,
      contract_id: chosen.contract?.contract_id ?? null,
      service_id: chosen.serviceId,
      sla_id: chosen.slaId,
      source,
      dedup_key: alert.dedup_key,
      priority,
      queue: decision.assignment.queue,
      title: alert.title,
      description: describe(alert, source),
      needs_triage: decision.needsTriage || !chosen.contract,
      first_occurred_at: alert.occurred_at,
      last_occurred_at: alert.occurred_at,
      first_response_due_at: due?.firstResponseDueAt ?? null,
      resolution_plan_due_at: due?.resolutionPlanDueAt ?? null,
      resolution_due_at: due?.resolutionDueAt ?? null,
      stale_after_minutes: decision.staleAfterMinutes ?? null,
      reopen_window_minutes: decision.reopenWindowMinutes ?? null,
      resolve_action: decision.resolveAction ?? 'resolve',
      decision: { ...decisionRecord, chosen: { contractId: chosen.contract?.contract_id ?? null, via: chosen.via, serviceId: chosen.serviceId, slaId: chosen.slaId, notes: chosen.notes } },
      ruleset_version: decision.rulesetVersion,
    });
    if (created) metrics.ticketsCreated.inc({ source });
    return finish(created ? 'ticket_created' : 'occurrence', ticket.id);
  });
}

export interface BuiltFacts {
  company: CompanyRow | undefined;
  device: DeviceRow | undefined;
  deviceContract: ContractFactRow | undefined;
  defaultContract: ContractFactRow | undefined;
  facts: DecisionFacts;
  /** The alert's date (UTC) the links and contracts were taken on. */
  date: string;
}

/**
 * The facts of one stored alert, exactly as the worker decides with them — shared by the worker,
 * the dry run and the replay so they cannot disagree. With `discover`, an unknown device is
 * created as discovered (R-LINK-7); without (replay, dry run), nothing is written.
 */
export async function buildFacts(
  db: Knex | Knex.Transaction,
  slas: SlaCache,
  input: { alert: Pick<AlertRow, 'source_alert_id' | 'dedup_key' | 'state' | 'severity' | 'category' | 'title' | 'message' | 'hostname' | 'site' | 'labels' | 'occurred_at' | 'device_source_id'>; source: string; discover: boolean },
): Promise<BuiltFacts> {
  const { alert, source } = input;
  let company: CompanyRow | undefined = alert.site ? await companyForSite(db, source, alert.site) : undefined;
  let device: DeviceRow | undefined = alert.device_source_id ? await deviceBySourceRef(db, source, alert.device_source_id) : undefined;
  if (device && device.company_id && (!company || company.id !== device.company_id)) company = await companyById(db, device.company_id);
  if (!device && alert.hostname) {
    device = await deviceByHostname(db, company?.id ?? null, alert.hostname);
    if (!device && input.discover) {
      device = await upsertDiscoveredDevice(db, { companyId: company?.id ?? null, hostname: alert.hostname, site: alert.site, seenAt: alert.occurred_at });
    }
    if (device && input.discover && alert.device_source_id) await addSourceRef(db, device.id, source, alert.device_source_id);
  }

  // R-LINK-3/4: the device's link and the company's default contract on the alert's date (UTC).
  const date = alert.occurred_at.toISOString().slice(0, 10);
  const deviceContract = device ? await effectiveDeviceContract(db, device.id, date) : undefined;
  const defaultContract = company ? await activeDefaultContract(db, company.id, date) : undefined;
  const contract = deviceContract ?? defaultContract;
  const factSla = contract?.sla_id ? await slas.get(db, contract.sla_id) : undefined;
  const zone = factSla?.calendar.timezone ?? 'UTC';
  const lt = localTime(zone, alert.occurred_at);
  const facts: DecisionFacts = {
    alert: {
      source,
      sourceAlertId: alert.source_alert_id,
      dedupKey: alert.dedup_key,
      state: alert.state,
      severity: alert.severity,
      category: alert.category,
      title: alert.title,
      message: alert.message,
      hostname: alert.hostname,
      site: alert.site,
      labels: alert.labels,
      occurredAt: alert.occurred_at.toISOString(),
    },
    device: device
      ? { hostname: device.hostname, site: device.site, role: device.role, discovered: device.discovered, known: !device.discovered }
      : null,
    company: company ? { name: company.name, code: company.code } : null,
    deviceContract: contractFact(deviceContract),
    defaultContract: contractFact(defaultContract),
    contract: contractFact(contract),
    sla: factSla ? { name: factSla.row.name, code: factSla.row.code, timezone: factSla.row.timezone } : null,
    time: {
      weekday: lt.weekday,
      hour: lt.hour,
      minute: lt.minute,
      date: lt.date,
      isBusinessHours: factSla ? isWithinBusinessHours(factSla.calendar, alert.occurred_at) : true,
      timezone: zone,
    },
  };
  return { company, device, deviceContract, defaultContract, facts, date };
}

function contractFact(c: ContractFactRow | undefined): DecisionFacts['contract'] {
  if (!c) return null;
  return {
    name: c.name,
    code: c.code,
    type: c.type,
    serviceName: c.service_name,
    serviceCode: c.service_code,
    slaName: c.sla_name,
    slaCode: c.sla_code,
  };
}

async function resolveAssignment(
  trx: Knex.Transaction,
  decision: Decision,
  ctx: { company: CompanyRow | undefined; deviceContract: ContractFactRow | undefined; defaultContract: ContractFactRow | undefined; date: string },
): Promise<{ contract: ContractFactRow | undefined; via: string; serviceId: string | null; slaId: string | null; notes: string[] }> {
  const notes: string[] = [];
  const a = decision.assignment;
  let contract: ContractFactRow | undefined;
  let via = 'none';
  if (a.contract === 'device') {
    contract = ctx.deviceContract;
    via = 'device';
  } else if (a.contract === 'default') {
    contract = ctx.defaultContract;
    via = 'default';
  } else if (a.contract && typeof a.contract === 'object') {
    via = `ref:${a.contract.ref}`;
    contract = ctx.company ? await contractByRef(trx, ctx.company.id, a.contract.ref, ctx.date) : undefined;
    if (!contract) notes.push(`contract "${a.contract.ref}" not found for the company on ${ctx.date}: ticket left for triage`);
  }
  let serviceId: string | null = contract?.service_id ?? null;
  if (a.service) {
    const s = await serviceByRef(trx, a.service);
    if (s) serviceId = s.id;
    else notes.push(`service "${a.service}" not found`);
  }
  let slaId: string | null = contract?.sla_id ?? null;
  if (a.sla) {
    const s = await slaByRef(trx, a.sla);
    if (s) slaId = s.id;
    else notes.push(`SLA "${a.sla}" not found`);
  }
  return { contract, via, serviceId, slaId, notes };
}

function describe(alert: AlertRow, source: string): string {
  const lines = [
    alert.message ?? '',
    '',
    `Source: ${source} (alert ${alert.source_alert_id})`,
    `Device: ${alert.hostname ?? '?'}${alert.device_source_id ? ` [${alert.device_source_id}]` : ''}${alert.site ? ` at site ${alert.site}` : ''}`,
    `Severity: ${alert.severity}${alert.category ? `, category ${alert.category}` : ''}`,
    `Occurred: ${alert.occurred_at.toISOString()}`,
  ];
  return lines.join('\n').trim();
}

/** Errors that retrying cannot fix: the job fails at once and stays in the failed set with the reason. */
export function isPermanent(err: unknown): boolean {
  if (err instanceof UnrecoverableError) return true;
  const code = (err as { code?: string }).code;
  // Data errors (22xxx) and constraint violations other than unique/exclusion races (23xxx) do not heal by retrying.
  return typeof code === 'string' && (code.startsWith('22') || code === '23502' || code === '23514');
}

export type { TicketRow };
