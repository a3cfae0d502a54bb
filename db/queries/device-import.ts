import type { Knex } from 'knex';
import type { CompanyScope } from '../../core/access/company-scope';
import type { IsoDate } from '../../core/dates';
import { HubError } from '../../core/errors';
import { MAX_REPORTED_ERRORS, parseDeviceCsv, type RowError } from '../../core/imports/device-csv';
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
import { pgErrorToHubError } from '../pg-errors';
import { writeAudit } from './audit';

/**
 * `hub import devices` and `POST /api/v1/devices/import` (R-LINK-7, R-LINK-8): devices from an
 * RMM's export, created or updated in one transaction.
 *
 * Set-based so that 100,000 rows take seconds, not minutes: the file is parsed and checked in
 * memory (core/imports), the rows go into a temporary table in one statement, one join finds
 * the devices they match, and every write is one `INSERT … SELECT FROM unnest(…)` or
 * `UPDATE … FROM unnest(…)` per chunk. Nothing is written per row.
 *
 * All-or-nothing by default: any invalid row and nothing is written. With `skipInvalid`, the
 * valid rows are written and the invalid ones reported. A dry run does every check (including
 * the look-ups) and rolls back.
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
  /** The first day of contract links the import makes (the link in force ends the day before). */
  today: IsoDate;
  /** Audit actor. */
  actor: string;
  requestId?: string | null;
  /** Companies the caller may write. */
  scope: CompanyScope;
  onProgress?: (p: ImportProgress) => void;
  /** Rows per write statement (progress granularity). @defaultValue 5000 */
  chunkSize?: number;
}

export interface DeviceImportReport {
  dryRun: boolean;
  skipInvalid: boolean;
  /** True when the changes were committed. */
  applied: boolean;
  /** Data rows in the file (blank lines not counted). */
  rows: number;
  valid: number;
  invalid: number;
  /** Counts of what was (or, in a dry run or when refused, would be) done with the valid rows. */
  created: number;
  updated: number;
  unchanged: number;
  linked: number;
  linksUnchanged: number;
  errorCount: number;
  /** The first MAX_REPORTED_ERRORS errors, by line. */
  errors: RowError[];
  durationMs: number;
}

interface MatchRow {
  line: number;
  ref_id: string | null;
  ref_company_id: string | null;
  ref_hostname: string | null;
  ref_site: string | null;
  ref_discovered: boolean | null;
  host_id: string | null;
  host_company_id: string | null;
  host_hostname: string | null;
  host_site: string | null;
  host_discovered: boolean | null;
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
    const plan = planDeviceRows(resolved.rows, (line) => matches.get(line) ?? { links: [] }, opts.today);
    progress({ phase: 'check', done: resolved.rows.length, total: resolved.rows.length });

    const errors = [...parsed.errors, ...resolved.errors, ...plan.errors].sort((a, b) => a.line - b.line);
    const fileLevel = errors.some((e) => e.field === '(header)' || e.field === '(file)');
    const invalidLines = new Set(errors.map((e) => e.line));
    const invalid = fileLevel ? parsed.total : invalidLines.size;
    const report: DeviceImportReport = {
      dryRun: opts.dryRun === true,
      skipInvalid: opts.skipInvalid === true,
      applied: false,
      rows: parsed.total,
      valid: fileLevel ? 0 : parsed.total - invalid,
      invalid,
      created: plan.planned.filter((p) => p.action === 'create').length,
      updated: plan.planned.filter((p) => p.action === 'update').length,
      unchanged: plan.planned.filter((p) => p.action === 'unchanged').length,
      linked: plan.planned.filter((p) => p.link.kind === 'link').length,
      linksUnchanged: plan.planned.filter((p) => p.link.kind === 'unchanged').length,
      errorCount: errors.length,
      errors: errors.slice(0, MAX_REPORTED_ERRORS),
      durationMs: 0,
    };

