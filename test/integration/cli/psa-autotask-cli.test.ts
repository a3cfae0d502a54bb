import os from 'node:os';
import { Command } from 'commander';
import { registerPsaCommands } from '../../../cli/commands/psa';
import { openSecrets } from '../../../app/psa/connection-secrets';
import { parseEnv } from '../../../config/env';
import { createDb } from '../../../db/connection';
import { FAKE_WEBHOOK_FIELD_IDS, startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertPsaConnection } from '../psa/psa-fixtures';

/**
 * `hub psa import <autotask connection> [--dry-run]` (R-PSA-4, R-LINK-1), `hub psa register-webhook
 * <connection> --url` (R-PSA-3) and `hub psa poll` against the fake Autotask, the zone looked up
 * through HUB_AUTOTASK_ZONE_LOOKUP_URL (the connection has no baseUrl). Import and register-webhook
 * change state, so they are audited like their API twins, with the CLI's actor `cli:<os user>`.
 */
const CLI_ACTOR = `cli:${os.userInfo().username}`;
const auditRows = (action: string) => t.db('audit_log').where({ action, entity_type: 'psa_connection' }).orderBy('id');
let t: TestDatabase;
let fake: FakeAutotask;
const keys = parseEnv({ ...process.env, DATABASE_URL: 'postgres://x@localhost/x' }).HUB_SECRET_KEYS;

