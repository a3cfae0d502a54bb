import type { CompanyScope } from '../../core/access/company-scope';
import type { Knex } from 'knex';
import { todayIn, type IsoDate } from '../../core/dates';
import { HubError } from '../../core/errors';
import { parseDeviceCsv } from '../../core/imports/device-csv';
import { importVerdict, type DeviceImportCounts } from '../../core/imports/device-import-outcome';
import {
  linkEndFor,
  planDeviceRows,
  resolveDeviceRows,
  type DeviceMatch,
  type ExistingLink,
  type ImportLookups,
  type PlannedRow,
  type ResolvedDeviceRow,
  type RowMatches,
} from '../../core/imports/device-plan';
import { pgErrorToHubError } from '../../db/pg-errors';
import { writeAudit } from '../../db/queries/audit';
import {
  analyzeImportRows,
  createImportRowsTable,
  deleteLinksById,
  endLinksOn,
  insertDeviceSourceRefs,
  insertImportedDevices,
  insertImportRows,
  insertOpenLinks,
  listCatalogueServiceRefs,
  listContractServicePairs,
  listCompanyZones,
  listContractsById,
  listContractsOfCompanies,
  listLinksInForceFrom,
  listSitesOfSources,
  lockDevicesInIdOrder,
  matchImportRows,
  updateImportedDevices,
} from '../../db/queries/device-import';

/**
 * `hub import devices` and `POST /api/v1/devices/import` (R-LINK-7, R-LINK-8): devices from an
 * RMM's export, created or updated in one transaction.
 *
 * Set-based so that 100,000 rows take seconds, not minutes: the file is parsed and checked in
 * memory (core/imports), the rows go into a temporary table in one statement, one join finds
 * the devices they match, and every write is one statement per chunk (db/queries/device-import.ts).
 * Nothing is written per row.
 *
 * All-or-nothing by default: any invalid row and nothing is written. With `skipInvalid`, the
 * valid rows are written and the invalid ones reported (core importVerdict). A dry run does every
 * check (including the look-ups) and rolls back.
 *
 * Concurrency: the matched devices are locked (FOR UPDATE, in id order) before the plan is made;
 * a device created concurrently by the alert worker under the same hostname or reference makes
 * the import fail on the database's unique constraint (409), never a duplicate.
 */

export interface ImportProgress {
  phase: 'parse' | 'check' | 'write' | 'done';
  done: number;
  total: number;
}

export interface DeviceImportOptions {
  /** Check everything, write nothing. @defaultValue false */
  dryRun?: boolean;
  /** Write the valid rows and report the others (default: any error, nothing written). @defaultValue false */
  skipInvalid?: boolean;
  /**
   * The first day of contract links of rows without `linkFrom` (the link in force ends the day
   * before): today in HUB_RENEWAL_TIMEZONE. A company with its own zone links from today there.
   */
  today: IsoDate;
  /** The instant "today" is taken at for companies with their own zone. @defaultValue the system clock */
  now?: Date;
  /** Audit actor. */
  actor: string;
  requestId?: string | null;
  /** Companies the caller may write; null = all. */
  scope: CompanyScope;
  onProgress?: (p: ImportProgress) => void;
  /** Rows per write statement (progress granularity). @defaultValue 5000 */
  chunkSize?: number;
}

export interface DeviceImportReport extends DeviceImportCounts {
  dryRun: boolean;
  skipInvalid: boolean;
  /** True when the changes were committed. */
  applied: boolean;
  durationMs: number;
}

