import { Command } from 'commander';
import request from 'supertest';
import { registerImportCommands } from '../../../cli/commands/import';
import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow } from '../../helpers/seed';
import { expectConforms, tokenFor } from '../admin/admin-helpers';
import { insertCompany } from './operator-fixtures';

/**
 * R-LINK-7 / R-LINK-8: `POST /api/v1/devices/import` and `hub import devices` create or update
 * devices from an RMM export, link them to contracts from today, report every bad row with its
 * line, and write all or nothing (or the valid rows with skipInvalid).
 */
const TODAY = '2026-06-15';
const HEADER = 'hostname,source,sourceDeviceId,site,contract,service';

describe('R-LINK-7 device import', () => {
  let t: TestApp;
  let alpha: string;
  let beta: string;
  let managed: string;
  let monitoring: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date(`${TODAY}T10:00:00Z`) } });
    alpha = await insertCompany(t.db, 'Alpha Co', [{ source: 'datto', siteId: 'site-a', siteName: 'Alpha HQ' }]);
    beta = await insertCompany(t.db, 'Beta Co', [{ source: 'datto', siteId: 'site-b' }]);
    monitoring = (await insertRow(t.db, 'services', { name: 'Monitoring', code: 'MON', unit_price: '20' })).id;
    await insertRow(t.db, 'services', { name: 'Backup', code: 'BAK', unit_price: '50' });
    managed = String(
      (await insertRow(t.db, 'contracts', { company_id: alpha, name: 'Managed IT', code: 'ALPHA-MIT', type: 'recurring_service', period_type: 'monthly', start_date: '2026-01-01', end_date: '2026-12-31' })).id,
    );
    await insertRow(t.db, 'contract_services', { contract_id: managed, service_id: monitoring, units: '1', unit_price: '20' });
    await insertRow(t.db, 'contracts', { company_id: alpha, name: 'Old deal', type: 'recurring_service', period_type: 'monthly', start_date: '2025-01-01', end_date: '2025-12-31' });
  });
  afterAll(async () => t.close());

  const post = (csv: string, query = '', auth: string = t.admin, type = 'text/csv') =>
    request(t.app).post(`/api/v1/devices/import${query}`).set('Authorization', auth).set('Content-Type', type).send(csv);
  const counts = async () => ({
    devices: Number((await t.db('devices').count({ n: '*' }))[0]!.n),
    refs: Number((await t.db('device_source_refs').count({ n: '*' }))[0]!.n),
    links: Number((await t.db('device_contract_links').count({ n: '*' }))[0]!.n),
    audit: Number((await t.db('audit_log').where({ action: 'device.import' }).count({ n: '*' }))[0]!.n),
  });
  const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

  const MIXED = csv(
    'web01,datto,D-1,site-a,ALPHA-MIT,MON', // 2 ok
    'web02,datto,D-2,nowhere,,', // 3 unknown site
    'web03,datto,D-3,site-a,Old deal,', // 4 contract ended
    ',datto,D-4,site-a,,', // 5 hostname missing
    'web05,datto,D-5,Alpha HQ,managed it,Backup', // 6 Backup not on the contract (site by name, contract by name)
    'web06,datto,D-6,site-b,,', // 7 ok (Beta)
  );

  it('R-LINK-7: every invalid row is reported with its line; by default nothing is written (422)', async () => {
    const before = await counts();
    const res = await post(MIXED);
    expect(res.status).toBe(422);
    expectConforms('post', '/api/v1/devices/import', res);
    expect(res.body.error.code).toBe('UNPROCESSABLE');
    expect(res.body.error.message).toMatch(/^4 of 6 rows are invalid \(first: line 3 site: /);
    const report = res.body.error.details;
    expect(report).toMatchObject({ applied: false, rows: 6, valid: 2, invalid: 4, created: 2, errorCount: 4 });
    expect(report.errors.map((e: { line: number; field: string }) => [e.line, e.field])).toEqual([
      [3, 'site'],
      [4, 'contract'],
      [5, 'hostname'],
      [6, 'service'],
    ]);
    expect(report.errors[1].message).toMatch(/ended on 2025-12-31; a link from 2026-06-15 cannot be made/);
    expect(await counts()).toEqual(before);
  });

  it('R-LINK-7: a dry run checks everything and writes nothing', async () => {
    const before = await counts();
    const res = await post(MIXED, '?dryRun=true&skipInvalid=true');
    expect(res.status).toBe(200);
    expectConforms('post', '/api/v1/devices/import', res);
    expect(res.body).toMatchObject({ dryRun: true, applied: false, rows: 6, valid: 2, invalid: 4, created: 2, linked: 1, errorCount: 4 });
    expect(await counts()).toEqual(before);
  });

  it('R-LINK-7: with skipInvalid the valid rows are written and the others reported; devices are linked from today', async () => {
    const before = await counts();
    const res = await post(MIXED, '?skipInvalid=true');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ applied: true, rows: 6, valid: 2, invalid: 4, created: 2, updated: 0, linked: 1, errorCount: 4 });
    expect(await counts()).toEqual({ devices: before.devices + 2, refs: before.refs + 2, links: before.links + 1, audit: before.audit + 1 });
    const web01 = await t.db('devices').whereRaw('lower(hostname) = ?', ['web01']).first();
    expect(web01).toMatchObject({ company_id: alpha, site: 'site-a', discovered: false });
    expect(await t.db('device_source_refs').where({ device_id: web01.id }).select('source', 'source_device_id')).toEqual([{ source: 'datto', source_device_id: 'D-1' }]);
    expect(await t.db('device_contract_links').where({ device_id: web01.id }).select('contract_id', 'service_id', 'valid_from', 'valid_to')).toEqual([
      { contract_id: managed, service_id: monitoring, valid_from: TODAY, valid_to: null },
    ]);
    expect(await t.db('devices').whereRaw('lower(hostname) = ?', ['web06']).first()).toMatchObject({ company_id: beta });
    const audit = await t.db('audit_log').where({ action: 'device.import' }).orderBy('id', 'desc').first();
    expect(audit).toMatchObject({ actor: 'bootstrap-admin', entity_type: 'device_import' });
    expect(audit.after).toMatchObject({ rows: 6, created: 2, linked: 1, skipInvalid: true });
  });

  it('R-LINK-8: re-importing updates: renamed by reference, reference added by hostname, link ended yesterday, same link left alone', async () => {
    // web10: known by reference D-10 under an old name, linked to Managed IT without service since February.
    const web10 = await insertRow(t.db, 'devices', { company_id: alpha, hostname: 'old-name', site: 'site-a' });
    await insertRow(t.db, 'device_source_refs', { device_id: web10.id, source: 'datto', source_device_id: 'D-10' });
    await insertRow(t.db, 'device_contract_links', { device_id: web10.id, contract_id: managed, service_id: null, valid_from: '2026-02-01' });
    // web11: known by hostname only, discovered from an alert (awaiting triage).
    const web11 = await insertRow(t.db, 'devices', { company_id: alpha, hostname: 'WEB11', site: 'site-a', discovered: true });
    // web12: already exactly as in the file.
    const web12 = await insertRow(t.db, 'devices', { company_id: alpha, hostname: 'web12', site: 'site-a' });
    await insertRow(t.db, 'device_source_refs', { device_id: web12.id, source: 'datto', source_device_id: 'D-12' });
    await insertRow(t.db, 'device_contract_links', { device_id: web12.id, contract_id: managed, service_id: monitoring, valid_from: '2026-01-01' });

    const res = await post(csv('web10,datto,D-10,site-a,ALPHA-MIT,MON', 'web11,datto,D-11,site-a,,', 'web12,datto,D-12,site-a,ALPHA-MIT,MON'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ applied: true, created: 0, updated: 2, unchanged: 1, linked: 1, linksUnchanged: 1, errorCount: 0 });
    expect(await t.db('devices').where({ id: web10.id }).first()).toMatchObject({ hostname: 'web10' });
    expect(await t.db('device_contract_links').where({ device_id: web10.id }).orderBy('valid_from').select('contract_id', 'service_id', 'valid_from', 'valid_to')).toEqual([
      { contract_id: managed, service_id: null, valid_from: '2026-02-01', valid_to: '2026-06-14' },
      { contract_id: managed, service_id: monitoring, valid_from: TODAY, valid_to: null },
    ]);
    expect(await t.db('devices').where({ id: web11.id }).first()).toMatchObject({ hostname: 'web11', discovered: false });
    expect(await t.db('device_source_refs').where({ device_id: web11.id }).pluck('source_device_id')).toEqual(['D-11']);
    expect(await t.db('device_contract_links').where({ device_id: web12.id }).count({ n: '*' })).toEqual([{ n: '1' }]);
  });

  it('R-LINK-1: a link already scheduled after today, a device of another company and a taken hostname are row errors', async () => {
    const scheduled = await insertRow(t.db, 'devices', { company_id: alpha, hostname: 'sched', site: 'site-a' });
    await insertRow(t.db, 'device_source_refs', { device_id: scheduled.id, source: 'datto', source_device_id: 'S-1' });
    await insertRow(t.db, 'device_contract_links', { device_id: scheduled.id, contract_id: managed, service_id: null, valid_from: '2026-07-01' });
    const betaDevice = await insertRow(t.db, 'devices', { company_id: beta, hostname: 'beta-box', site: 'site-b' });
    await insertRow(t.db, 'device_source_refs', { device_id: betaDevice.id, source: 'datto', source_device_id: 'B-1' });
    await insertRow(t.db, 'devices', { company_id: alpha, hostname: 'taken', site: 'site-a' });

    const res = await post(csv('sched,datto,S-1,site-a,ALPHA-MIT,', 'beta-box,datto,B-1,site-a,,', 'taken,datto,S-1,site-a,,', 'taken,datto,T-9,site-a,,', 'web01,datto,D-1,site-a,ALPHA-MIT,MON'));
    expect(res.status).toBe(422);
    expect(res.body.error.details.errors.map((e: { line: number; field: string; message: string }) => [e.line, e.field, e.message])).toEqual([
      [2, 'contract', expect.stringContaining('has a contract link starting 2026-07-01')],
      [3, 'site', expect.stringContaining(`belongs to company ${beta}`)],
      [4, 'sourceDeviceId', 'duplicates line 2 (same source and sourceDeviceId)'],
    ]);
    // Line 5 (taken, new reference) is valid: it updates the device that has the hostname.
    expect(res.body.error.details).toMatchObject({ valid: 2, invalid: 3 });
  });

  it('refuses a bad header at line 1, a non-CSV body (415), and callers below admin (403)', async () => {
    const header = await post('hostname,source,site\nweb,datto,site-a\n');
    expect(header.status).toBe(422);
    expect(header.body.error.details.errors).toEqual([{ line: 1, field: '(header)', message: expect.stringContaining('missing column "sourceDeviceId"') }]);
    const json = await post(JSON.stringify({ rows: [] }), '', t.admin, 'application/json');
    expect(json.status).toBe(415);
    expect(json.body.error.message).toContain('Content-Type: text/csv');
    expect((await post(MIXED, '?dryRun=true', await tokenFor(t, 'operator'))).status).toBe(403);
    expect((await post(MIXED, '?dryRun=true', await tokenFor(t, 'viewer'))).status).toBe(403);
    expect((await post(MIXED, '?dryRun=maybe')).status).toBe(400);
  });

  it('a company-scoped admin imports only into its companies (other sites read as unmapped)', async () => {
    const scoped = await tokenFor(t, 'admin', [beta]);
    const res = await post(csv('only-alpha,datto,X-1,site-a,,'), '?dryRun=true', scoped);
    expect(res.body.errors).toEqual([{ line: 2, field: 'site', message: expect.stringContaining('not mapped to a company') }]);
  });

  describe('hub import devices', () => {
    const run = async (args: string[], files: Record<string, string>) => {
      const out: string[] = [];
      const err: string[] = [];
      const program = new Command().exitOverride();
      registerImportCommands(program, {
        openDb: () => t.db,
        closeDb: async () => undefined,
        readFile: async (path) => {
          const text = files[path];
          if (text === undefined) throw new Error('ENOENT');
          return text;
        },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        isTTY: () => false,
        today: () => TODAY,
      });
      let error: Error | null = null;
      try {
        await program.parseAsync(['node', 'hub', 'import', 'devices', ...args]);
      } catch (e) {
        error = e as Error;
      }
      return { out, err, error };
    };

    it('R-LINK-7: --dry-run reports what would happen and exits non-zero on errors; nothing written', async () => {
      const before = await counts();
      const r = await run(['export.csv', '--dry-run'], { 'export.csv': MIXED });
      expect(r.error?.message).toBe('export.csv: 4 invalid rows');
      expect(r.err[0]).toMatch(/^6 rows: 2 valid, 4 invalid \(dry run, nothing written/);
      expect(r.err).toContainEqual(expect.stringMatching(/^ {2}line 3, site: site "nowhere" of source datto is not mapped/));
      expect(await counts()).toEqual(before);
    });

    it('R-LINK-7: imports a clean file and prints the summary; --json prints the report', async () => {
      const r = await run(['clean.csv', '--json'], { 'clean.csv': csv('cli01,datto,C-1,site-b,,', 'cli02,datto,C-2,site-b,,') });
      expect(r.error).toBeNull();
      expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ applied: true, created: 2, errorCount: 0 });
      const again = await run(['clean.csv'], { 'clean.csv': csv('cli01,datto,C-1,site-b,,', 'cli02,datto,C-2,site-b,,') });
      expect(again.out[0]).toMatch(/^2 rows: 2 valid, 0 invalid \(imported/);
      expect(again.out[1]).toBe('devices: 0 created, 0 updated, 2 unchanged');
    });

    it('--skip-invalid imports the valid rows and exits zero; an unreadable file is a clear error', async () => {
      const r = await run(['mixed.csv', '--skip-invalid'], { 'mixed.csv': csv('cli03,datto,C-3,site-b,,', 'cli04,datto,C-4,nowhere,,') });
      expect(r.error).toBeNull();
      expect(r.err[0]).toMatch(/^2 rows: 1 valid, 1 invalid \(imported/);
      expect(await t.db('devices').where({ hostname: 'cli03' }).first()).toBeTruthy();
      const missing = await run(['nope.csv'], {});
      expect(missing.error?.message).toMatch(/^nope\.csv: cannot read/);
    });
  });
});
