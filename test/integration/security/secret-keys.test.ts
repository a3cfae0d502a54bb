import { Command } from 'commander';
import request from 'supertest';
import { registerSecretsCommands } from '../../../cli/commands/secrets';
import { parseEnv } from '../../../config/env';
import { createDb } from '../../../db/connection';
import { decryptSecrets, sealedFormat, sourceSecretsContext } from '../../../plugins/auth/secret-box';
import { createTestApp, type TestApp } from '../../helpers/app';
import { sealLegacyV1 } from '../../helpers/legacy-secrets';
import { client, type Client } from '../admin/admin-helpers';

// Issue 13 item 8: source secrets bound to their source (AES-GCM associated data), a key list for
// rotation (HUB_SECRET_KEYS, newest first) and an idempotent re-encrypt command.
const OLD_KEY = 'old-secret-key-0123456789-abcdefghijklmnop';
const NEW_KEY = 'new-secret-key-9876543210-zyxwvutsrqponmlk';
const TOKEN_A = 'source-a-token-0123456789abcdef';
const TOKEN_B = 'source-b-token-0123456789abcdef';
const alert = JSON.stringify({ alertId: 'k-1', state: 'firing', severity: 'low', title: 'x', device: { hostname: 'h1' }, occurredAt: '2026-11-23T10:00:00Z' });

