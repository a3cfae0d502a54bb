import { Command } from 'commander';
import { registerPsaCommands } from '../../../cli/commands/psa';
import { parseEnv } from '../../../config/env';
import { createDb } from '../../../db/connection';
import { FakeConnectWise } from '../../helpers/fake-connectwise';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertPsaConnection } from '../psa/psa-fixtures';

/** `hub psa import <connection> [--dry-run]` (R-PSA-4, R-LINK-1) and `hub psa poll` against the fake ConnectWise. */
let t: TestDatabase;
let cw: FakeConnectWise;
const keys = parseEnv({ ...process.env, DATABASE_URL: 'postgres://x@localhost/x' }).HUB_SECRET_KEYS;

async function run(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const program = new Command().exitOverride();
  registerPsaCommands(program, {
    openDb: () => createDb(t.url, 1),
    closeDb: (db) => db.destroy(),
    secretKeys: () => keys,
    autotaskZoneLookupUrl: () => 'http://127.0.0.1:9/atservicesrest',
    timeoutMs: () => 2000,
    out: (l) => out.push(l),
    isTTY: () => false,
    now: () => new Date('2026-06-15T10:00:00Z'),
  });
  await program.parseAsync(['node', 'hub', ...args]);
  return out;
}

beforeAll(async () => {
  t = await createTestDatabase();
  cw = await new FakeConnectWise().start();
  cw.companies = [{ id: 250, identifier: 'Contoso', name: 'Contoso Ltd', deletedFlag: false }];
  cw.agreements = [{ id: 77, name: 'Server care', company: { id: 250 }, startDate: '2026-01-01T00:00:00Z', endDate: '2026-12-31T00:00:00Z', cancelledFlag: false, additions: [], configurations: [901] }];
  cw.configurations = [{ id: 901, name: 'FS01', company: { id: 250 }, serialNumber: null, activeFlag: true }];
  await insertPsaConnection(t.db, keys, { name: 'cw', type: 'connectwise', config: cw.config() });
});
afterAll(async () => {
  await cw.stop();
  await t.drop();
});

describe('hub psa', () => {
  it('R-PSA-4: import --dry-run prints the plan and writes nothing; import writes and links (R-LINK-1); a second run is unchanged', async () => {
    const dry = await run(['psa', 'import', 'cw', '--dry-run']);
    expect(dry[0]).toBe('cw: dry run, nothing written');
    expect(dry).toContain('company  1 created, 0 updated, 0 unchanged, 0 refused');
    expect(await t.db('companies').count({ n: '*' }).first()).toEqual({ n: '0' });
    const real = await run(['psa', 'import', 'cw']);
    expect(real).toEqual(expect.arrayContaining(['cw: imported', 'contract 1 created, 0 updated, 0 unchanged, 0 refused', 'device   1 created, 0 updated, 0 unchanged, 0 refused']));
    const device = await t.db('devices').where({ hostname: 'FS01' }).first();
    const contract = await t.db('contracts').where({ name: 'Server care' }).first();
    expect(await t.db('device_contract_links').where({ device_id: device.id }).first()).toMatchObject({ contract_id: contract.id, valid_from: '2026-06-15' });
    const again = JSON.parse((await run(['psa', 'import', 'cw', '--json'])).join('\n'));
    expect(again.counts.device).toEqual({ created: 0, updated: 0, unchanged: 1, refused: 0 });
  });

  it('poll asks the connection once and reports', async () => {
    expect(await run(['psa', 'poll', 'cw'])).toEqual(['cw: 0 changed, 0 hub tickets closed']);
  });
});
