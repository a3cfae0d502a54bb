/**
 * R-LINK-7 / R-LINK-8: what an import row means, decided before anything is written. Two pure
 * steps around one database look-up:
 * 1. `resolveDeviceRows`: the row's site → company (company_source_sites), contract and service by
 *    code or name, and duplicates inside the file;
 * 2. `planDeviceRows`, given the devices the rows match: create or update, add the source
 *    reference, and the contract link from today on (the link in force ends yesterday).
 *
 * One piece (about 300 lines): the two steps share the row model and its error wording; splitting
 * would separate a decision from the look-up shape it is defined on.
 */
import { addDays, assertIsoDate, type IsoDate } from '../dates';
import { scopeIncludes, type CompanyScope } from '../access/company-scope';
import type { DeviceCsvRow, RowError } from './device-csv';

export interface SiteMapping {
  companyId: string;
  source: string;
  siteId: string;
  siteName: string | null;
}

export interface ContractRef {
  id: string;
  companyId: string;
  code: string | null;
  name: string;
  startDate: IsoDate;
  endDate: IsoDate;
}

export interface ServiceRef {
  id: string;
  code: string | null;
  name: string;
}

export interface ImportLookups {
  sites: readonly SiteMapping[];
  /** Contracts of the companies the file's sites map to. */
  contracts: readonly ContractRef[];
  services: readonly ServiceRef[];
  /** Service ids on each contract, directly or through one of its bundles. */
  contractServices: ReadonlyMap<string, ReadonlySet<string>>;
  /** Companies the caller may write. A site of another company reads as unmapped. */
  scope: CompanyScope;
  /** The first day of the new links of a row without `linkFrom`: today in HUB_RENEWAL_TIMEZONE. */
  today: IsoDate;
  /** Today in the company's own zone, for companies that have one (issue 15 item 5); others use `today`. */
  todayOf?: ReadonlyMap<string, IsoDate>;
  /** Contracts the file names by id (digits) that are not among `contracts`: to say whose they are. */
  contractsById?: ReadonlyMap<string, ContractRef>;
}

export interface ResolvedDeviceRow extends DeviceCsvRow {
  companyId: string;
  contractId: string | null;
  serviceId: string | null;
  /** The first day of the row's contract link: its `linkFrom`, else today in the company's zone. */
  linkDay: IsoDate;
}

const lower = (s: string) => s.toLowerCase();

/**
 * Date order of dates already known to be valid 'YYYY-MM-DD' (from the database, or `today`
 * checked once): plain string order. compareDates re-validates with luxon on every call, which
 * over 100,000 rows cost seconds.
 */
const cmp = (a: IsoDate, b: IsoDate): number => (a < b ? -1 : a > b ? 1 : 0);

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

/** Code (exact, then case-insensitive), then name (case-insensitive). */
function findByCodeOrName<T extends { code: string | null; name: string }>(items: readonly T[], ref: string): T[] {
  const exact = items.filter((i) => i.code === ref);
  if (exact.length > 0) return exact;
  const code = items.filter((i) => i.code !== null && lower(i.code) === lower(ref));
  if (code.length > 0) return code;
  return items.filter((i) => lower(i.name) === lower(ref));
}

const inForce = (c: ContractRef, day: IsoDate) => cmp(c.startDate, day) <= 0 && cmp(day, c.endDate) <= 0;

/**
 * Resolves every row's references. A row with an error is left out of `rows`; its errors name
 * the column (site, contract, service, hostname) and the line.
 */
