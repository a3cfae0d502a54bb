import type { Knex } from 'knex';
import { UnrecoverableError } from 'bullmq';
import { computeDueDates, type Priority } from '../core/slas/due-dates';
import { isWithinBusinessHours, localTime } from '../core/slas/business-calendar';
import type { AlertRow, CompanyRow, DeviceRow, TicketRow } from '../db/tables';
import {
  contractByRef,
  holdReceipt,
  reopenTicket,
  resolvedSince,
  serviceByRef,
  slaByRef,
  type ContractFactRow,
  type NewTicket,
} from '../db/queries/alert-processing';
import {
  activeDefaultContracts,
  addSourceRefs,
  addTicketNotes,
  companiesByIds,
  companiesForSites,
  countOccurrences,
  devicesByHostnames,
  devicesBySourceRefs,
  effectiveDeviceContracts,
  finishReceipts,
  hostKey,
  insertTicketsOrCount,
  lockReceipts,
  lockTicketsForKeys,
  pairKey,
  resolveTickets,
  upsertDiscoveredDevices,
  type ReceiptFinish,
  type WorkAlert,
  type WorkReceipt,
} from '../db/queries/alert-batch';
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
    ctx: { alert: WorkAlert; receiptId?: string; companyId: string | null; deviceId: string | null; at: Date },
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

/** What applying one receipt came to. */
export interface ReceiptResult {
  receiptId: string;
  outcome: ReceiptOutcome;
  ticketId: string | null;
  alertId: string | null;
  /** For the metrics (counted once the transaction committed): the source and the rules that fired. */
  source?: string;
  rulesFired?: string[];
}

/**
 * Applies one alert receipt (R-ALR-3, R-ALR-4) in its own transaction, or in a savepoint of
 * `outer`. See {@link processReceipts}.
 */
export async function processReceipt(
  deps: PipelineDeps,
  receiptId: string,
  outer?: Knex.Transaction,
): Promise<{ outcome: ReceiptOutcome; ticketId: string | null; alertId: string | null }> {
  const [r] = await (outer ?? deps.db).transaction((trx) => processReceipts(deps, [receiptId], trx));
  if (!outer) countOutcomes([r!]);
  return { outcome: r!.outcome, ticketId: r!.ticketId, alertId: r!.alertId };
}

/** Counts applied receipts in the metrics; call once their transaction committed. */
export function countOutcomes(results: readonly ReceiptResult[]): void {
  for (const r of results) {
    if (r.outcome === 'missing' || r.outcome === 'already_processed') continue;
    metrics.alertOutcomes.inc({ outcome: r.outcome });
    if (r.outcome === 'ticket_created' && r.source) metrics.ticketsCreated.inc({ source: r.source });
    for (const name of r.rulesFired ?? []) metrics.decisions.inc({ rule: name });
  }
}

interface Work {
  rc: WorkReceipt;
  built: BuiltFacts;
  decision: Decision;
  record: Record<string, unknown>;
}

/**
 * Applies a job's alert receipts (R-ALR-3, R-ALR-4) in the caller's transaction, set-based: the
 * receipts are locked and loaded in one statement, the facts of all of them (sites, devices —
 * creating discovered ones, R-LINK-7 — links and default contracts, R-LINK-3/4) are looked up
 * with one statement per step, each receipt is decided with the live ruleset, and the ticket
 * writes (create / count / resolve / reopen) go out as one statement per kind. Receipts of one
 * dedup key are applied in arrival order, one per round, so a batch has exactly the effect of
 * applying its receipts one after the other. The receipts are marked processed in the same
 * transaction as the ticket writes, so a job that runs twice (BullMQ is at-least-once), a crash
 * after the insert, or two workers on one receipt all have the effect of once.
 *
 * Returns one result per receipt id, in the order they were applied (ids not found last).
 */
