import { ALL_COMPANIES, onlyCompanies } from '../access/company-scope';
import type { DeviceCsvRow } from './device-csv';
import { planDeviceRows, resolveDeviceRows, type ImportLookups, type ResolvedDeviceRow, type RowMatches } from './device-plan';

const TODAY = '2026-05-10';
const lookups = (over: Partial<ImportLookups> = {}): ImportLookups => ({
  sites: [
    { companyId: '1', source: 'datto', siteId: 's-1', siteName: 'Head office' },
    { companyId: '2', source: 'datto', siteId: 's-2', siteName: 'Branch' },
    { companyId: '3', source: 'datto', siteId: 's-3', siteName: 'Branch' },
  ],
  contracts: [
    { id: '10', companyId: '1', code: 'ACME-MS', name: 'Managed services', startDate: '2026-01-01', endDate: '2026-12-31' },
    { id: '11', companyId: '1', code: null, name: 'Old deal', startDate: '2025-01-01', endDate: '2025-12-31' },
    { id: '12', companyId: '1', code: 'ACME-2', name: 'Printers', startDate: '2025-01-01', endDate: '2025-12-31' },
    { id: '13', companyId: '1', code: 'ACME-3', name: 'Printers', startDate: '2026-01-01', endDate: '2026-12-31' },
    { id: '14', companyId: '1', code: 'ACME-4', name: 'Twins', startDate: '2026-01-01', endDate: '2026-12-31' },
    { id: '15', companyId: '1', code: 'ACME-5', name: 'twins', startDate: '2026-01-01', endDate: '2026-12-31' },
    { id: '20', companyId: '2', code: 'BR-1', name: 'Branch contract', startDate: '2026-01-01', endDate: '2026-12-31' },
  ],
  services: [
    { id: '100', code: 'MON', name: 'Monitoring' },
    { id: '101', code: null, name: 'Backup' },
  ],
  contractServices: new Map([['10', new Set(['100'])]]),
  scope: ALL_COMPANIES,
  today: TODAY,
  ...over,
});
const row = (line: number, over: Partial<DeviceCsvRow> = {}): DeviceCsvRow => ({
  line,
  hostname: `host${line}`,
  source: 'datto',
  sourceDeviceId: `D-${line}`,
  site: 's-1',
  contract: null,
  service: null,
  linkFrom: null,
  ...over,
});

describe('resolveDeviceRows (R-LINK-7: site → company, contract and service by code or name)', () => {
  it('R-LINK-7: maps the site to its company and the contract and service by code or name', () => {
    const r = resolveDeviceRows(
      [row(2, { contract: 'ACME-MS', service: 'MON' }), row(3, { contract: 'managed services', service: 'monitoring' }), row(4, { site: 'Head office' })],
      lookups(),
    );
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.line, x.companyId, x.contractId, x.serviceId])).toEqual([
      [2, '1', '10', '100'],
      [3, '1', '10', '100'],
      [4, '1', null, null],
    ]);
  });

  it('R-LINK-7: a name shared by several contracts picks the one in force today, else asks for the code', () => {
    const r = resolveDeviceRows([row(2, { contract: 'Printers' }), row(3, { contract: 'Twins' })], lookups());
    expect(r.rows.map((x) => x.contractId)).toEqual(['13']);
    expect(r.errors).toEqual([{ line: 3, field: 'contract', message: expect.stringContaining('matches several contracts of company 1 (14, 15)') }]);
  });

  it('R-LINK-7: every unresolvable reference is an error naming the line and the column', () => {
    const r = resolveDeviceRows(
      [
        row(2, { site: 'nowhere' }),
        row(3, { site: 'Branch' }), // site name of two companies
        row(4, { contract: 'BR-1' }), // another company's contract
        row(5, { contract: 'Old deal' }), // ended
        row(6, { contract: 'ACME-MS', service: 'Backup' }), // not on the contract
        row(7, { contract: 'ACME-MS', service: 'Firewall' }), // unknown service
        row(8, { hostname: 'HOST2' }), // fine
        row(9, { hostname: 'host2' }), // same hostname as line 8 (case-insensitive) in company 1
      ],
      lookups(),
    );
    expect(r.rows.map((x) => x.line)).toEqual([8]);
    expect(r.errors).toEqual([
      { line: 2, field: 'site', message: 'site "nowhere" of source datto is not mapped to a company (add it to the company\'s sourceSites)' },
      { line: 3, field: 'site', message: expect.stringContaining('is ambiguous (companies 2, 3)') },
      { line: 4, field: 'contract', message: 'company 1 has no contract with code, name or id "BR-1"' },
      { line: 5, field: 'contract', message: `contract 11 ended on 2025-12-31; a link from ${TODAY} cannot be made` },
      { line: 6, field: 'service', message: 'service 101 (Backup) is not on contract 10' },
      { line: 7, field: 'service', message: 'no service with code or name "Firewall"' },
      { line: 9, field: 'hostname', message: 'duplicates line 8 (same hostname in company 1)' },
    ]);
  });

  it('a company-scoped caller sees other companies’ sites as unmapped', () => {
    const r = resolveDeviceRows([row(2, { site: 's-2' })], lookups({ scope: onlyCompanies(['1']) }));
    expect(r.errors).toEqual([{ line: 2, field: 'site', message: expect.stringContaining('is not mapped to a company') }]);
  });
});

