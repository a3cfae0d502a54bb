import { Command } from 'commander';
import request from 'supertest';
import { registerImportCommands } from '../../../cli/commands/import';
import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow } from '../../helpers/seed';
import { expectConforms } from '../admin/admin-helpers';

/**
 * Issue 15 item 3 (R-LINK-7, R-LINK-8): a device import row names its contract — by code, name or
 * id, as a rules `link` event names one — and optionally its service and the link's first day
 * (`linkFrom`; else today in the company's zone). The link is dated and recorded with origin
 * `import`; a contract that is unknown, of another company, not effective on that day, or a service
 * not on it is a row error (dry run included); importing the same file again changes nothing.
 * Over HTTP and through `hub import devices`, on the real Postgres.
 */
// 14:00 UTC on 15 June is 02:00 on 16 June in Auckland: the companies' "today" differ.
const NOW = new Date('2026-06-15T14:00:00Z');
const HEADER = 'hostname,source,sourceDeviceId,site,contract,service,linkFrom';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe('issue 15 item 3: the device import names the contract per row', () => {
  let t: TestApp;
  let gamma: string;
  let delta: string;
  let gNew: string;
  let gMit: string;
  let dMit: string;
  let file: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => NOW } });
    gamma = String((await insertRow(t.db, 'companies', { name: 'Gamma NZ', timezone: 'Pacific/Auckland' })).id);
    delta = String((await insertRow(t.db, 'companies', { name: 'Delta UK' })).id);
    await insertRow(t.db, 'company_source_sites', { company_id: gamma, source: 'datto', site_id: 'site-g' });
    await insertRow(t.db, 'company_source_sites', { company_id: delta, source: 'datto', site_id: 'site-d' });
    const mon = String((await insertRow(t.db, 'services', { name: 'Monitoring', code: 'MON', unit_price: '20' })).id);
    await insertRow(t.db, 'services', { name: 'Backup', code: 'BAK', unit_price: '50' });
    const contract = async (company: string, code: string, start: string, end: string) =>
      String(
        (
          await insertRow(t.db, 'contracts', {
            company_id: company,
            name: `Contract ${code}`,
            code,
            type: 'recurring_service',
            period_type: 'yearly',
            start_date: start,
            end_date: end,
          })
        ).id,
      );
    gMit = await contract(gamma, 'G-MIT', '2026-01-01', '2026-12-31');
    gNew = await contract(gamma, 'G-NEW', '2026-06-16', '2027-06-15');
    await contract(gamma, 'G-NEXT', '2026-07-01', '2027-06-30');
    dMit = await contract(delta, 'D-MIT', '2026-01-01', '2026-12-31');
    await insertRow(t.db, 'contract_services', { contract_id: gMit, service_id: mon, units: '1', unit_price: '20' });
    file = csv(
      'g01,datto,G-1,site-g,G-MIT,MON,2026-03-01', // 2 back-dated link with service
      `g02,datto,G-2,site-g,${gNew},,`, // 3 by id; today in Auckland (16 June) — the UTC date would be before its start
      'g03,datto,G-3,site-g,G-NEXT,,2026-06-20', // 4 not effective on that day
      `g04,datto,G-4,site-g,${dMit},,`, // 5 another company's contract
      'g05,datto,G-5,site-g,NOPE,,', // 6 unknown
      'g06,datto,G-6,site-g,G-MIT,BAK,', // 7 service not on the contract
      'd01,datto,D-1,site-d,contract d-mit,,', // 8 by name; today in HUB_RENEWAL_TIMEZONE (UTC): 15 June
    );
  });
  afterAll(async () => t.close());

  const post = (body: string, query = '') =>
    request(t.app)
      .post(`/api/v1/devices/import${query}`)
      .set('Authorization', t.admin)
      .set('Content-Type', 'text/csv')
      .send(body);
  const linksOf = async (hostname: string) =>
    t
      .db('device_contract_links as l')
      .join('devices as d', 'd.id', 'l.device_id')
      .where('d.hostname', hostname)
      .orderBy('l.valid_from')
      .select('l.contract_id', 'l.service_id', 'l.valid_from', 'l.valid_to', 'l.origin');
  const linkCount = async () => Number((await t.db('device_contract_links').count({ n: '*' }))[0]!.n);
  const expectedErrors = () => [
    {
      line: 4,
      field: 'contract',
      message: expect.stringMatching(/^contract \d+ starts on 2026-07-01; a link from 2026-06-20 cannot be made/),
    },
    {
      line: 5,
      field: 'contract',
      message: `contract ${dMit} belongs to company ${delta}, not to company ${gamma} (the company of the row's site)`,
    },
    { line: 6, field: 'contract', message: `company ${gamma} has no contract with code, name or id "NOPE"` },
    { line: 7, field: 'service', message: expect.stringMatching(/^service \d+ \(Backup\) is not on contract \d+$/) },
  ];

  it('the dry run reports every contract error by line and column, and writes nothing', async () => {
    const res = await post(file, '?dryRun=true');
    expect(res.status).toBe(200);
    expectConforms('post', '/api/v1/devices/import', res);
    expect(res.body).toMatchObject({ dryRun: true, applied: false, rows: 7, valid: 3, invalid: 4, linked: 3 });
    expect(res.body.errors).toEqual(expectedErrors());
    expect(await linkCount()).toBe(0);
    // Without skipInvalid the same file is refused whole.
    const refused = await post(file);
    expect(refused.status).toBe(422);
    expect(await linkCount()).toBe(0);
  });

  it('R-LINK-8: the valid rows link from linkFrom, else from today in the company’s zone, recorded with origin import; a re-import changes nothing', async () => {
    const res = await post(file, '?skipInvalid=true');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ applied: true, created: 3, linked: 3, linksUnchanged: 0 });
    expect(res.body.errors).toEqual(expectedErrors());
    expect(await linksOf('g01')).toEqual([
      { contract_id: gMit, service_id: expect.any(String), valid_from: '2026-03-01', valid_to: null, origin: 'import' },
    ]);
    expect(await linksOf('g02')).toEqual([
      { contract_id: gNew, service_id: null, valid_from: '2026-06-16', valid_to: null, origin: 'import' },
    ]);
    expect(await linksOf('d01')).toEqual([
      { contract_id: dMit, service_id: null, valid_from: '2026-06-15', valid_to: null, origin: 'import' },
    ]);
    expect(await t.db('devices').where({ hostname: 'g03' })).toHaveLength(0);

    // The link as the API shows it names its origin.
    const device = (await t.db('devices').where({ hostname: 'g01' }).first()) as { id: string };
    const links = await request(t.app).get(`/api/v1/devices/${device.id}/links`).set('Authorization', t.admin);
    expect(links.status).toBe(200);
    expectConforms('get', `/api/v1/devices/${device.id}/links`, links);
    expect(links.body.items).toEqual([
      expect.objectContaining({ contractId: gMit, from: '2026-03-01', origin: 'import', createdByRule: null }),
    ]);

    const before = await linkCount();
    const again = await post(file, '?skipInvalid=true');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ applied: true, created: 0, linked: 0, linksUnchanged: 3 });
    expect(await linkCount()).toBe(before);
  });

  it('R-LINK-8: a later row with another contract ends the imported link the day before its linkFrom', async () => {
    const res = await post(csv(`g01,datto,G-1,site-g,${gNew},,2026-06-20`));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ linked: 1 });
    expect(await linksOf('g01')).toEqual([
      {
        contract_id: gMit,
        service_id: expect.any(String),
        valid_from: '2026-03-01',
        valid_to: '2026-06-19',
        origin: 'import',
      },
      { contract_id: gNew, service_id: null, valid_from: '2026-06-20', valid_to: null, origin: 'import' },
    ]);
  });

  describe('hub import devices', () => {
    const run = async (args: string[], text: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const program = new Command().exitOverride();
      registerImportCommands(program, {
        openDb: () => t.db,
        closeDb: async () => undefined,
        readFile: async () => text,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        isTTY: () => false,
        today: () => '2026-06-15',
        now: () => NOW,
      });
      let error: Error | null = null;
      try {
        await program.parseAsync(['node', 'hub', 'import', 'devices', ...args]);
      } catch (e) {
        error = e as Error;
      }
      return { out, err, error };
    };
    const cliFile = () =>
      csv(
        `c01,datto,C-1,site-g,${gNew},,`, // today in Auckland
        'c02,datto,C-2,site-g,G-MIT,MON,2026-02-01',
        'c03,datto,C-3,site-g,G-NEXT,,', // starts 1 July: not effective today
      );

    it('--dry-run lists the contract errors by line and writes nothing; the import links the valid rows; a second run changes nothing', async () => {
      const before = await linkCount();
      const dry = await run(['cli.csv', '--dry-run'], cliFile());
      expect(dry.error?.message).toBe('cli.csv: 1 invalid rows');
      expect(dry.err).toContainEqual(
        expect.stringMatching(
          /^ {2}line 4, contract: contract \d+ starts on 2026-07-01; a link from 2026-06-16 cannot be made/,
        ),
      );
      expect(await linkCount()).toBe(before);

      const real = await run(['cli.csv', '--skip-invalid', '--json'], cliFile());
      expect(real.error).toBeNull();
      expect(JSON.parse(real.out.join('\n'))).toMatchObject({ applied: true, created: 2, linked: 2, invalid: 1 });
      expect(await linksOf('c01')).toEqual([
        { contract_id: gNew, service_id: null, valid_from: '2026-06-16', valid_to: null, origin: 'import' },
      ]);
      expect(await linksOf('c02')).toEqual([
        {
          contract_id: gMit,
          service_id: expect.any(String),
          valid_from: '2026-02-01',
          valid_to: null,
          origin: 'import',
        },
      ]);

      const again = await run(['cli.csv', '--skip-invalid', '--json'], cliFile());
      expect(JSON.parse(again.out.join('\n'))).toMatchObject({
        applied: true,
        created: 0,
        linked: 0,
        linksUnchanged: 2,
      });
      expect(await linkCount()).toBe(before + 2);
    });
  });
});