export async function processReceipts(deps: PipelineDeps, receiptIds: readonly string[], trx: Knex.Transaction): Promise<ReceiptResult[]> {
  const locked = await lockReceipts(trx, receiptIds);
  const results = new Map<string, ReceiptResult>();
  const pending: WorkReceipt[] = [];
  for (const rc of locked) {
    if (rc.processed_at) results.set(rc.id, { receiptId: rc.id, outcome: 'already_processed', ticketId: rc.ticket_id, alertId: rc.alert_id });
    else pending.push(rc);
  }
  if (pending.length > 0) {
    const now = deps.now();
    const built = await buildFactsBatch(
      trx,
      deps.slas,
      pending.map((rc) => ({ alert: rc.alert, source: rc.source_name })),
      { discover: true },
    );
    const rounds: Work[][] = [];
    const seen = new Map<string, number>();
    pending.forEach((rc, i) => {
      const b = built[i]!;
      const decision = deps.rules.decide(b.facts);
      const record = {
        ...decision,
        facts: { date: b.date, company: b.facts.company, device: b.facts.device, deviceContract: b.facts.deviceContract, defaultContract: b.facts.defaultContract },
      };
      const round = seen.get(rc.alert.dedup_key) ?? 0;
      seen.set(rc.alert.dedup_key, round + 1);
      (rounds[round] ??= []).push({ rc, built: b, decision, record });
    });
    const refs: RefMemo = new Map();
    for (const round of rounds) await applyRound(deps, trx, round, now, results, refs);
  }
  const out: ReceiptResult[] = [];
  for (const rc of locked) out.push(results.get(rc.id)!);
  const found = new Set(locked.map((rc) => rc.id));
  for (const id of receiptIds) if (!found.has(id)) out.push({ receiptId: id, outcome: 'missing', ticketId: null, alertId: null });
  return out;
}