export async function importDevices(knex: Knex, csvText: string, opts: DeviceImportOptions): Promise<DeviceImportReport> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  const parsed = parseDeviceCsv(csvText);
  progress({ phase: 'parse', done: parsed.total, total: parsed.total });

  const trx = await knex.transaction();
  try {
    const lookups = await loadLookups(trx, parsed.rows, opts);
    const resolved = resolveDeviceRows(parsed.rows, lookups);
    progress({ phase: 'check', done: 0, total: resolved.rows.length });
    const matches = await matchDevices(trx, resolved.rows, opts.today);
    const plan = planDeviceRows(resolved.rows, (line) => matches.get(line) ?? { links: [] });
    progress({ phase: 'check', done: resolved.rows.length, total: resolved.rows.length });

    const verdict = importVerdict(parsed.total, [...parsed.errors, ...resolved.errors, ...plan.errors], plan.planned, opts.skipInvalid === true);
    const report: DeviceImportReport = {
      dryRun: opts.dryRun === true,
      skipInvalid: opts.skipInvalid === true,
      applied: false,
      ...verdict.counts,
      durationMs: 0,
    };

    if (opts.dryRun || verdict.refused) {
      await trx.rollback();
      progress({ phase: 'done', done: 0, total: 0 });
      return { ...report, durationMs: Date.now() - started };
    }

    await writePlan(trx, plan.planned, opts, progress);
    await writeAudit(trx, {
      actor: opts.actor,
      action: 'device.import',
      entityType: 'device_import',
      entityId: null,
      after: {
        rows: report.rows,
        valid: report.valid,
        invalid: report.invalid,
        skipInvalid: report.skipInvalid,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        linked: report.linked,
        companyIds: [...new Set(plan.planned.map((p) => p.row.companyId))].slice(0, 100),
      },
      requestId: opts.requestId ?? null,
    });
    await trx.commit();
    progress({ phase: 'done', done: plan.planned.length, total: plan.planned.length });
    return { ...report, applied: true, durationMs: Date.now() - started };
  } catch (e) {
    if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
    const mapped = pgErrorToHubError(e, { devices_company_hostname_unique: 'hostname', device_source_refs_unique: 'sourceDeviceId' });
    if (mapped) {
      throw new HubError('CONFLICT', `the devices changed while importing (${mapped.message}); run the import again`, mapped.details, { cause: e });
    }
    throw e;
  }
}

/** Sites of the file's sources, the contracts of their companies, the catalogue. */
async function loadLookups(trx: Knex.Transaction, rows: readonly { source: string; contract: string | null }[], opts: DeviceImportOptions): Promise<ImportLookups> {
  const sites = await listSitesOfSources(trx, [...new Set(rows.map((r) => r.source))]);
  const companyIds = [...new Set(sites.map((s) => s.company_id))];
  const contracts = await listContractsOfCompanies(trx, companyIds);
  // Contracts named by id that are not of the sites' companies: only to say whose they are.
  const known = new Set(contracts.map((c) => c.id));
  const byIdRefs = [...new Set(rows.flatMap((r) => (r.contract !== null && /^\d{1,18}$/.test(r.contract) && !known.has(r.contract) ? [r.contract] : [])))];
  const others = await listContractsById(trx, byIdRefs);
  const now = opts.now ?? new Date();
  const todayOf = new Map<string, IsoDate>();
  for (const c of await listCompanyZones(trx, companyIds)) if (c.timezone) todayOf.set(c.id, todayIn(c.timezone, now));
  const services = await listCatalogueServiceRefs(trx);
  const links = await listContractServicePairs(
    trx,
    contracts.map((c) => c.id),
  );
  const contractServices = new Map<string, Set<string>>();
  for (const l of links) {
    const set = contractServices.get(l.contract_id) ?? new Set<string>();
    set.add(l.service_id);
    contractServices.set(l.contract_id, set);
  }
  return {
    sites: sites.map((s) => ({ companyId: s.company_id, source: s.source, siteId: s.site_id, siteName: s.site_name })),
    contracts: contracts.map((c) => ({ id: c.id, companyId: c.company_id, code: c.code, name: c.name, startDate: c.start_date, endDate: c.end_date })),
    services,
    contractServices,
    scope: opts.scope,
    today: opts.today,
    todayOf,
    contractsById: new Map(others.map((c) => [c.id, { id: c.id, companyId: c.company_id, code: c.code, name: c.name, startDate: c.start_date, endDate: c.end_date }])),
  };
}

const toMatch = (id: string | null, companyId: string | null, hostname: string | null, site: string | null, discovered: boolean | null): DeviceMatch | undefined =>
  id === null ? undefined : { deviceId: id, companyId, hostname: hostname ?? '', site, discovered: discovered === true };

/**
 * One join for every row: the device holding its source reference and the device of its company
 * with its hostname; then the links (in force today or later) of the devices rows link, after
 * locking the matched devices.
 */
