import { Command } from 'commander';
import { registerPsaCommands } from '../../../cli/commands/psa';
import { parseEnv } from '../../../config/env';
import { createDb } from '../../../db/connection';
import { FakeConnectWise } from '../../helpers/fake-connectwise';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';
import { insertPsaConnection } from '../psa/psa-fixtures';

/**
 * `hub psa import <connection> [--dry-run]` (R-PSA-4, R-LINK-1) and `hub psa poll` against the fake
 * ConnectWise; `hub psa failed` / `hub psa retry` (issue 16 item 3) on delivery rows.
 */
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

  it('issue 16: failed lists failed deliveries with their error; retry <id> and retry --all make them pending again, audited; bad arguments refused', async () => {
    const connectionId = String((await t.db('psa_connections').where({ name: 'cw' }).first()).id);
    // The imported company has psaRefs.cw (a retry re-checks it); Acme has none.
    const contoso = String((await t.db('companies').where({ name: 'Contoso Ltd' }).first()).id);
    const acme = String((await insertRow(t.db, 'companies', { name: 'Acme' })).id);
    const ticket = (n: number, companyId: string) =>
      insertRow(t.db, 'tickets', { source: 'rmm', dedup_key: `rmm:cli-${n}`, priority: 'high', title: `Ticket ${n}`, company_id: companyId, first_occurred_at: new Date('2026-06-15T08:00:00Z'), last_occurred_at: new Date('2026-06-15T08:00:00Z') });
    const delivery = async (state: string, lastError: string | null, companyId = contoso) =>
      (await insertRow(t.db, 'psa_deliveries', { ticket_id: (await ticket(Math.floor(Math.random() * 1e9), companyId)).id, connection_id: connectionId, state, attempts: 5, last_error: lastError })).id;
    const failed = String(await delivery('failed', 'ConnectWise 400: board "Help Desk" not found'));
    const skipped = String(await delivery('skipped', 'not sent to cw: company Acme has no psaRefs.cw (set it, then retry the delivery)'));
    const delivered = String(await delivery('delivered', null));
    const noRef = String(await delivery('skipped', 'not sent to cw: company Acme has no psaRefs.cw (set it, then retry the delivery)', acme));

    const list = await run(['psa', 'failed']);
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(new RegExp(`^${failed}\\s+ticket \\d+\\s+cw\\s+5 attempts .*board "Help Desk" not found$`));
    expect(list[1]).toMatch(/^1 failed; retry with: hub psa retry/);
    const json = JSON.parse((await run(['psa', 'failed', '--skipped', '--json'])).join('\n')) as Array<{ id: string; state: string }>;
    expect(json.map((d) => [d.id, d.state])).toEqual([[noRef, 'skipped'], [skipped, 'skipped']]);
    expect(await run(['psa', 'failed', '--connection', 'other'])).toEqual(['no failed PSA deliveries for other']);

    await expect(run(['psa', 'retry'])).rejects.toThrow(/one delivery id or --all/);
    await expect(run(['psa', 'retry', failed, '--all'])).rejects.toThrow(/one delivery id or --all/);
    await expect(run(['psa', 'retry', 'abc'])).rejects.toThrow(/must be a delivery id/);
    await expect(run(['psa', 'retry', delivered])).rejects.toThrow(/not failed or skipped/);
    await expect(run(['psa', 'failed', '--limit', '0'])).rejects.toThrow(/--limit/);

    expect(await run(['psa', 'retry', failed])).toEqual([`retrying ${failed} (cw)`, '1 deliveries pending again']);
    expect(await t.db('psa_deliveries').where({ id: failed }).first()).toMatchObject({ state: 'pending', attempts: 0 });
    // Acme still has no psaRefs.cw: that one stays skipped and says why (alone: an error; with --all: a line).
    await expect(run(['psa', 'retry', noRef])).rejects.toThrow(`delivery ${noRef} stays skipped: not sent to cw: company Acme has no psaRefs.cw (set it, then retry the delivery)`);
    expect(await run(['psa', 'retry', '--all', '--connection', 'cw'])).toEqual([
      `retrying ${skipped} (cw)`,
      `still skipped ${noRef} (cw): not sent to cw: company Acme has no psaRefs.cw (set it, then retry the delivery)`,
      '1 deliveries pending again, 1 still skipped',
    ]);
    expect(await t.db('psa_deliveries').where({ id: noRef }).first()).toMatchObject({ state: 'skipped', attempts: 5 });
    expect((await t.db('psa_deliveries').where({ id: delivered }).first()).state).toBe('delivered');
    const audit = await t.db('audit_log').where({ entity_type: 'psa_delivery', action: 'retry' }).orderBy('id');
    expect(audit.map((a: { entity_id: string; after: { state?: string } }) => [a.entity_id, a.after.state ?? 'pending'])).toEqual([
      [failed, 'pending'],
      [noRef, 'skipped'],
      [skipped, 'pending'],
      [noRef, 'skipped'],
    ]);
    expect(await run(['psa', 'failed'])).toEqual(['no failed PSA deliveries']);
  });
});
