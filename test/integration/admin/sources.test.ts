import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../../api/app';
import { SourceCache } from '../../../api/webhooks/source-cache';
import { redactPaths } from '../../../lib/logger';
import { decryptSecrets, sourceSecretsContext } from '../../../plugins/auth/secret-box';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client, createCompany, tokenFor, type Client } from './admin-helpers';

const SECRET = 'hmac-secret-0123456789-abcdefghij';
const SECRET_2 = 'hmac-secret-second-9876543210-zyx';
const TOKEN_SECRET = 'token-secret-0123456789-abcdefghij';

// SPEC §8 "Sources" and STYLE.md principle 9: source secrets are encrypted at rest and never
// returned, audited or logged; what the API stores is exactly what the webhook route reads back.
describe('sources', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
  });
  afterAll(async () => t.close());

  const hmacSource = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    plugin: 'generic',
    auth: { type: 'hmac', scheme: 'body-only', secret: SECRET, header: 'x-signature', algorithm: 'sha256' },
    ...extra,
  });

  const leaks = (value: unknown): boolean => [SECRET, SECRET_2, TOKEN_SECRET].some((s) => JSON.stringify(value).includes(s));

  it('R-ALR-1: stores a source with its secret encrypted, answers without the secret, and the webhook side reads the same auth back', async () => {
    const res = await api.post('/sources', hmacSource('rmm-one', { siteField: 'labels.customer' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'rmm-one',
      plugin: 'generic',
      webhookPath: '/hooks/rmm-one',
      auth: { type: 'hmac', scheme: 'body-only', header: 'x-signature', algorithm: 'sha256', secretsConfigured: 1 },
      siteField: 'labels.customer',
      config: {},
      enabled: true,
      origin: 'api',
    });
    expect(leaks(res.body)).toBe(false);

    const row = await t.db('sources').where('name', 'rmm-one').first();
    expect(leaks(row.auth_settings)).toBe(false);
    expect(row.auth_secrets_enc).not.toContain(SECRET);
    expect(decryptSecrets(row.auth_secrets_enc, t.deps.config.HUB_SECRET_KEYS, sourceSecretsContext(row.name))).toEqual({ secret: SECRET });

    const live = await new SourceCache(t.db, t.deps.config.HUB_SECRET_KEY).get('rmm-one');
    expect(live?.auth).toEqual({ type: 'hmac', scheme: 'body-only', secret: SECRET, header: 'x-signature', algorithm: 'sha256' });
  });

  it('never returns secrets from GET by id, by name, or the list; counts rotation secrets', async () => {
    const created = await api.post('/sources', {
      name: 'rotating',
      plugin: 'generic',
      auth: { type: 'hmac', scheme: 'body-only', secrets: [SECRET, SECRET_2] },
    });
    expect(created.body.auth).toEqual({ type: 'hmac', scheme: 'body-only', secretsConfigured: 2 });
    await api.post('/sources', { name: 'tokened', plugin: 'alertmanager', auth: { type: 'token', token: TOKEN_SECRET } });
    const byId = await api.get(`/sources/${created.body.id as string}`);
    const byName = await api.get('/sources/tokened');
    const list = await api.get('/sources?limit=200');
    expect(byName.body.auth).toEqual({ type: 'token', secretsConfigured: 1 });
    for (const body of [byId.body, byName.body, list.body]) expect(leaks(body)).toBe(false);
    expect((await api.get('/sources?plugin=alertmanager')).body.items.map((s: { name: string }) => s.name)).toEqual(['tokened']);
  });

  it.each([
    [{ plugin: 'zabbix' }, /^body\.plugin: /],
    [{ plugin: 'datto-rmm' }, /^body\.auth\.type: /],
    [{ auth: { type: 'hmac', scheme: 'body-only' } }, /^body\.auth\.secret: /],
    [{ auth: { type: 'hmac', scheme: 'body-only', secret: 'short' } }, /^body\.auth\.secret: /],
    // Issue 13 item 4: replay protection is the default, so an HMAC source must say what carries the time (or opt out).
    [{ auth: { type: 'hmac', secret: SECRET } }, /^body\.auth\.timestampHeader: is required: HMAC sources are replay-protected by default/],
    // Issue 13 item 8: SHA-1 only with the explicit per-source opt-in.
    [{ auth: { type: 'hmac', scheme: 'body-only', secret: SECRET, algorithm: 'sha1' } }, /^body\.auth\.algorithm: sha1 is refused unless allowSha1: true/],
    [{ name: 'Bad Name!' }, /^body\.name: /],
    [{ siteField: '$..customer' }, /^body\.siteField: /],
    [{ colour: 'red' }, /colour/],
  ])('R-ALR-5: refuses an invalid source (%j) with 400 naming the field', async (patch, message) => {
    const res = await api.post('/sources', { ...hmacSource('invalid-one'), ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
    expect(leaks(res.body)).toBe(false);
  });

  it('409s a duplicate name', async () => {
    await api.post('/sources', hmacSource('dup-src'));
    const res = await api.post('/sources', hmacSource('dup-src'));
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/^name: /);
  });

  it('PATCH keeps the stored secrets unless auth is sent, rotates them when it is, and validates the merged source', async () => {
    const id = (await api.post('/sources', hmacSource('patchy'))).body.id as string;
    const renamed = await api.patch(`/sources/${id}`, { enabled: false, siteField: 'site' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ enabled: false, siteField: 'site', auth: { type: 'hmac', scheme: 'body-only', header: 'x-signature', secretsConfigured: 1 } });
    let row = await t.db('sources').where('id', id).first();
    expect(decryptSecrets(row.auth_secrets_enc, t.deps.config.HUB_SECRET_KEYS, sourceSecretsContext(row.name))).toEqual({ secret: SECRET });

    const rotated = await api.patch(`/sources/${id}`, { auth: { type: 'hmac', scheme: 'body-only', secrets: [SECRET_2, SECRET] }, siteField: null });
    expect(rotated.body).toMatchObject({ siteField: null, auth: { type: 'hmac', secretsConfigured: 2 } });
    expect(rotated.body.auth.header).toBeUndefined();
    row = await t.db('sources').where('id', id).first();
    expect(decryptSecrets(row.auth_secrets_enc, t.deps.config.HUB_SECRET_KEYS, sourceSecretsContext(row.name))).toEqual({ secrets: [SECRET_2, SECRET] });

    // Datto RMM can only send a token: switching the plugin alone leaves an hmac auth it cannot do.
    const wrongPlugin = await api.patch(`/sources/${id}`, { plugin: 'datto-rmm' });
    expect(wrongPlugin.status).toBe(400);
    expect(wrongPlugin.body.error.message).toMatch(/^body\.auth\.type: /);
    const switched = await api.patch(`/sources/${id}`, { plugin: 'datto-rmm', auth: { type: 'token', token: TOKEN_SECRET, header: 'x-datto-token' } });
    expect(switched.status).toBe(200);
    expect(switched.body.auth).toEqual({ type: 'token', header: 'x-datto-token', secretsConfigured: 1 });
  });

  it('never writes a secret into the audit log', async () => {
    const id = (await api.post('/sources', hmacSource('audited-src'))).body.id as string;
    await api.patch(`/sources/${id}`, { auth: { type: 'token', token: TOKEN_SECRET } });
    await api.delete(`/sources/${id}`);
    const rows = await t.db('audit_log').where({ entity_type: 'source', entity_id: id }).orderBy('id');
    expect(rows.map((r: { action: string }) => r.action)).toEqual(['create', 'update', 'delete']);
    expect(rows[1].after).toMatchObject({ secretsChanged: true });
    expect(leaks(rows)).toBe(false);
  });

  it('deletes a source only before it received deliveries; a file-declared source is edited in its file', async () => {
    const id = (await api.post('/sources', hmacSource('busy-src'))).body.id as string;
    await t.db('deliveries').insert({ source_id: id, body_sha256: 'x', body_bytes: 1 });
    const busy = await api.delete(`/sources/${id}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toMatch(/deliveries/);
    await t.db('sources').where('id', id).update({ origin: 'file' });
    const fromFile = await api.patch(`/sources/${id}`, { enabled: false });
    expect(fromFile.status).toBe(409);
    expect(fromFile.body.error.message).toMatch(/sources file/);
    expect((await api.get('/sources/no-such-source')).status).toBe(404);
  });

  it('is readable by a scoped viewer but only an unscoped admin changes it', async () => {
    const company = await createCompany(api, 'Source reader');
    const viewer = await tokenFor(t, 'viewer', [company]);
    const scopedAdmin = await tokenFor(t, 'admin', [company]);
    const operator = await tokenFor(t, 'operator');
    expect((await api.get('/sources', viewer)).status).toBe(200);
    expect((await api.post('/sources', hmacSource('scoped-src'), scopedAdmin)).status).toBe(403);
    expect((await api.post('/sources', hmacSource('operator-src'), operator)).status).toBe(403);
    expect((await api.get('/sources/scoped-src')).status).toBe(404);
  });

  it('never logs a secret, not even at trace level or on a failed request', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = pino({ level: 'trace', redact: { paths: redactPaths, censor: '[redacted]' } }, sink);
    const app = createApp({ ...t.deps, logger, services: {} });
    await request(app).post('/api/v1/sources').set('Authorization', t.admin).send(hmacSource('logged-src'));
    await request(app).post('/api/v1/sources').set('Authorization', t.admin).send(hmacSource('logged-src'));
    await request(app).post('/api/v1/sources').set('Authorization', t.admin).send({ ...hmacSource('bad src'), auth: { type: 'token', token: TOKEN_SECRET } });
    await request(app).get('/api/v1/sources/logged-src').set('Authorization', t.admin);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => [SECRET, SECRET_2, TOKEN_SECRET].some((s) => l.includes(s)))).toEqual([]);
  });
});