async function run(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const program = new Command().exitOverride();
  registerPsaCommands(program, {
    openDb: () => createDb(t.url, 1),
    closeDb: (db) => db.destroy(),
    secretKeys: () => keys,
    autotaskZoneLookupUrl: () => fake.baseUrl,
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
  fake = await startFakeAutotask();
  fake.data.companies.push({ id: 250, companyName: 'Contoso Ltd', isActive: true });
  fake.data.contracts.push({ id: 77, companyID: 250, contractName: 'Server care', startDate: '2026-01-01T00:00:00', endDate: '2026-12-31T00:00:00', status: 1 });
  fake.data.configurationItems.push({ id: 901, companyID: 250, contractID: 77, referenceTitle: 'FS01', isActive: true });
  await insertPsaConnection(t.db, keys, { name: 'at', type: 'autotask', config: { ...fake.credentials, webhookSecret: 'configured-webhook-secret-1' } });
});
afterAll(async () => {
  await fake.close();
  await t.drop();
});

describe('hub psa (Autotask)', () => {
  it('R-PSA-4: import --dry-run writes nothing; import writes and links each configuration item to its contract (R-LINK-1)', async () => {
    const dry = await run(['psa', 'import', 'at', '--dry-run']);
    expect(dry[0]).toBe('at: dry run, nothing written');
    expect(dry).toContain('company  1 created, 0 updated, 0 unchanged, 0 refused');
    expect(await t.db('companies').count({ n: '*' }).first()).toEqual({ n: '0' });
    expect(await auditRows('import')).toHaveLength(0);
    const real = await run(['psa', 'import', 'at']);
    // Audited like POST /api/v1/psa-connections/:name/import, in the import's transaction.
    const [audited] = await auditRows('import');
    expect(audited).toMatchObject({ actor: CLI_ACTOR, entity_id: 'at' });
    expect(audited.after).toMatchObject({ counts: { company: { created: 1 }, contract: { created: 1 }, device: { created: 1 } }, refused: 0, linkErrors: 0 });
    expect(real).toEqual(expect.arrayContaining(['at: imported', 'contract 1 created, 0 updated, 0 unchanged, 0 refused', 'device   1 created, 0 updated, 0 unchanged, 0 refused']));
    const device = await t.db('devices').where({ hostname: 'FS01' }).first();
    const contract = await t.db('contracts').where({ name: 'Server care' }).first();
    expect(await t.db('device_contract_links').where({ device_id: device.id }).first()).toMatchObject({ contract_id: contract.id, valid_from: '2026-06-15' });
    const again = JSON.parse((await run(['psa', 'import', 'at', '--json'])).join('\n'));
    expect(again.counts.device).toEqual({ created: 0, updated: 0, unchanged: 1, refused: 0 });
  });

  it("register-webhook uses the connection's webhookSecret and is idempotent", async () => {
    const first = await run(['psa', 'register-webhook', 'at', '--url', 'https://hub.example.com/']);
    expect(first[0]).toMatch(/^at: webhook \d+ created → https:\/\/hub\.example\.com\/hooks\/psa\/at$/);
    expect(first).toContain('  subscribed to the ticket status');
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]!.fields).toMatchObject({ webhookUrl: 'https://hub.example.com/hooks/psa/at', secretKey: 'configured-webhook-secret-1', isActive: true });
    expect(fake.webhooks[0]!.webhookFields.map((f) => f.fieldID)).toEqual([FAKE_WEBHOOK_FIELD_IDS.status]);
    const second = await run(['psa', 'register-webhook', 'at', '--url', 'https://hub.example.com']);
    expect(second).toEqual([`at: webhook ${fake.webhooks[0]!.id} already registered, brought up to date → https://hub.example.com/hooks/psa/at`]);
    expect(fake.webhooks).toHaveLength(1);
    const row = await t.db('psa_connections').where({ name: 'at' }).first();
    expect(openSecrets(row, keys)!.webhookSecret).toBe('configured-webhook-secret-1');
    // Audited like POST /api/v1/psa-connections/:name/webhook: both runs, the URL and the webhook, no secret.
    const audited = await auditRows('register-webhook');
    expect(audited.map((a) => [a.actor, a.entity_id, a.after.created])).toEqual([
      [CLI_ACTOR, 'at', true],
      [CLI_ACTOR, 'at', false],
    ]);
    expect(audited[0].after).toEqual({ webhookUrl: 'https://hub.example.com/hooks/psa/at', webhookId: String(fake.webhooks[0]!.id), created: true });
    expect(JSON.stringify(audited)).not.toContain('configured-webhook-secret-1');
    await expect(run(['psa', 'register-webhook', 'at', '--url', 'http://hub.example.com'])).rejects.toThrow(/must be https/);
  });

  it('register-webhook refuses, before calling Autotask, a secret longer than Autotask accepts, a disabled connection and a non-Autotask one', async () => {
    await insertPsaConnection(t.db, keys, { name: 'at-long', type: 'autotask', config: { ...fake.credentials, webhookSecret: 'x'.repeat(65) } });
    await insertPsaConnection(t.db, keys, { name: 'at-off', type: 'autotask', enabled: false, config: { ...fake.credentials } });
    await insertPsaConnection(t.db, keys, { name: 'relay', type: 'webhook', config: { url: 'https://relay.example.com/x', secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` } });
    const before = fake.calls.length;
    await expect(run(['psa', 'register-webhook', 'at-long', '--url', 'https://hub.example.com'])).rejects.toThrow(/64 characters/);
    await expect(run(['psa', 'register-webhook', 'at-off', '--url', 'https://hub.example.com'])).rejects.toThrow(/disabled/);
    await expect(run(['psa', 'register-webhook', 'relay', '--url', 'https://hub.example.com'])).rejects.toThrow(/webhook connection has no ticket webhook/);
    expect(fake.calls.length).toBe(before);
    // The disabled connection got no generated secret either.
    expect(openSecrets(await t.db('psa_connections').where({ name: 'at-off' }).first(), keys)!.webhookSecret).toBeUndefined();
  });

  it('poll asks Autotask for the tickets changed since the cursor and reports', async () => {
    expect(await run(['psa', 'poll', 'at'])).toEqual(['at: 0 changed, 0 hub tickets closed']);
    expect(fake.calls.some((c) => c.method === 'POST' && c.path === '/Tickets/query')).toBe(true);
  });
});

describe('hub psa register-webhook without a webhookSecret', () => {
  it('audits the generated secret (never its value) as the API does, then the registration', async () => {
    await insertPsaConnection(t.db, keys, { name: 'at-gen', type: 'autotask', config: { ...fake.credentials } });
    const out = await run(['psa', 'register-webhook', 'at-gen', '--url', 'https://hub.example.com']);
    expect(out).toContain('  a webhookSecret was generated and stored encrypted with the connection');
    const rows = await t.db('audit_log').where({ entity_type: 'psa_connection', entity_id: 'at-gen' }).orderBy('id');
    expect(rows.map((r) => [r.actor, r.action, r.after])).toEqual([
      [CLI_ACTOR, 'update', { webhookSecret: 'generated' }],
      [CLI_ACTOR, 'register-webhook', expect.objectContaining({ webhookUrl: 'https://hub.example.com/hooks/psa/at-gen', created: true })],
    ]);
    const secret = openSecrets(await t.db('psa_connections').where({ name: 'at-gen' }).first(), keys)!.webhookSecret as string;
    expect(JSON.stringify(rows)).not.toContain(secret);
  });
});
