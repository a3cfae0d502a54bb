import type { Knex } from 'knex';
import { alertDate, alertDateZone, chooseContract } from '../../core/contracts/links';
import { isWithinBusinessHours, localTime } from '../../core/slas/business-calendar';
import {
  activeDefaultContracts,
  addSourceRefs,
  companiesByIds,
  companiesForSites,
  devicesByHostnames,
  devicesBySourceRefs,
  effectiveDeviceContracts,
  hostKey,
  pairKey,
  upsertDiscoveredDevices,
} from '../../db/queries/alert-batch';
import type { ContractFactRow } from '../../db/queries/alert-processing';
import type { SlaCache } from '../slas/sla-cache';
import type { AlertRow, CompanyRow, DeviceRow } from '../../db/tables';
import type { DecisionFacts } from '../../rules/engine/types';

/**
 * Building the facts an alert is decided with (R-ALR-3, R-LINK-3/4/7): its company (by site, or the
 * company of the device its source id names), its device (by source id, else hostname; discovered
 * when new), the device's dated contract link and the company's default contract on the alert's
 * date, and the SLA's calendar for the time facts. The worker (apply-receipts.ts), the dry run and
 * the replay (app/rules) all build them here, so the three cannot disagree.
 */

export interface BuiltFacts {
  company: CompanyRow | undefined;
  device: DeviceRow | undefined;
  deviceContract: ContractFactRow | undefined;
  defaultContract: ContractFactRow | undefined;
  facts: DecisionFacts;
  /** The alert's date the links and contracts were taken on (in the company's zone, else the SLA's, else the fallback). */
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
  input: { alert: FactsAlert; source: string; discover: boolean; fallbackZone?: string | undefined },
): Promise<BuiltFacts> {
  const [b] = await buildFactsBatch(db, slas, [input], { discover: input.discover, fallbackZone: input.fallbackZone });
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
  opts: { discover: boolean; fallbackZone?: string | undefined },
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

  // 5. R-LINK-3/4: the device's link and the company's default contract on the alert's date — the
  // date in the company's zone, else in the zone of the SLA of the contract chosen on the date in
  // the fallback zone, else the fallback's (core alertDateZone; issue 15 item 5).
  const fallback = opts.fallbackZone ?? 'UTC';
  const links = new Map<string, ContractFactRow>();
  const defaults = new Map<string, ContractFactRow>();
  const lookUp = async (wanted: ReadonlyArray<{ n: number; date: string }>) => {
    const dl = await effectiveDeviceContracts(
      db,
      distinct(
        wanted.flatMap(({ n, date }) => (devices[n] ? [{ id: String(devices[n].id), date }] : [])),
        (p) => pairKey(p.id, p.date),
      ),
    );
    const dd = await activeDefaultContracts(
      db,
      distinct(
        wanted.flatMap(({ n, date }) => (companies[n] ? [{ id: String(companies[n].id), date }] : [])),
        (p) => pairKey(p.id, p.date),
      ),
    );
    for (const [k, v] of dl) links.set(k, v);
    for (const [k, v] of dd) defaults.set(k, v);
  };
  const linkOn = (n: number, date: string) => (devices[n] ? links.get(pairKey(String(devices[n].id), date)) : undefined);
  const defaultOn = (n: number, date: string) => (companies[n] ? defaults.get(pairKey(String(companies[n].id), date)) : undefined);
  const dates = inputs.map((i, n) => alertDate(i.alert.occurred_at, alertDateZone({ company: companies[n]?.timezone, sla: null, fallback })));
  await lookUp(dates.map((date, n) => ({ n, date })));
  const moved: Array<{ n: number; date: string }> = [];
  for (let n = 0; n < inputs.length; n++) {
    if (companies[n]?.timezone) continue;
    const slaZone = (linkOn(n, dates[n]!) ?? defaultOn(n, dates[n]!))?.sla_timezone;
    if (!slaZone) continue;
    const date = alertDate(inputs[n]!.alert.occurred_at, alertDateZone({ company: null, sla: slaZone, fallback }));
    if (date !== dates[n]) {
      dates[n] = date;
      moved.push({ n, date });
    }
  }
  // Only alerts near midnight land on another day in their SLA's zone: a second look-up for those.
  if (moved.length > 0) await lookUp(moved);

  const out: BuiltFacts[] = [];
  for (let n = 0; n < inputs.length; n++) {
    const { alert, source } = inputs[n]!;
    const device = devices[n];
    const company = companies[n];
    const date = dates[n]!;
    const deviceContract = linkOn(n, date);
    const defaultContract = defaultOn(n, date);
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
  // R-LINK-4: the device's contract overrides the default (core chooseContract, the one rule).
  const choice = chooseContract(deviceContract, defaultContract);
  const contract = choice.kind === 'device' ? choice.link : choice.kind === 'default' ? choice.contract : undefined;
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