    const refused = fileLevel || (errors.length > 0 && opts.skipInvalid !== true);
    if (opts.dryRun || refused) {
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
async function loadLookups(trx: Knex.Transaction, rows: readonly { source: string }[], opts: DeviceImportOptions): Promise<ImportLookups> {
  const sources = [...new Set(rows.map((r) => r.source))];
  const sites = (await trx.raw<{ rows: Array<{ company_id: string; source: string; site_id: string; site_name: string | null }> }>(
    'SELECT company_id::text, source, site_id, site_name FROM company_source_sites WHERE source = ANY(?::text[])',
    [sources],
  )).rows;
  const companyIds = [...new Set(sites.map((s) => s.company_id))];
  const contracts = (await trx.raw<{ rows: Array<{ id: string; company_id: string; code: string | null; name: string; start_date: IsoDate; end_date: IsoDate }> }>(
    'SELECT id::text, company_id::text, code, name, start_date, end_date FROM contracts WHERE company_id = ANY(?::bigint[])',
    [companyIds],
  )).rows;
  const services = (await trx.raw<{ rows: Array<{ id: string; code: string | null; name: string }> }>('SELECT id::text, code, name FROM services')).rows;
  const links = (await trx.raw<{ rows: Array<{ contract_id: string; service_id: string }> }>(
    `SELECT contract_id::text, service_id::text FROM contract_services WHERE contract_id = ANY(:ids::bigint[])
     UNION
     SELECT b.contract_id::text, i.service_id::text FROM contract_bundles b JOIN service_bundle_items i ON i.bundle_id = b.bundle_id
      WHERE b.contract_id = ANY(:ids::bigint[])`,
    { ids: contracts.map((c) => c.id) },
  )).rows;
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
  const out = new Map<number, RowMatches>();
  if (rows.length === 0) return out;
  await trx.raw(`CREATE TEMP TABLE device_import_rows (
      line integer PRIMARY KEY, company_id bigint NOT NULL, lhost text NOT NULL, source text NOT NULL, source_device_id text NOT NULL
    ) ON COMMIT DROP`);
  await trx.raw(
    `INSERT INTO device_import_rows (line, company_id, lhost, source, source_device_id)
     SELECT * FROM unnest(?::integer[], ?::bigint[], ?::text[], ?::text[], ?::text[])`,
    [rows.map((r) => r.line), rows.map((r) => r.companyId), rows.map((r) => r.hostname.toLowerCase()), rows.map((r) => r.source), rows.map((r) => r.sourceDeviceId)],
  );
  await trx.raw('ANALYZE device_import_rows');
  const matched = (await trx.raw<{ rows: MatchRow[] }>(`
    SELECT r.line,
           rd.id::text AS ref_id, rd.company_id::text AS ref_company_id, rd.hostname AS ref_hostname, rd.site AS ref_site, rd.discovered AS ref_discovered,
           hd.id::text AS host_id, hd.company_id::text AS host_company_id, hd.hostname AS host_hostname, hd.site AS host_site, hd.discovered AS host_discovered
      FROM device_import_rows r
      LEFT JOIN device_source_refs ref ON ref.source = r.source AND ref.source_device_id = r.source_device_id
      LEFT JOIN devices rd ON rd.id = ref.device_id
      LEFT JOIN devices hd ON hd.company_id = r.company_id AND lower(hd.hostname) = r.lhost
     WHERE ref.id IS NOT NULL OR hd.id IS NOT NULL`)).rows;

  const deviceIds = new Set<string>();
  for (const m of matched) {
    if (m.ref_id) deviceIds.add(m.ref_id);
    if (m.host_id) deviceIds.add(m.host_id);
  }
  // Lock in id order so two imports (or an import and PUT /devices/:id/contract) cannot deadlock.
  // Numeric order of digit strings without BigInt: shorter first, then by text.
  const ids = [...deviceIds].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  if (ids.length > 0) await trx.raw('SELECT id FROM devices WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE', [ids]);

  const linkedLines = new Set(rows.filter((r) => r.contractId !== null).map((r) => r.line));
  const linkDevices = matched.filter((m) => linkedLines.has(m.line)).map((m) => m.ref_id ?? m.host_id) as string[];
  const linksByDevice = new Map<string, ExistingLink[]>();
  if (linkDevices.length > 0) {
    const links = (await trx.raw<{ rows: Array<{ id: string; device_id: string; contract_id: string; service_id: string | null; valid_from: IsoDate; valid_to: IsoDate | null }> }>(
      `SELECT id::text, device_id::text, contract_id::text, service_id::text, valid_from, valid_to FROM device_contract_links
        WHERE device_id = ANY(?::bigint[]) AND (valid_to IS NULL OR valid_to >= ?::date)
        ORDER BY device_id, valid_from`,
      [linkDevices, today],
    )).rows;
    for (const l of links) {
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

/**
 * A bigint[] parameter that may hold NULLs, as a Postgres array literal (the ids are digits, so
 * nothing needs quoting); the pg driver's own array encoding is typed for non-null elements only.
 */
function idArray(ids: ReadonlyArray<string | null>): string {
  for (const id of ids) if (id !== null && !/^\d+$/.test(id)) throw new Error(`device import: bad id ${id}`);
  return `{${ids.map((id) => id ?? 'NULL').join(',')}}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The writes, each set-based per chunk: device updates, new devices (their ids come back by
 * company + hostname, unique in the file), new source references, ended and new links.
 * Imported devices are no longer "discovered" (awaiting triage): the file says what they are.
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
    const updates = chunk.filter((p) => p.action === 'update');
    if (updates.length > 0) {
      await trx.raw(
        `UPDATE devices d SET company_id = v.company_id, hostname = v.hostname, site = v.site, discovered = false, updated_at = now()
           FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[]) AS v(id, company_id, hostname, site)
          WHERE d.id = v.id`,
        [updates.map(deviceIdOf), updates.map((p) => p.row.companyId), updates.map((p) => p.row.hostname), updates.map((p) => p.row.site)],
      );
    }
    const creates = chunk.filter((p) => p.action === 'create');
    if (creates.length > 0) {
      const inserted = (await trx.raw<{ rows: Array<{ id: string; company_id: string; lhost: string }> }>(
        `INSERT INTO devices (company_id, hostname, site, discovered)
         SELECT company_id, hostname, site, false FROM unnest(?::bigint[], ?::text[], ?::text[]) AS v(company_id, hostname, site)
         RETURNING id::text, company_id::text, lower(hostname) AS lhost`,
        [creates.map((p) => p.row.companyId), creates.map((p) => p.row.hostname), creates.map((p) => p.row.site)],
      )).rows;
      const byKey = new Map(inserted.map((r) => [`${r.company_id}\u0000${r.lhost}`, r.id]));
      for (const p of creates) {
        const id = byKey.get(`${p.row.companyId}\u0000${p.row.hostname.toLowerCase()}`);
        if (!id) throw new Error(`device import: no id came back for line ${p.row.line}`);
        deviceOf.set(p.row.line, id);
      }
    }
    const refs = chunk.filter((p) => p.addRef);
    if (refs.length > 0) {
      await trx.raw(
        `INSERT INTO device_source_refs (device_id, source, source_device_id)
         SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[])`,
        [refs.map(deviceIdOf), refs.map((p) => p.row.source), refs.map((p) => p.row.sourceDeviceId)],
      );
    }
    const links = chunk.flatMap((p) => (p.link.kind === 'link' ? [{ p, link: p.link }] : []));
    const ended = links.flatMap((l) => (l.link.endLinkId ? [l.link.endLinkId] : []));
    const removed = links.flatMap((l) => (l.link.deleteLinkId ? [l.link.deleteLinkId] : []));
    if (ended.length > 0) await trx.raw('UPDATE device_contract_links SET valid_to = ?::date WHERE id = ANY(?::bigint[])', [linkEndFor(opts.today), ended]);
    if (removed.length > 0) await trx.raw('DELETE FROM device_contract_links WHERE id = ANY(?::bigint[])', [removed]);
    if (links.length > 0) {
      await trx.raw(
        `INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from)
         SELECT d, c, s, ?::date FROM unnest(?::bigint[], ?::bigint[], ?::bigint[]) AS v(d, c, s)`,
        [opts.today, links.map((l) => deviceIdOf(l.p)), links.map((l) => l.link.contractId), idArray(links.map((l) => l.link.serviceId))],
      );
    }
    done += chunk.length;
    progress({ phase: 'write', done, total });
  }
}