describe('resolveDeviceRows: the link day (issue 15 item 3: linkFrom, else today in the company’s zone) and contracts by id', () => {
  it('linkFrom is the link day; without it, today in the company’s zone, else today', () => {
    const r = resolveDeviceRows(
      [row(2, { contract: 'ACME-MS', linkFrom: '2026-02-01' }), row(3, { contract: 'ACME-MS' }), row(4, { site: 's-2', contract: 'BR-1' })],
      lookups({ todayOf: new Map([['1', '2026-05-11']]) }),
    );
    expect(r.errors).toEqual([]);
    expect(r.rows.map((x) => [x.line, x.linkDay])).toEqual([
      [2, '2026-02-01'],
      [3, '2026-05-11'],
      [4, TODAY],
    ]);
  });

  it('the contract must be effective on the link day: not ended before it, not starting after it; a name picks the one in force that day', () => {
    const r = resolveDeviceRows(
      [row(2, { contract: 'ACME-MS', linkFrom: '2025-12-31' }), row(3, { contract: 'Old deal', linkFrom: '2025-06-01' }), row(4, { contract: 'Printers', linkFrom: '2025-03-01' })],
      lookups(),
    );
    expect(r.errors).toEqual([{ line: 2, field: 'contract', message: 'contract 10 starts on 2026-01-01; a link from 2025-12-31 cannot be made (give linkFrom 2026-01-01 or later)' }]);
    expect(r.rows.map((x) => [x.line, x.contractId])).toEqual([
      [3, '11'],
      [4, '12'],
    ]);
  });

  it('a contract named by id: the company’s own is taken; another company’s is an error naming it; one outside the scope is unknown', () => {
    const byId = new Map([['20', { id: '20', companyId: '2', code: 'BR-1', name: 'Branch contract', startDate: '2026-01-01', endDate: '2026-12-31' }]]);
    const r = resolveDeviceRows([row(2, { contract: '10' }), row(3, { contract: '20' }), row(4, { contract: '999' })], lookups({ contractsById: byId }));
    expect(r.rows.map((x) => [x.line, x.contractId])).toEqual([[2, '10']]);
    expect(r.errors).toEqual([
      { line: 3, field: 'contract', message: "contract 20 belongs to company 2, not to company 1 (the company of the row's site)" },
      { line: 4, field: 'contract', message: 'company 1 has no contract with code, name or id "999"' },
    ]);
    const scoped = resolveDeviceRows([row(3, { contract: '20' })], lookups({ contractsById: byId, scope: onlyCompanies(['1']) }));
    expect(scoped.errors).toEqual([{ line: 3, field: 'contract', message: 'company 1 has no contract with code, name or id "20"' }]);
  });
});