/** One receipt per dedup key: the tickets of the keys are locked, each receipt decided, the writes batched. */
async function applyRound(
  deps: PipelineDeps,
  trx: Knex.Transaction,
  items: readonly Work[],
  now: Date,
  results: Map<string, ReceiptResult>,
  refs: RefMemo,
): Promise<void> {
  const tickets = await lockTicketsForKeys(
    trx,
    items.map((w) => w.rc.alert.dedup_key),
  );
  const finishes: ReceiptFinish[] = [];
  const inserts: Array<{ w: Work; ticket: NewTicket }> = [];
  const occurrences: Array<{ ticketId: string; at: Date }> = [];
  const resolves: Array<{ ticketId: string; at: Date; note: string }> = [];
  const notes: Array<{ ticketId: string; kind: string; body: string }> = [];

  const result = (w: Work, outcome: ReceiptOutcome, ticketId: string | null): void => {
    results.set(w.rc.id, {
      receiptId: w.rc.id,
      outcome,
      ticketId,
      alertId: w.rc.alert.id,
      source: w.rc.source_name,
      rulesFired: w.decision.rulesFired.map((f) => f.name),
    });
  };
  const finish = (w: Work, outcome: ReceiptOutcome, ticketId: string | null, alertStatus: AlertRow['status'] = 'processed'): void => {
    finishes.push({
      receiptId: w.rc.id,
      alertId: w.rc.alert.id,
      outcome,
      ticketId,
      alertStatus,
      decision: w.record,
      rulesetVersion: w.decision.rulesetVersion,
    });
    result(w, outcome, ticketId);
  };

  for (const w of items) {
    const { rc, decision } = w;
    const { company, device, deviceContract, defaultContract, date } = w.built;
    const alert = rc.alert;
    const source = rc.source_name;
    const { open, last } = tickets.get(alert.dedup_key) ?? {};

    // Resolved events always pass (maintenance windows, suppression).
    if (alert.state === 'resolved') {
      if (!open) finish(w, 'resolve_without_ticket', null);
      else if (open.resolve_action === 'annotate' || decision.resolveAction === 'annotate') {
        notes.push({ ticketId: open.id, kind: 'alert-resolved', body: `Source reported the alert resolved at ${alert.occurred_at.toISOString()}.` });
        finish(w, 'annotated', open.id);
      } else {
        resolves.push({ ticketId: open.id, at: now, note: `Resolved automatically: ${source} reported the alert resolved at ${alert.occurred_at.toISOString()}.` });
        finish(w, 'resolved', open.id);
      }
      continue;
    }

    // Firing: an open ticket for this condition counts the repeat (R-ALR-4).
    if (open) {
      occurrences.push({ ticketId: open.id, at: alert.occurred_at });
      finish(w, 'occurrence', open.id);
      continue;
    }
    // Flapping: a re-fire within the reopen window of an automatic resolution reopens that ticket.
    const window = last?.reopen_window_minutes ?? decision.reopenWindowMinutes ?? null;
    if (last && window && last.status === 'resolved' && last.resolved_automatically && last.resolved_at && now.getTime() - last.resolved_at.getTime() <= window * 60_000) {
      const t = await reopenTicket(trx, last.id, alert.occurred_at);
      notes.push({ ticketId: t.id, kind: 'flap', body: `Reopened: the alert fired again within ${window} min of its automatic resolution (flap ${t.flaps}).` });
      finish(w, 'reopened', t.id);
      continue;
    }

    if (decision.outcome === 'suppress') {
      finish(w, 'suppressed', null, 'suppressed');
      continue;
    }
    if (deps.maintenanceWindow) {
      const name = await deps.maintenanceWindow(trx, { alert, receiptId: rc.id, companyId: company?.id ?? null, deviceId: device?.id ?? null, at: alert.occurred_at });
      if (name) {
        finish(w, 'maintenance', null, 'suppressed');
        continue;
      }
    }

    // Hold-off: wait for the clear before opening a ticket (blips that clear themselves make none).
    if (decision.holdOffSeconds && decision.holdOffSeconds > 0) {
      const until = new Date(rc.received_at.getTime() + decision.holdOffSeconds * 1000);
      if (now < until && deps.scheduleHoldOff) {
        await holdReceipt(trx, rc.id, alert.id, until);
        await deps.scheduleHoldOff(rc.id, until.getTime() - now.getTime());
        result(w, 'held', null);
        continue;
      }
      if (await resolvedSince(trx, alert.dedup_key, rc.received_at)) {
        finish(w, 'cleared_during_hold_off', null);
        continue;
      }
    }

    const chosen = await resolveAssignment(trx, decision, { company, deviceContract, defaultContract, date }, refs);
    const priority = decision.assignment.priority ?? SEVERITY_PRIORITY[alert.severity];
    const slaDef = chosen.slaId ? await deps.slas.get(trx, chosen.slaId) : undefined;
    const due = slaDef ? computeDueDates(slaDef, priority, now) : null;
    inserts.push({
      w,
      ticket: {
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
        decision: { ...w.record, chosen: { contractId: chosen.contract?.contract_id ?? null, via: chosen.via, serviceId: chosen.serviceId, slaId: chosen.slaId, notes: chosen.notes } },
        ruleset_version: decision.rulesetVersion,
      },
    });
  }

  const created = await insertTicketsOrCount(
    trx,
    inserts.map((i) => i.ticket),
  );
  for (const { w, ticket } of inserts) {
    const c = created.get(ticket.dedup_key);
    if (!c) throw new Error(`ticket insert returned no row for dedup key ${ticket.dedup_key}`);
    finish(w, c.created ? 'ticket_created' : 'occurrence', c.id);
  }
  await countOccurrences(trx, occurrences);
  await resolveTickets(trx, resolves);
  await addTicketNotes(trx, notes);
  await finishReceipts(trx, finishes);
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

export type FactsAlert = Pick<
  AlertRow,
  'source_alert_id' | 'dedup_key' | 'state' | 'severity' | 'category' | 'title' | 'message' | 'hostname' | 'site' | 'labels' | 'occurred_at' | 'device_source_id'
>;

/**
 * The facts of one stored alert, exactly as the worker decides with them — shared by the worker,
 * the dry run and the replay so they cannot disagree. With `discover`, an unknown device is
 * created as discovered (R-LINK-7); without (replay, dry run), nothing is written.
 */
export async function buildFacts(
  db: Knex | Knex.Transaction,
  slas: SlaCache,
  input: { alert: FactsAlert; source: string; discover: boolean },
): Promise<BuiltFacts> {
  const [b] = await buildFactsBatch(db, slas, [input], { discover: input.discover });
  return b!;
}

function distinct<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const t of items) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}

/**
 * {@link buildFacts} for many alerts at once, with one query per step whatever their number. The
 * result is what building them one after the other, in the given order, gives — including a
 * device discovered for one alert and found by its source id for a later one.
 */