export function resolveDeviceRows(input: readonly DeviceCsvRow[], lookups: ImportLookups): { rows: ResolvedDeviceRow[]; errors: RowError[] } {
  assertIsoDate(lookups.today, 'today');
  const visibleSites = lookups.sites.filter((s) => scopeIncludes(lookups.scope, s.companyId));
  const bySiteId = new Map(visibleSites.map((s) => [`${s.source}\u0000${s.siteId}`, s]));
  const bySiteName = groupBy(
    visibleSites.filter((s) => s.siteName !== null),
    (s) => `${s.source}\u0000${lower(s.siteName ?? '')}`,
  );
  const contractsByCompany = groupBy(lookups.contracts, (c) => c.companyId);
  const contractById = new Map(lookups.contracts.map((c) => [c.id, c]));
  const hostLines = new Map<string, number>();

  // An export repeats a few sites, contracts and services thousands of times: each distinct
  // reference is resolved once.
  const siteOf = memo((source: string, site: string): Resolution<SiteMapping> => {
    const byId = bySiteId.get(`${source}\u0000${site}`);
    if (byId) return { value: byId };
    const named = bySiteName.get(`${source}\u0000${lower(site)}`) ?? [];
    if (named.length === 1) return { value: named[0]! };
    if (named.length > 1) return { error: `site name "${site}" of source ${source} is ambiguous (companies ${named.map((x) => x.companyId).join(', ')}); use the site id` };
    return { error: `site "${site}" of source ${source} is not mapped to a company (add it to the company's sourceSites)` };
  });
  // As a rules `link` event names a contract (code, else name; among several, the one in force on
  // the day) — and, for a file exported from the hub, by its id.
  const contractOf = memo((companyDay: string, ref: string): Resolution<ContractRef> => {
    const [companyId = '', day = lookups.today] = companyDay.split('\u0000') as [string, IsoDate];
    const own = contractsByCompany.get(companyId) ?? [];
    let found = findByCodeOrName(own, ref);
    if (found.length === 0 && /^\d+$/.test(ref)) {
      const byId = contractById.get(ref) ?? lookups.contractsById?.get(ref);
      if (byId && byId.companyId !== companyId && scopeIncludes(lookups.scope, byId.companyId)) {
        return { error: `contract ${byId.id} belongs to company ${byId.companyId}, not to company ${companyId} (the company of the row's site)` };
      }
      if (byId && byId.companyId === companyId) found = [byId];
    }
    if (found.length > 1) {
      const current = found.filter((c) => inForce(c, day));
      if (current.length === 1) found = current;
    }
    if (found.length > 1) return { error: `"${ref}" matches several contracts of company ${companyId} (${found.map((c) => c.id).join(', ')}); use the contract code` };
    const contract = found[0];
    if (!contract) return { error: `company ${companyId} has no contract with code, name or id "${ref}"` };
    if (cmp(contract.endDate, day) < 0) return { error: `contract ${contract.id} ended on ${contract.endDate}; a link from ${day} cannot be made`, value: contract };
    if (cmp(contract.startDate, day) > 0) {
      return { error: `contract ${contract.id} starts on ${contract.startDate}; a link from ${day} cannot be made (give linkFrom ${contract.startDate} or later)`, value: contract };
    }
    return { value: contract };
  });
  const serviceOf = memo((contractId: string, ref: string): Resolution<ServiceRef> => {
    const services = findByCodeOrName(lookups.services, ref);
    const service = services.length === 1 ? services[0] : undefined;
    if (!service) return { error: `no service with code or name "${ref}"` };
    if (contractId !== '' && !lookups.contractServices.get(contractId)?.has(service.id)) return { error: `service ${service.id} (${service.name}) is not on contract ${contractId}` };
    return { value: service };
  });

  const rows: ResolvedDeviceRow[] = [];
  const errors: RowError[] = [];
  for (const row of input) {
    const site = siteOf(row.source, row.site);
    if (!site.value) {
      errors.push({ line: row.line, field: 'site', message: site.error ?? 'not found' });
      continue;
    }
    const before = errors.length;
    const companyId = site.value.companyId;
    const linkDay = row.linkFrom ?? lookups.todayOf?.get(companyId) ?? lookups.today;

    const hostKey = `${companyId}\u0000${lower(row.hostname)}`;
    const firstHost = hostLines.get(hostKey);
    if (firstHost !== undefined) errors.push({ line: row.line, field: 'hostname', message: `duplicates line ${firstHost} (same hostname in company ${companyId})` });
    else hostLines.set(hostKey, row.line);

    let contractId: string | null = null;
    let serviceId: string | null = null;
    if (row.contract !== null) {
      const contract = contractOf(`${companyId}\u0000${linkDay}`, row.contract);
      if (contract.error !== undefined) errors.push({ line: row.line, field: 'contract', message: contract.error });
      else contractId = contract.value?.id ?? null;
      if (row.service !== null) {
        // Without a usable contract the service is still looked up, so its own error shows too.
        const service = serviceOf(contract.value?.id ?? '', row.service);
        if (service.error !== undefined) errors.push({ line: row.line, field: 'service', message: service.error });
        else serviceId = service.value?.id ?? null;
      }
    }
    // Spelled out: an object spread here cost about a second per 100,000 rows.
    if (errors.length === before) {
      rows.push({
        line: row.line,
        hostname: row.hostname,
        source: row.source,
        sourceDeviceId: row.sourceDeviceId,
        site: row.site,
        contract: row.contract,
        service: row.service,
        linkFrom: row.linkFrom,
        companyId,
        contractId,
        serviceId,
        linkDay,
      });
    }
  }
  return { rows, errors };
}

/** A looked-up reference: the value, an error, or (an ended contract) both. */
interface Resolution<T> {
  value?: T;
  error?: string;
}

function memo<T>(fn: (a: string, b: string) => T): (a: string, b: string) => T {
  const cache = new Map<string, T>();
  return (a, b) => {
    const key = `${a}\u0000${b}`;
    let v = cache.get(key);
    if (v === undefined) {
      v = fn(a, b);
      cache.set(key, v);
    }
    return v;
  };
}

/** An existing device a row matched. */
export interface DeviceMatch {
  deviceId: string;
  companyId: string | null;
  hostname: string;
  site: string | null;
  discovered: boolean;
}

/** A contract link of the matched device that is in force today or starts later. */
export interface ExistingLink {
  id: string;
  contractId: string;
  serviceId: string | null;
  validFrom: IsoDate;
  validTo: IsoDate | null;
}

