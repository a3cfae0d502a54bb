import crypto from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client, type Client } from '../admin/admin-helpers';

// Issue 13 item 4: replays and late retries. A captured HMAC-signed request replayed later is
// refused (401) or recognised as the same delivery — never new alerts, so never a new ticket.
const WHSEC = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const GRAFANA_SECRET = 'grafana-hmac-secret-0123456789';
const body = (alertId: string) =>
  Buffer.from(
    JSON.stringify({
      alertId,
      state: 'firing',
      severity: 'high',
      title: 'Backup failed',
      device: { id: 'dev-1', hostname: 'nas01', site: 'acme-hq' },
      occurredAt: '2026-11-23T10:00:00Z',
    }),
  );
const nowSeconds = () => Math.floor(Date.now() / 1000);

function standardWebhooksHeaders(id: string, timestamp: number, raw: Buffer): Record<string, string> {
  const key = Buffer.from(WHSEC.slice('whsec_'.length), 'base64');
  const signature = crypto.createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), raw])).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

function grafanaHeaders(timestamp: number, raw: Buffer): Record<string, string> {
  const signature = crypto.createHmac('sha256', GRAFANA_SECRET).update(`${timestamp}:`).update(raw).digest('hex');
  return { 'x-grafana-alerting-signature': signature, 'x-grafana-alerting-signature-timestamp': String(timestamp) };
}

describe('issue 13 item 4: replay protection of HMAC sources over HTTP', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
    expect((await api.post('/sources', { name: 'sw', plugin: 'generic', auth: { type: 'hmac', scheme: 'standard-webhooks', secret: WHSEC } })).status).toBe(201);
    const grafana = {
      name: 'graf',
      plugin: 'generic',
      auth: { type: 'hmac', secret: GRAFANA_SECRET, header: 'x-grafana-alerting-signature', timestampHeader: 'x-grafana-alerting-signature-timestamp', toleranceSeconds: 120 },
    };
    expect((await api.post('/sources', grafana)).status).toBe(201);
  });
  afterAll(async () => t.close());

  const post = (source: string, raw: Buffer, headers: Record<string, string>) =>
    // A string, not the Buffer: supertest would JSON-encode a Buffer under a JSON content type, and the signature is over these bytes.
    request(t.app).post(`/hooks/${source}`).set('Content-Type', 'application/json').set(headers).send(raw.toString('utf8'));
  const alertCount = async () => Number((await t.db('alerts').count<{ count: string }[]>('* as count'))[0]?.count);

  it('item 4: Standard Webhooks: a replay inside the tolerance is the same delivery (signed webhook-id), even with a different unsigned idempotency key', async () => {
    const raw = body('sw-1');
    const headers = standardWebhooksHeaders('msg_sw_1', nowSeconds(), raw);
    const first = await post('sw', raw, headers);
    expect(first.status).toBe(202);
    expect(first.body.alertIds).toHaveLength(1);
    const before = await alertCount();
    const replay = await post('sw', raw, { ...headers, 'idempotency-key': 'attacker-chosen' });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ alertIds: first.body.alertIds, duplicate: true });
    expect(await alertCount()).toBe(before);
  });

  it('item 4: Standard Webhooks: a request captured and replayed after the tolerance is refused with 401 and stores nothing', async () => {
    const raw = body('sw-late');
    const before = await alertCount();
    const late = await post('sw', raw, standardWebhooksHeaders('msg_sw_late', nowSeconds() - 301, raw));
    expect(late.status).toBe(401);
    expect(late.body.error.code).toBe('UNAUTHORIZED');
    // Re-dating the captured request needs a new signature, which only the secret's holder can make.
    const redated = { ...standardWebhooksHeaders('msg_sw_late', nowSeconds() - 301, raw), 'webhook-timestamp': String(nowSeconds()) };
    expect((await post('sw', raw, redated)).status).toBe(401);
    expect(await alertCount()).toBe(before);
  });

  it("item 4: Grafana's timestamp:body shape: a fresh request is accepted, the same request after its tolerance is refused", async () => {
    const raw = body('graf-1');
    const fresh = await post('graf', raw, grafanaHeaders(nowSeconds(), raw));
    expect(fresh.status).toBe(202);
    const stale = await post('graf', raw, grafanaHeaders(nowSeconds() - 121, raw));
    expect(stale.status).toBe(401);
    const unsignedTimestamp = await post('graf', raw, { ...grafanaHeaders(nowSeconds() - 3600, raw), 'x-grafana-alerting-signature-timestamp': String(nowSeconds()) });
    expect(unsignedTimestamp.status).toBe(401);
  });

  it('item 4: a source stored before replay protection keeps working: the migration writes its explicit opt-out', async () => {
    const migration = '20261206050000_hmac_explicit_opt_outs.ts';
    await t.db.migrate.down({ name: migration });
    try {
      // A row as the previous version stored it: HMAC over the body alone, no scheme; and one with sha1.
      const legacy = await api.post('/sources', { name: 'legacy-tmp', plugin: 'generic', auth: { type: 'hmac', scheme: 'body-only', secret: GRAFANA_SECRET, prefix: 'sha256=' } });
      const sha1 = await api.post('/sources', { name: 'legacy-sha1', plugin: 'generic', auth: { type: 'hmac', scheme: 'body-only', secret: GRAFANA_SECRET, algorithm: 'sha1', allowSha1: true } });
      await t.db('sources').whereIn('id', [legacy.body.id, sha1.body.id]).update({ auth_settings: t.db.raw("auth_settings - 'scheme' - 'allowSha1'") });
    } finally {
      await t.db.migrate.up({ name: migration });
    }
    const rows = await t.db('sources').whereIn('name', ['legacy-tmp', 'legacy-sha1']).orderBy('name');
    expect(rows.map((r: { auth_settings: unknown }) => r.auth_settings)).toEqual([
      { algorithm: 'sha1', allowSha1: true, scheme: 'body-only' },
      { prefix: 'sha256=', scheme: 'body-only' },
    ]);
    const raw = body('legacy-1');
    const signature = crypto.createHmac('sha256', GRAFANA_SECRET).update(raw).digest('hex');
    expect((await post('legacy-tmp', raw, { 'x-hub-signature-256': `sha256=${signature}` })).status).toBe(202);
    expect((await api.get('/sources/legacy-tmp')).body.auth).toMatchObject({ scheme: 'body-only' });
  });
});