export async function buildFactsBatch(
  db: Knex | Knex.Transaction,
  slas: SlaCache,
  inputs: ReadonlyArray<{ alert: FactsAlert; source: string }>,
  opts: { discover: boolean },
): Promise<BuiltFacts[]> {
  if (inputs.length === 0) return [];
  const refOf = (i: { alert: FactsAlert; source: string }) => (i.alert.device_source_id ? pairKey(i.source, i.alert.device_source_id) : null);

  // 1. Companies of the sites, devices of the source ids.
  const sites = await companiesForSites(
    db,
    distinct(
      inputs.flatMap((i) => (i.alert.site ? [{ source: i.source, site: i.alert.site }] : [])),
      (p) => pairKey(p.source, p.site),
    ),
  );
  const byRef = await devicesBySourceRefs(
    db,
    distinct(
      inputs.flatMap((i) => (i.alert.device_source_id ? [{ source: i.source, ref: i.alert.device_source_id }] : [])),
      (p) => pairKey(p.source, p.ref),
    ),
  );
  const siteCompany = inputs.map((i) => (i.alert.site ? sites.get(pairKey(i.source, i.alert.site)) : undefined));

  // 2. By hostname, where the source id found nothing. One at a time, the first alert of an unknown
  // source id that finds (or discovers) its device by hostname records the id on it, and later
  // alerts with that id find that device by it: they follow the claimer.
  const claimer = new Map<string, number>();
  const follows: Array<number | undefined> = inputs.map(() => undefined);
  const hostLookups: Array<{ companyId: string | null; hostname: string; site: string | null; seenAt: Date }> = [];
  inputs.forEach((i, n) => {
    const ref = refOf(i);
    if (ref && byRef.has(ref)) return;
    if (ref && opts.discover && claimer.has(ref)) {
      follows[n] = claimer.get(ref);
      return;
    }
    if (!i.alert.hostname) return;
    hostLookups.push({ companyId: siteCompany[n]?.id ?? null, hostname: i.alert.hostname, site: i.alert.site, seenAt: i.alert.occurred_at });
    if (ref && opts.discover) claimer.set(ref, n);
  });
  const wanted = distinct(hostLookups, (p) => hostKey(p.companyId, p.hostname));
  const byHost = await devicesByHostnames(
    db,
    wanted.map((p) => ({ companyId: p.companyId, hostname: p.hostname })),
  );
  if (opts.discover) {
    const missing = wanted.filter((p) => !byHost.has(hostKey(p.companyId, p.hostname)));
    if (missing.length > 0) {
      // The first alert that looks the host up creates it, with its site.
      const firstSeen = new Map<string, { site: string | null; seenAt: Date }>();
      for (const p of hostLookups) {
        const k = hostKey(p.companyId, p.hostname);
        if (!firstSeen.has(k)) firstSeen.set(k, { site: p.site, seenAt: p.seenAt });
      }
      await upsertDiscoveredDevices(
        db,
        missing.map((p) => ({ companyId: p.companyId, hostname: p.hostname, ...firstSeen.get(hostKey(p.companyId, p.hostname))! })),
      );
      for (const [k, d] of await devicesByHostnames(db, missing)) byHost.set(k, d);
    }
  }

  // 3. Each alert's device, in order.
  const devices: Array<DeviceRow | undefined> = [];
  /** Found by its source id (in the database, or recorded by an earlier alert of the batch). */
  const viaRef: boolean[] = [];
  const newRefs: Array<{ deviceId: string; source: string; ref: string }> = [];
  inputs.forEach((i, n) => {
    const ref = refOf(i);
    let device = ref ? byRef.get(ref) : undefined;
    const leader = follows[n];
    if (!device && leader !== undefined) device = devices[leader];
    viaRef.push(device !== undefined);
    if (!device && leader === undefined && i.alert.hostname) {
      device = byHost.get(hostKey(siteCompany[n]?.id ?? null, i.alert.hostname));
      if (device && opts.discover && ref && claimer.get(ref) === n) newRefs.push({ deviceId: device.id, source: i.source, ref: i.alert.device_source_id! });
    }
    devices.push(device);
  });
  await addSourceRefs(db, newRefs);

  // 4. A device found by its source id belongs to its own company, whatever the site says.
  const known = new Map<string, CompanyRow>();
  for (const c of siteCompany) if (c) known.set(String(c.id), c);
  const needed = new Set<string>();
  devices.forEach((d, n) => {
    if (d?.company_id && viaRef[n] && !known.has(String(d.company_id))) needed.add(String(d.company_id));
  });
  for (const [id, c] of await companiesByIds(db, [...needed])) known.set(id, c);
  const companies = inputs.map((_, n) => {
    const d = devices[n];
    const c = siteCompany[n];
    if (d?.company_id && viaRef[n] && (!c || String(c.id) !== String(d.company_id))) return known.get(String(d.company_id));
    return c;
  });

  // 5. R-LINK-3/4: the device's link and the company's default contract on the alert's date (UTC).
  const dates = inputs.map((i) => i.alert.occurred_at.toISOString().slice(0, 10));
  const links = await effectiveDeviceContracts(
    db,
    distinct(
      devices.flatMap((d, n) => (d ? [{ id: String(d.id), date: dates[n]! }] : [])),
      (p) => pairKey(p.id, p.date),
    ),
  );
  const defaults = await activeDefaultContracts(
    db,
    distinct(
      companies.flatMap((c, n) => (c ? [{ id: String(c.id), date: dates[n]! }] : [])),
      (p) => pairKey(p.id, p.date),
    ),
  );

  const out: BuiltFacts[] = [];
  for (let n = 0; n < inputs.length; n++) {
    const { alert, source } = inputs[n]!;
    const device = devices[n];
    const company = companies[n];
    const date = dates[n]!;
    const deviceContract = device ? links.get(pairKey(String(device.id), date)) : undefined;
    const defaultContract = company ? defaults.get(pairKey(String(company.id), date)) : undefined;
    out.push({ company, device, deviceContract, defaultContract, date, facts: await factsOf(db, slas, { alert, source, company, device, deviceContract, defaultContract }) });
  }
  return out;
}

