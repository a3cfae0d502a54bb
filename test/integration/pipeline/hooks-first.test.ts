import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource } from '../../helpers/seed';

/**
 * Issue 19: POST /hooks/:source is served on the raw node:http request before Express sees it
 * (api/webhooks/hooks-first.ts); every other request, and the /hooks paths the raw dispatch leaves
 * to Express, still go through Express with the same answers. The behaviours themselves (413, 401,
 * 400, 429, 503, 202 after the commit) are the existing intake tests'; these pin the mechanics.
 */
const TOKEN = 'generic-source-token-0123456789';
let h: TestApp;

const alert = (id: string) => ({
  alertId: id,
  state: 'firing',
  severity: 'high',
  category: 'disk',
  title: 'Disk almost full',
  message: '95% used',
  device: { id: 'dev-1', hostname: 'srv1', site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00Z',
});

const post = (path: string, body: unknown = alert('a1'), token = TOKEN) =>
  request(h.app).post(path).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

/** Express' router: every request Express dispatches goes through its handle() (left out of its types). */
function expressCalls(): { count: () => number; restore: () => void } {
  const router = h.app.router as unknown as { handle: (...args: unknown[]) => void };
  const spy = jest.spyOn(router, 'handle');
  return { count: () => spy.mock.calls.length, restore: () => spy.mockRestore() };
}

beforeAll(async () => {
  h = await createTestApp();
  await createSource(h.db, h.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
}, 30_000);
afterAll(async () => h?.close());

describe('POST /hooks/:source before Express', () => {
  it('accepts, refuses and rejects without Express running', async () => {
    const express = expressCalls();
    try {
      const ok = await post('/hooks/rmm', alert('first-1'));
      expect(ok.status).toBe(202);
      expect(ok.body.alertIds).toHaveLength(1);
      // One fixed-length answer, never chunked.
      expect(ok.headers['content-length']).toBe(String(Buffer.byteLength(ok.text)));
      expect(ok.headers['transfer-encoding']).toBeUndefined();
      expect(ok.headers['content-type']).toBe('application/json; charset=utf-8');
      expect((await post('/hooks/rmm', alert('first-2'), 'wrong-token-0123456789')).status).toBe(401);
      expect((await post('/hooks/nosuch', alert('first-3'))).status).toBe(401);
      expect((await post('/hooks/rmm', { alertId: 'x' })).status).toBe(400);
      const big = await request(h.app).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).send('x'.repeat(h.deps.config.HUB_MAX_BODY_BYTES + 1));
      expect(big.status).toBe(413);
      expect(big.headers.connection).toBe('close');
      // Express' router matches any case and a trailing slash; so does the raw dispatch.
      expect((await post('/HOOKS/rmm/?x=1', alert('first-4'))).status).toBe(202);
      expect(express.count()).toBe(0);
      // Everything else is still Express'.
      expect((await request(h.app).get('/healthz')).status).toBe(200);
      expect(express.count()).toBe(1);
    } finally {
      express.restore();
    }
  });

  it('echoes a sane X-Request-Id and replaces any other, as the Express middleware does', async () => {
    const given = await post('/hooks/rmm', alert('rid-1')).set('X-Request-Id', 'sender.req-42');
    expect(given.headers['x-request-id']).toBe('sender.req-42');
    const insane = await post('/hooks/rmm', alert('rid-2')).set('X-Request-Id', 'no spaces allowed');
    expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await post('/hooks/nosuch', alert('rid-3')).set('X-Request-Id', 'r-1');
    expect(refused.headers['x-request-id']).toBe('r-1');
  });

  it('answers an error with the error handler body', async () => {
    const res = await post('/hooks/nosuch');
    expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'sender verification failed' } });
  });

  it('leaves /hooks/psa and percent-escaped names to Express, with the same answers', async () => {
    const express = expressCalls();
    try {
      const raw = await post('/hooks/nosuch');
      expect(express.count()).toBe(0);
      const viaExpress = await post('/hooks/psa');
      const escaped = await post('/hooks/%72mm', alert('esc-1'));
      expect(express.count()).toBe(2);
      expect(viaExpress.status).toBe(401);
      expect(viaExpress.body).toEqual(raw.body);
      // Express decodes the name: the source is found and the alert accepted.
      expect(escaped.status).toBe(202);
    } finally {
      express.restore();
    }
  });

  it('stores the client address as Express would (trust proxy: loopback)', async () => {
    const res = await post('/hooks/rmm', alert('addr-1')).set('X-Forwarded-For', '203.0.113.7, 127.0.0.1');
    expect(res.status).toBe(202);
    const row = await h.db('deliveries').join('alerts', 'alerts.first_delivery_id', 'deliveries.id').where('alerts.id', res.body.alertIds[0]).first('deliveries.remote_addr');
    expect(row.remote_addr).toBe('203.0.113.7');
  });
});
