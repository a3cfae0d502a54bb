import type { IsoDate } from '../../core/dates';
import type { Db } from '../connection';

/**
 * The statements of the device import (R-LINK-7, R-LINK-8; the use case is
 * app/devices/import-devices.ts). Set-based so that 100,000 rows take seconds: the rows go into a
 * temporary table in one statement, one join finds the devices they match, and every write is
 * one `INSERT … SELECT FROM unnest(…)` or `UPDATE … FROM unnest(…)` per chunk. One exported
 * function per statement; nothing here decides.
 */

export async function listSitesOfSources(db: Db, sources: readonly string[]): Promise<Array<{ company_id: string; source: string; site_id: string; site_name: string | null }>> {
  return (
    await db.raw<{ rows: Array<{ company_id: string; source: string; site_id: string; site_name: string | null }> }>(
      'SELECT company_id::text, source, site_id, site_name FROM company_source_sites WHERE source = ANY(?::text[])',
      [[...sources]],
    )
  ).rows;
}

export async function listContractsOfCompanies(
  db: Db,
  companyIds: readonly string[],
): Promise<Array<{ id: string; company_id: string; code: string | null; name: string; start_date: IsoDate; end_date: IsoDate }>> {
  return (
    await db.raw<{ rows: Array<{ id: string; company_id: string; code: string | null; name: string; start_date: IsoDate; end_date: IsoDate }> }>(
      'SELECT id::text, company_id::text, code, name, start_date, end_date FROM contracts WHERE company_id = ANY(?::bigint[])',
      [[...companyIds]],
    )
  ).rows;
}

/** The whole service catalogue, ids as text (the import refers to services by code or name). */
export async function listCatalogueServiceRefs(db: Db): Promise<Array<{ id: string; code: string | null; name: string }>> {
  return (await db.raw<{ rows: Array<{ id: string; code: string | null; name: string }> }>('SELECT id::text, code, name FROM services')).rows;
}

/** (contract, service) pairs the contracts cover, directly or through a bundle. */
export async function listContractServicePairs(db: Db, contractIds: readonly string[]): Promise<Array<{ contract_id: string; service_id: string }>> {
  return (
    await db.raw<{ rows: Array<{ contract_id: string; service_id: string }> }>(
      `SELECT contract_id::text, service_id::text FROM contract_services WHERE contract_id = ANY(:ids::bigint[])
       UNION
       SELECT b.contract_id::text, i.service_id::text FROM contract_bundles b JOIN service_bundle_items i ON i.bundle_id = b.bundle_id
        WHERE b.contract_id = ANY(:ids::bigint[])`,
      { ids: [...contractIds] },
    )
  ).rows;
}

// ---------------------------------------------------------------------------------------------
// Matching: the file's rows in a temporary table, one join
// ---------------------------------------------------------------------------------------------

export interface ImportRowKey {
  line: number;
  companyId: string;
  hostname: string;
  source: string;
  sourceDeviceId: string;
}