export interface RowMatches {
  /** The device holding this row's (source, sourceDeviceId), if any. */
  byRef?: DeviceMatch | undefined;
  /** The device of the row's company with this hostname (case-insensitive), if any. */
  byHostname?: DeviceMatch | undefined;
  /** Links of the device the row resolves to (byRef, else byHostname), in force today or later. */
  links: readonly ExistingLink[];
}

export type LinkPlan =
  | { kind: 'none' }
  | { kind: 'unchanged'; linkId: string }
  /** End `endLinkId` the day before the row's link day (or delete `deleteLinkId`, a link starting that day), then link from that day. */
  | { kind: 'link'; endLinkId: string | null; deleteLinkId: string | null; contractId: string; serviceId: string | null };

export interface PlannedRow {
  row: ResolvedDeviceRow;
  /** create: a new device; update: fields or references change; unchanged: nothing to write for the device. */
  action: 'create' | 'update' | 'unchanged';
  /** The existing device (null for create). */
  deviceId: string | null;
  /** True when the row's source reference is not on the device yet. */
  addRef: boolean;
  link: LinkPlan;
}

/**
 * Decides each row against what the database holds. A device is found by its source reference,
 * else by company and hostname. Refused (with the line and the column): a device of another
 * company (moving devices between companies is `PATCH /devices/:id`); a hostname held by a
 * different device of the company; two rows reaching one device; a contract link that would
 * overlap a link already scheduled after today. Rows without a contract leave links alone.
 */
export function planDeviceRows(
  rows: readonly ResolvedDeviceRow[],
  matchesOf: (line: number) => RowMatches,
): { planned: PlannedRow[]; errors: RowError[] } {
  const planned: PlannedRow[] = [];
  const errors: RowError[] = [];
  const deviceLines = new Map<string, number>();
  for (const row of rows) {
    const m = matchesOf(row.line);
    const { byRef, byHostname } = m;
    if (byRef && byRef.companyId !== null && byRef.companyId !== row.companyId) {
      rowError(errors, row.line, 'site', `device ${byRef.deviceId} (${row.source} ${row.sourceDeviceId}) belongs to company ${byRef.companyId}, site "${row.site}" maps to company ${row.companyId}; move the device with PATCH /api/v1/devices/${byRef.deviceId} first`);
      continue;
    }
    if (byRef && byHostname && byRef.deviceId !== byHostname.deviceId) {
      rowError(errors, row.line, 'hostname', `hostname "${row.hostname}" is already used by device ${byHostname.deviceId} of company ${row.companyId}, not by device ${byRef.deviceId} that holds ${row.source} ${row.sourceDeviceId}`);
      continue;
    }
    const device = byRef ?? byHostname;
    if (device) {
      const first = deviceLines.get(device.deviceId);
      if (first !== undefined) {
        rowError(errors, row.line, 'sourceDeviceId', `reaches device ${device.deviceId} like line ${first}; one row per device`);
        continue;
      }
      deviceLines.set(device.deviceId, row.line);
    }

    let link: LinkPlan = { kind: 'none' };
    if (row.contractId !== null) {
      // The row's link day: its linkFrom, else today in the company's zone (R-LINK-8).
      const day = row.linkDay;
      const live = device ? m.links.filter((l) => l.validTo === null || cmp(l.validTo, day) >= 0) : [];
      const current = live.find((l) => cmp(l.validFrom, day) <= 0);
      const later = live.filter((l) => cmp(l.validFrom, day) > 0);
      if (current && current.contractId === row.contractId && current.serviceId === row.serviceId && current.validTo === null) {
        link = { kind: 'unchanged', linkId: current.id };
      } else if (later.length > 0) {
        const l = later[0]!;
        rowError(errors, row.line, 'contract', `device ${device?.deviceId ?? ''} has a contract link starting ${l.validFrom} (contract ${l.contractId}); end it first (DELETE /api/v1/devices/:id/contract) or link by hand`);
        continue;
      } else {
        const startsToday = current !== undefined && cmp(current.validFrom, day) === 0;
        link = {
          kind: 'link',
          endLinkId: current && !startsToday ? current.id : null,
          deleteLinkId: current && startsToday ? current.id : null,
          contractId: row.contractId,
          serviceId: row.serviceId,
        };
      }
    }

    if (!device) {
      planned.push({ row, action: 'create', deviceId: null, addRef: true, link });
      continue;
    }
    const addRef = !byRef;
    const changed = addRef || device.hostname !== row.hostname || device.site !== row.site || device.companyId !== row.companyId || device.discovered;
    planned.push({ row, action: changed ? 'update' : 'unchanged', deviceId: device.deviceId, addRef, link });
  }
  return { planned, errors };
}

function rowError(errors: RowError[], line: number, field: string, message: string): void {
  errors.push({ line, field, message });
}

/** The last day of a link that the import ends (the day before the new one starts). */
export const linkEndFor = (today: IsoDate): IsoDate => addDays(today, -1);
