import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../../api/app';
import type { ReadinessCheck } from '../../../api/health.route';
import { createDb } from '../../../db/connection';
import { createLogger } from '../../../lib/logger';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client } from '../admin/admin-helpers';

// Issue 13 item 8, the operator-facing parts: /readyz names what is down without echoing errors,
// /metrics behind an optional token, and no secret in any log line (nested, or in a custom header).
const METRICS_TOKEN = 'metrics-token-0123456789abcdefgh';
const CUSTOM_HEADER_SECRET = 'custom-header-secret-0123456789';
const NESTED_SECRET = 'nested-secret-value-0123456789';

describe('issue 13 item 8: /readyz, /metrics and logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { HUB_METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(async () => t.close());

  it('item 8: /readyz names the dependency that is down, and never echoes its connection error', async () => {
    // A real Postgres client pointed at a port nothing listens on, with a password in its URL.
    const unreachable = createDb('postgres://hubuser:pg-password-in-url@127.0.0.1:1/hub', 1);
    try {
      const checks: ReadinessCheck[] = [
        { name: 'postgres', check: async () => void (await unreachable.raw('select 1')) },
        { name: 'redis', check: async () => undefined },
        { name: 'ruleset', check: () => new Promise<void>(() => undefined) },
      ];
      const app = createApp({ ...t.deps, services: { readiness: checks } });
      const res = await request(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'not ready', checks: { postgres: 'down', redis: 'ok', ruleset: 'timeout' }, details: {} });
      expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|hubuser|pg-password|timed out/);
    } finally {
      await unreachable.destroy();
    }
  });

  it('item 8: with HUB_METRICS_TOKEN set, /metrics answers 401 without the bearer token and 200 with it', async () => {
    const none = await request(t.app).get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect((await request(t.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`)).status).toBe(401);
    // The admin token is not the metrics token: a scrape credential must not open the API, nor the reverse.
    expect((await request(t.app).get('/metrics').set('Authorization', t.admin)).status).toBe(401);
    const ok = await request(t.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE');
  });

  it('item 8: without HUB_METRICS_TOKEN /metrics stays open (the default)', async () => {
    const open = createApp({ ...t.deps, config: { ...t.deps.config, HUB_METRICS_TOKEN: undefined }, services: {} });
    expect((await request(open).get('/metrics')).status).toBe(200);
  });

  it("item 8: logs redact a source's custom auth header and secrets nested at any depth", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger('trace', 'hub', sink);
    const app = createApp({ ...t.deps, logger, services: {} });
    const created = await client(t).post('/sources', { name: 'ninja-custom', plugin: 'ninjaone', auth: { type: 'token', token: CUSTOM_HEADER_SECRET, header: 'x-acme-webhook-key' } });
    expect(created.status).toBe(201);
    // A request that carries the custom header (e.g. a sender misconfigured to post to the admin API) is logged by pino-http.
    await request(app).get('/api/v1/sources').set('Authorization', t.admin).set('X-Acme-Webhook-Key', CUSTOM_HEADER_SECRET).set('Proxy-Authorization', `Basic ${NESTED_SECRET}`);
    logger.info({ job: { source: { auth: { type: 'token', token: NESTED_SECRET } }, psa: [{ config: { webhookSecret: NESTED_SECRET } }] } }, 'nested');
    logger.error({ err: Object.assign(new Error('request failed'), { request: { headers: { 'x-acme-webhook-key': CUSTOM_HEADER_SECRET } } }) }, 'with error');
    const text = lines.join('');
    expect(text).toContain('x-acme-webhook-key');
    expect(text).toContain('"nested"');
    expect(text).toContain('request failed');
    expect(text).not.toContain(CUSTOM_HEADER_SECRET);
    expect(text).not.toContain(NESTED_SECRET);
    // Headers that help debugging stay readable.
    expect(text).toMatch(/"user-agent"|"host"/);
  });
});