async function factsOf(
  db: Knex | Knex.Transaction,
  slas: SlaCache,
  x: { alert: FactsAlert; source: string; company: CompanyRow | undefined; device: DeviceRow | undefined; deviceContract: ContractFactRow | undefined; defaultContract: ContractFactRow | undefined },
): Promise<DecisionFacts> {
  const { alert, source, company, device, deviceContract, defaultContract } = x;
  const contract = deviceContract ?? defaultContract;
  const factSla = contract?.sla_id ? await slas.get(db, contract.sla_id) : undefined;
  const zone = factSla?.calendar.timezone ?? 'UTC';
  const lt = localTime(zone, alert.occurred_at);
  return {
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

/**
 * Contracts, services and SLAs a rule names by code or name, looked up once per batch (a rule
 * names the same ones for many alerts; the pipeline never writes them).
 */
type RefMemo = Map<string, Promise<unknown>>;
function once<T>(memo: RefMemo, key: string, load: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) memo.set(key, (p = load()));
  return p;
}

async function resolveAssignment(
  trx: Knex.Transaction,
  decision: Decision,
  ctx: { company: CompanyRow | undefined; deviceContract: ContractFactRow | undefined; defaultContract: ContractFactRow | undefined; date: string },
  refs: RefMemo,
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
    const { ref } = a.contract;
    const companyId = ctx.company?.id;
    contract = companyId ? await once(refs, `contract\u0000${companyId}\u0000${ref}\u0000${ctx.date}`, () => contractByRef(trx, companyId, ref, ctx.date)) : undefined;
    if (!contract) notes.push(`contract "${a.contract.ref}" not found for the company on ${ctx.date}: ticket left for triage`);
  }
  let serviceId: string | null = contract?.service_id ?? null;
  if (a.service) {
    const ref = a.service;
    const s = await once(refs, `service\u0000${ref}`, () => serviceByRef(trx, ref));
    if (s) serviceId = s.id;
    else notes.push(`service "${a.service}" not found`);
  }
  let slaId: string | null = contract?.sla_id ?? null;
  if (a.sla) {
    const ref = a.sla;
    const s = await once(refs, `sla\u0000${ref}`, () => slaByRef(trx, ref));
    if (s) slaId = s.id;
    else notes.push(`SLA "${a.sla}" not found`);
  }
  return { contract, via, serviceId, slaId, notes };
}

function describe(alert: WorkAlert, source: string): string {
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