describe('issue 13 item 8: secrets at rest', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp({ env: { HUB_SECRET_KEY: '', HUB_SECRET_KEYS: OLD_KEY } });
    api = client(t);
  });
  afterAll(async () => t.close());

  const hook = (name: string, token: string) => request(t.app).post(`/hooks/${name}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(alert);

  async function runCli(keys: string[], args: string[] = []): Promise<{ out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command().exitOverride();
    registerSecretsCommands(program, { openDb: () => createDb(t.t.url, 1), closeDb: (db) => db.destroy(), keys: () => keys, out: (l) => out.push(l), err: (l) => err.push(l), isTTY: () => false });
    await program.parseAsync(['node', 'hub', 'secrets', 'reencrypt', ...args]);
    return { out, err };
  }

  it('item 8: a source\'s sealed secrets copied onto another source do not open there (bound to the source name)', async () => {
    expect((await api.post('/sources', { name: 'src-a', plugin: 'generic', auth: { type: 'token', token: TOKEN_A } })).status).toBe(201);
    expect((await api.post('/sources', { name: 'src-b', plugin: 'generic', auth: { type: 'token', token: TOKEN_B } })).status).toBe(201);
    const a = await t.db('sources').where({ name: 'src-a' }).first();
    expect(sealedFormat(a.auth_secrets_enc)).toBe('v2');
    // Someone with write access to the table moves A's ciphertext onto B, hoping B accepts A's token.
    await t.db('sources').where({ name: 'src-b' }).update({ auth_secrets_enc: a.auth_secrets_enc });
    expect((await hook('src-b', TOKEN_A)).status).not.toBe(202);
    expect((await api.get('/sources/src-b')).body.auth.secretsConfigured).toBeNull();
    expect((await hook('src-a', TOKEN_A)).status).toBe(202);
    // PATCH with the auth repairs it (and a rename re-binds to the new name).
    expect((await api.patch('/sources/src-b', { name: 'src-b2', auth: { type: 'token', token: TOKEN_B } })).status).toBe(200);
    const b2 = await t.db('sources').where({ name: 'src-b2' }).first();
    expect(decryptSecrets(b2.auth_secrets_enc, [OLD_KEY], sourceSecretsContext('src-b2'))).toEqual({ token: TOKEN_B });
    expect(() => decryptSecrets(b2.auth_secrets_enc, [OLD_KEY], sourceSecretsContext('src-b'))).toThrow();
  });

  it('item 8: rotation: with HUB_SECRET_KEYS=new,old the hub still verifies old values; reencrypt moves them to the new key idempotently, then old can go', async () => {
    // A legacy (v1, unbound) row as the previous version wrote it.
    const legacy = await api.post('/sources', { name: 'src-legacy', plugin: 'generic', auth: { type: 'token', token: TOKEN_B } });
    await t.db('sources').where({ id: legacy.body.id }).update({ auth_secrets_enc: sealLegacyV1({ token: TOKEN_B }, OLD_KEY) });

    const rotating = await createTestApp({ env: { HUB_SECRET_KEY: '', HUB_SECRET_KEYS: `${NEW_KEY},${OLD_KEY}` } });
    try {
      await rotating.db('sources').insert(await t.db('sources').select('name', 'plugin', 'config', 'auth_type', 'auth_settings', 'auth_secrets_enc').whereIn('name', ['src-a', 'src-legacy']));
      const hookOn = (name: string, token: string) =>
        request(rotating.app).post(`/hooks/${name}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(alert);
      expect((await hookOn('src-a', TOKEN_A)).status).toBe(202);

      const dry = await (async () => {
        const out: string[] = [];
        const program = new Command().exitOverride();
        registerSecretsCommands(program, { openDb: () => createDb(rotating.t.url, 1), closeDb: (db) => db.destroy(), keys: () => [NEW_KEY, OLD_KEY], out: (l) => out.push(l), err: () => undefined, isTTY: () => false });
        await program.parseAsync(['node', 'hub', 'secrets', 'reencrypt', '--dry-run', '--json']);
        return JSON.parse(out[0] ?? '{}') as Record<string, unknown>;
      })();
      expect(dry).toMatchObject({ total: 2, reencrypted: 2, legacyUnbound: 1, alreadyCurrent: 0, failed: [], dryRun: true });
      const untouched = await rotating.db('sources').where({ name: 'src-legacy' }).first();
      expect(sealedFormat(untouched.auth_secrets_enc)).toBe('v1');

      const run = async () => {
        const out: string[] = [];
        const program = new Command().exitOverride();
        registerSecretsCommands(program, { openDb: () => createDb(rotating.t.url, 1), closeDb: (db) => db.destroy(), keys: () => [NEW_KEY, OLD_KEY], out: (l) => out.push(l), err: () => undefined, isTTY: () => false });
        await program.parseAsync(['node', 'hub', 'secrets', 'reencrypt']);
        return out;
      };
      const first = await run();
      expect(first[0]).toBe('2 sources: 2 re-encrypted (1 of them legacy values bound to no source), 0 already current, 0 failed');
      const second = await run();
      expect(second[0]).toBe('2 sources: 0 re-encrypted (0 of them legacy values bound to no source), 2 already current, 0 failed');
      for (const row of await rotating.db('sources')) {
        expect(sealedFormat(row.auth_secrets_enc)).toBe('v2');
        expect(() => decryptSecrets(row.auth_secrets_enc, [NEW_KEY], sourceSecretsContext(row.name))).not.toThrow();
      }
    } finally {
      await rotating.close();
    }

    // Only the new key now: a hub configured with it alone still verifies the re-encrypted sources.
    const newOnly = await createTestApp({ env: { HUB_SECRET_KEY: NEW_KEY } });
    try {
      expect(newOnly.deps.config.HUB_SECRET_KEYS).toEqual([NEW_KEY]);
    } finally {
      await newOnly.close();
    }
  });

  it('item 8: a value no key opens is reported, left unchanged, and the command fails', async () => {
    const before = await t.db('sources').where({ name: 'src-a' }).first();
    await expect(runCli([NEW_KEY])).rejects.toThrow(/could not be opened with HUB_SECRET_KEYS/);
    expect((await t.db('sources').where({ name: 'src-a' }).first()).auth_secrets_enc).toBe(before.auth_secrets_enc);
  });

  it('item 8: HUB_SECRET_KEYS is parsed newest first; bad lists are refused naming the variable', () => {
    const base = { DATABASE_URL: 'postgres://u@h/d', REDIS_URL: 'redis://h:6379', NODE_ENV: 'test' } as const;
    expect(parseEnv({ ...base, HUB_SECRET_KEYS: `${NEW_KEY}, ${OLD_KEY}` })).toMatchObject({ HUB_SECRET_KEYS: [NEW_KEY, OLD_KEY], HUB_SECRET_KEY: NEW_KEY });
    expect(parseEnv({ ...base, HUB_SECRET_KEY: OLD_KEY }).HUB_SECRET_KEYS).toEqual([OLD_KEY]);
    expect(() => parseEnv({ ...base, HUB_SECRET_KEYS: `${NEW_KEY},short` })).toThrow('configuration: HUB_SECRET_KEYS is invalid: key 2 must be at least 32 characters (see .env.example)');
    expect(() => parseEnv({ ...base, HUB_SECRET_KEYS: NEW_KEY, HUB_SECRET_KEY: OLD_KEY })).toThrow(/HUB_SECRET_KEY set either HUB_SECRET_KEYS .* not both/);
    expect(() => parseEnv({ ...base })).toThrow('configuration: HUB_SECRET_KEYS is missing (or give one key as HUB_SECRET_KEY) (see .env.example)');
    expect(() => parseEnv({ ...base, HUB_SECRET_KEYS: `${NEW_KEY},${NEW_KEY}` })).toThrow(/listed twice/);
  });
});