async function matchDevices(trx: Knex.Transaction, rows: readonly ResolvedDeviceRow[], today: IsoDate): Promise<Map<number, RowMatches>> {
  // Links in force on the earliest link day of the file, or later (a row's linkFrom may lie before today).
  const earliest = rows.reduce<IsoDate>((d, r) => (r.contractId !== null && r.linkDay < d ? r.linkDay : d), today);
  const out = new Map<number, RowMatches>();
  if (rows.length === 0) return out;
  await createImportRowsTable(trx);
  await insertImportRows(trx, rows);
  await analyzeImportRows(trx);
  const matched = await matchImportRows(trx);

  const deviceIds = new Set<string>();
  for (const m of matched) {
    if (m.ref_id) deviceIds.add(m.ref_id);
    if (m.host_id) deviceIds.add(m.host_id);
  }
  // Numeric order of digit strings without BigInt: shorter first, then by text (the lock itself orders in SQL too).
  await lockDevicesInIdOrder(trx, [...deviceIds].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)));

  const linkedLines = new Set(rows.filter((r) => r.contractId !== null).map((r) => r.line));
  const linkDevices = matched.filter((m) => linkedLines.has(m.line)).map((m) => m.ref_id ?? m.host_id) as string[];
  const linksByDevice = new Map<string, ExistingLink[]>();
  if (linkDevices.length > 0) {
    for (const l of await listLinksInForceFrom(trx, linkDevices, earliest)) {
      const list = linksByDevice.get(l.device_id) ?? [];
      list.push({ id: l.id, contractId: l.contract_id, serviceId: l.service_id, validFrom: l.valid_from, validTo: l.valid_to });
      linksByDevice.set(l.device_id, list);
    }
  }
  for (const m of matched) {
    const byRef = toMatch(m.ref_id, m.ref_company_id, m.ref_hostname, m.ref_site, m.ref_discovered);
    const byHostname = toMatch(m.host_id, m.host_company_id, m.host_hostname, m.host_site, m.host_discovered);
    const device = byRef ?? byHostname;
    out.set(m.line, { byRef, byHostname, links: device ? (linksByDevice.get(device.deviceId) ?? []) : [] });
  }
  return out;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The writes, each set-based per chunk: device updates, new devices (their ids come back by
 * company + hostname, unique in the file), new source references, ended and new links.
 */
async function writePlan(trx: Knex.Transaction, planned: readonly PlannedRow[], opts: DeviceImportOptions, progress: (p: ImportProgress) => void): Promise<void> {
  const size = opts.chunkSize ?? 5000;
  const total = planned.length;
  let done = 0;
  const deviceOf = new Map<number, string>();
  for (const p of planned) if (p.deviceId) deviceOf.set(p.row.line, p.deviceId);
  const deviceIdOf = (p: PlannedRow): string => {
    const id = deviceOf.get(p.row.line);
    if (id === undefined) throw new Error(`device import: no device id for line ${p.row.line}`);
    return id;
  };

  for (const chunk of chunks(planned, size)) {
    await updateImportedDevices(
      trx,
      chunk.filter((p) => p.action === 'update').map((p) => ({ id: deviceIdOf(p), companyId: p.row.companyId, hostname: p.row.hostname, site: p.row.site })),
    );
    const creates = chunk.filter((p) => p.action === 'create');
    const inserted = await insertImportedDevices(
      trx,
      creates.map((p) => ({ companyId: p.row.companyId, hostname: p.row.hostname, site: p.row.site })),
    );
    const byKey = new Map(inserted.map((r) => [`${r.company_id}\u0000${r.lhost}`, r.id]));
    for (const p of creates) {
      const id = byKey.get(`${p.row.companyId}\u0000${p.row.hostname.toLowerCase()}`);
      if (!id) throw new Error(`device import: no id came back for line ${p.row.line}`);
      deviceOf.set(p.row.line, id);
    }
    await insertDeviceSourceRefs(
      trx,
      chunk.filter((p) => p.addRef).map((p) => ({ deviceId: deviceIdOf(p), source: p.row.source, sourceDeviceId: p.row.sourceDeviceId })),
    );
    const links = chunk.flatMap((p) => (p.link.kind === 'link' ? [{ p, link: p.link }] : []));
    await endLinksOn(trx, links.flatMap((l) => (l.link.endLinkId ? [{ id: l.link.endLinkId, validTo: linkEndFor(l.p.row.linkDay) }] : [])));
    await deleteLinksById(trx, links.flatMap((l) => (l.link.deleteLinkId ? [l.link.deleteLinkId] : [])));
    await insertOpenLinks(
      trx,
      links.map((l) => ({ deviceId: deviceIdOf(l.p), contractId: l.link.contractId, serviceId: l.link.serviceId, validFrom: l.p.row.linkDay })),
    );
    done += chunk.length;
    progress({ phase: 'write', done, total });
  }
}