describe('planDeviceRows (R-LINK-7/8: create or update, link from today)', () => {
  const resolved = (line: number, over: Partial<ResolvedDeviceRow> = {}): ResolvedDeviceRow => ({ ...row(line), companyId: '1', contractId: null, serviceId: null, linkDay: TODAY, ...over });
  const device = (id: string, over: Partial<NonNullable<RowMatches['byRef']>> = {}) => ({ deviceId: id, companyId: '1', hostname: 'host2', site: 's-1', discovered: false, ...over });
  const plan = (rows: ResolvedDeviceRow[], matches: Record<number, RowMatches>) => planDeviceRows(rows, (line) => matches[line] ?? { links: [] });

  it('R-LINK-7: a new device is created with its reference; a contract row links it from today', () => {
    const r = plan([resolved(2, { contractId: '10', serviceId: '100' })], {});
    expect(r.errors).toEqual([]);
    expect(r.planned).toEqual([
      { row: expect.objectContaining({ line: 2 }), action: 'create', deviceId: null, addRef: true, link: { kind: 'link', endLinkId: null, deleteLinkId: null, contractId: '10', serviceId: '100' } },
    ]);
  });

  it('R-LINK-8: an existing device found by reference is updated only when something differs', () => {
    const same = plan([resolved(2)], { 2: { byRef: device('5'), byHostname: device('5'), links: [] } });
    expect(same.planned[0]).toMatchObject({ action: 'unchanged', deviceId: '5', addRef: false });
    const renamed = plan([resolved(2, { hostname: 'web-new' })], { 2: { byRef: device('5'), links: [] } });
    expect(renamed.planned[0]).toMatchObject({ action: 'update', deviceId: '5', addRef: false });
    const discovered = plan([resolved(2)], { 2: { byRef: device('5', { companyId: null, discovered: true }), links: [] } });
    expect(discovered.planned[0]).toMatchObject({ action: 'update', deviceId: '5' });
  });

  it('R-LINK-8: a device found by hostname gets the new source reference', () => {
    const r = plan([resolved(2)], { 2: { byHostname: device('6'), links: [] } });
    expect(r.planned[0]).toMatchObject({ action: 'update', deviceId: '6', addRef: true });
  });

  it('R-LINK-1: the link in force ends yesterday; one starting today is replaced; the same open link is left alone', () => {
    const base = { contractId: '10', serviceId: '100' };
    const older = { id: '70', contractId: '12', serviceId: null, validFrom: '2025-01-01', validTo: null };
    const r1 = plan([resolved(2, base)], { 2: { byRef: device('5'), links: [older] } });
    expect(r1.planned[0]?.link).toEqual({ kind: 'link', endLinkId: '70', deleteLinkId: null, contractId: '10', serviceId: '100' });
    const todays = { ...older, validFrom: TODAY };
    const r2 = plan([resolved(2, base)], { 2: { byRef: device('5'), links: [todays] } });
    expect(r2.planned[0]?.link).toEqual({ kind: 'link', endLinkId: null, deleteLinkId: '70', contractId: '10', serviceId: '100' });
    const same = { id: '71', contractId: '10', serviceId: '100', validFrom: '2026-01-01', validTo: null };
    const r3 = plan([resolved(2, base)], { 2: { byRef: device('5'), links: [same] } });
    expect(r3.planned[0]?.link).toEqual({ kind: 'unchanged', linkId: '71' });
  });

  it('R-LINK-1: a link already scheduled after today is not overwritten (error on the contract column)', () => {
    const later = { id: '72', contractId: '12', serviceId: null, validFrom: '2026-06-01', validTo: null };
    const r = plan([resolved(2, { contractId: '10' })], { 2: { byRef: device('5'), links: [later] } });
    expect(r.planned).toEqual([]);
    expect(r.errors).toEqual([{ line: 2, field: 'contract', message: expect.stringContaining('has a contract link starting 2026-06-01 (contract 12)') }]);
  });

  it('R-LINK-8: a back-dated row (linkFrom) ends the link in force on that day the day before; a link that ended before it is not in the way; the same link again is unchanged', () => {
    const ended = { id: '80', contractId: '12', serviceId: null, validFrom: '2025-01-01', validTo: '2025-12-31' };
    const inForce = { id: '81', contractId: '13', serviceId: null, validFrom: '2026-01-01', validTo: null };
    const r = plan([resolved(2, { contractId: '10', linkDay: '2026-03-01' })], { 2: { byRef: device('5'), links: [ended, inForce] } });
    expect(r.errors).toEqual([]);
    expect(r.planned[0]?.link).toEqual({ kind: 'link', endLinkId: '81', deleteLinkId: null, contractId: '10', serviceId: null });
    const again = plan([resolved(2, { contractId: '10', linkDay: '2026-03-01' })], {
      2: { byRef: device('5'), links: [{ id: '82', contractId: '10', serviceId: null, validFrom: '2026-03-01', validTo: null }] },
    });
    expect(again.planned[0]?.link).toEqual({ kind: 'unchanged', linkId: '82' });
  });

  it('refuses moving a device between companies, a hostname held by another device, and two rows for one device', () => {
    const r = plan([resolved(2), resolved(3), resolved(4), resolved(5)], {
      2: { byRef: device('5', { companyId: '9' }), links: [] },
      3: { byRef: device('6'), byHostname: device('7'), links: [] },
      4: { byRef: device('8'), links: [] },
      5: { byHostname: device('8'), links: [] },
    });
    expect(r.planned.map((p) => p.row.line)).toEqual([4]);
    expect(r.errors).toEqual([
      { line: 2, field: 'site', message: expect.stringContaining('device 5 (datto D-2) belongs to company 9') },
      { line: 3, field: 'hostname', message: expect.stringContaining('already used by device 7') },
      { line: 5, field: 'sourceDeviceId', message: 'reaches device 8 like line 4; one row per device' },
    ]);
  });
});