export interface ImportMatchRow {
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

/** The transaction's temporary table of the file's rows (dropped at commit or rollback). */
export async function createImportRowsTable(trx: Db): Promise<void> {
  await trx.raw(`CREATE TEMP TABLE device_import_rows (
      line integer PRIMARY KEY, company_id bigint NOT NULL, lhost text NOT NULL, source text NOT NULL, source_device_id text NOT NULL
    ) ON COMMIT DROP`);
}

export async function insertImportRows(trx: Db, rows: readonly ImportRowKey[]): Promise<void> {
  await trx.raw(
    `INSERT INTO device_import_rows (line, company_id, lhost, source, source_device_id)
     SELECT * FROM unnest(?::integer[], ?::bigint[], ?::text[], ?::text[], ?::text[])`,
    [rows.map((r) => r.line), rows.map((r) => r.companyId), rows.map((r) => r.hostname.toLowerCase()), rows.map((r) => r.source), rows.map((r) => r.sourceDeviceId)],
  );
}

/** Statistics for the planner: the temporary table is joined right after it is filled. */
export async function analyzeImportRows(trx: Db): Promise<void> {
  await trx.raw('ANALYZE device_import_rows');
}

/** For every row: the device holding its source reference and the device of its company with its hostname. */
export async function matchImportRows(trx: Db): Promise<ImportMatchRow[]> {
  return (
    await trx.raw<{ rows: ImportMatchRow[] }>(`
    SELECT r.line,
           rd.id::text AS ref_id, rd.company_id::text AS ref_company_id, rd.hostname AS ref_hostname, rd.site AS ref_site, rd.discovered AS ref_discovered,
           hd.id::text AS host_id, hd.company_id::text AS host_company_id, hd.hostname AS host_hostname, hd.site AS host_site, hd.discovered AS host_discovered
      FROM device_import_rows r
      LEFT JOIN device_source_refs ref ON ref.source = r.source AND ref.source_device_id = r.source_device_id
      LEFT JOIN devices rd ON rd.id = ref.device_id
      LEFT JOIN devices hd ON hd.company_id = r.company_id AND lower(hd.hostname) = r.lhost
     WHERE ref.id IS NOT NULL OR hd.id IS NOT NULL`)
  ).rows;
}

/**
 * Locks many devices for the rest of the transaction, in id order, so two imports (or an import
 * and PUT /devices/:id/contract) cannot deadlock.
 */
export async function lockDevicesInIdOrder(trx: Db, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await trx.raw('SELECT id FROM devices WHERE id = ANY(?::bigint[]) ORDER BY id FOR UPDATE', [[...deviceIds]]);
}

/** Links of the devices in force on `date` or later, per device by start. */
export async function listLinksInForceFrom(
  db: Db,
  deviceIds: readonly string[],
  date: IsoDate,
): Promise<Array<{ id: string; device_id: string; contract_id: string; service_id: string | null; valid_from: IsoDate; valid_to: IsoDate | null }>> {
  return (
    await db.raw<{ rows: Array<{ id: string; device_id: string; contract_id: string; service_id: string | null; valid_from: IsoDate; valid_to: IsoDate | null }> }>(
      `SELECT id::text, device_id::text, contract_id::text, service_id::text, valid_from, valid_to FROM device_contract_links
        WHERE device_id = ANY(?::bigint[]) AND (valid_to IS NULL OR valid_to >= ?::date)
        ORDER BY device_id, valid_from`,
      [[...deviceIds], date],
    )
  ).rows;
}

// ---------------------------------------------------------------------------------------------
// Writes, one statement per chunk
// ---------------------------------------------------------------------------------------------

/**
 * A bigint[] parameter that may hold NULLs, as a Postgres array literal (the ids are digits, so
 * nothing needs quoting); the pg driver's own array encoding is typed for non-null elements only.
 */
function idArray(ids: ReadonlyArray<string | null>): string {
  for (const id of ids) if (id !== null && !/^\d+$/.test(id)) throw new Error(`device import: bad id ${id}`);
  return `{${ids.map((id) => id ?? 'NULL').join(',')}}`;
}

/** Imported devices are no longer "discovered" (awaiting triage): the file says what they are. */
export async function updateImportedDevices(
  db: Db,
  rows: ReadonlyArray<{ id: string; companyId: string; hostname: string; site: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `UPDATE devices d SET company_id = v.company_id, hostname = v.hostname, site = v.site, discovered = false, updated_at = now()
       FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[]) AS v(id, company_id, hostname, site)
      WHERE d.id = v.id`,
    [rows.map((r) => r.id), rows.map((r) => r.companyId), rows.map((r) => r.hostname), rows.map((r) => r.site)],
  );
}

/** New devices (not discovered); their ids come back with company and lower-cased hostname. */
export async function insertImportedDevices(
  db: Db,
  rows: ReadonlyArray<{ companyId: string; hostname: string; site: string }>,
): Promise<Array<{ id: string; company_id: string; lhost: string }>> {
  if (rows.length === 0) return [];
  return (
    await db.raw<{ rows: Array<{ id: string; company_id: string; lhost: string }> }>(
      `INSERT INTO devices (company_id, hostname, site, discovered)
       SELECT company_id, hostname, site, false FROM unnest(?::bigint[], ?::text[], ?::text[]) AS v(company_id, hostname, site)
       RETURNING id::text, company_id::text, lower(hostname) AS lhost`,
      [rows.map((r) => r.companyId), rows.map((r) => r.hostname), rows.map((r) => r.site)],
    )
  ).rows;
}

export async function insertDeviceSourceRefs(db: Db, rows: ReadonlyArray<{ deviceId: string; source: string; sourceDeviceId: string }>): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `INSERT INTO device_source_refs (device_id, source, source_device_id)
     SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[])`,
    [rows.map((r) => r.deviceId), rows.map((r) => r.source), rows.map((r) => r.sourceDeviceId)],
  );
}

/** The links end on `validTo`. */
/** Ends each link on its own last day (the day before the import's new link of that device starts). */
export async function endLinksOn(db: Db, ends: ReadonlyArray<{ id: string; validTo: IsoDate }>): Promise<void> {
  if (ends.length === 0) return;
  await db.raw(
    `UPDATE device_contract_links l SET valid_to = v.t FROM unnest(?::bigint[], ?::date[]) AS v(i, t) WHERE l.id = v.i`,
    [ends.map((e) => e.id), ends.map((e) => e.validTo)],
  );
}

export async function deleteLinksById(db: Db, linkIds: readonly string[]): Promise<void> {
  if (linkIds.length === 0) return;
  await db.raw('DELETE FROM device_contract_links WHERE id = ANY(?::bigint[])', [[...linkIds]]);
}

/** Open-ended links, each from its own first day, recorded as made by an import (origin 'import'), in one statement. */
export async function insertOpenLinks(
  db: Db,
  links: ReadonlyArray<{ deviceId: string; contractId: string; serviceId: string | null; validFrom: IsoDate }>,
): Promise<void> {
  if (links.length === 0) return;
  await db.raw(
    `INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from, origin)
     SELECT d, c, s, f, 'import' FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::date[]) AS v(d, c, s, f)`,
    [links.map((l) => l.deviceId), links.map((l) => l.contractId), idArray(links.map((l) => l.serviceId)), links.map((l) => l.validFrom)],
  );
}

/** Contracts by id (any company): the import says whose a contract named by id is. */
export async function listContractsById(
  db: Db,
  ids: readonly string[],
): Promise<Array<{ id: string; company_id: string; code: string | null; name: string; start_date: IsoDate; end_date: IsoDate }>> {
  if (ids.length === 0) return [];
  return (
    await db.raw<{ rows: Array<{ id: string; company_id: string; code: string | null; name: string; start_date: IsoDate; end_date: IsoDate }> }>(
      'SELECT id::text, company_id::text, code, name, start_date, end_date FROM contracts WHERE id = ANY(?::bigint[])',
      [[...ids]],
    )
  ).rows;
}

/** The companies' own time zones (null where none is set). */
export async function listCompanyZones(db: Db, companyIds: readonly string[]): Promise<Array<{ id: string; timezone: string | null }>> {
  if (companyIds.length === 0) return [];
  return (await db.raw<{ rows: Array<{ id: string; timezone: string | null }> }>('SELECT id::text, timezone FROM companies WHERE id = ANY(?::bigint[])', [[...companyIds]])).rows;
}
