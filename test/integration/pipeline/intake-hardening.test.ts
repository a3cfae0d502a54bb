import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../../api/app';
import { SourceCache } from '../../../api/webhooks/source-cache';
import { ALL_COMPANIES } from '../../../core/access/company-scope';
import { issueToken } from '../../../app/tokens';
import { createLogger } from '../../../lib/logger';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource } from '../../helpers/seed';

/**
 * Issue 13 item 3 (unauthenticated memory and pool exhaustion) and the piece of item 8 that lives
 * on the same path (unknown and disabled sources answer like a bad credential), on the real
 * Postgres through the real Express app.
 */
const TOKEN = 'generic-source-token-0123456789';
const REFRESH_MS = 400;
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

const hook = (app: TestApp['app'], name: string, token = TOKEN, body: unknown = alert('a1')) =>
  request(app).post(`/hooks/${name}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

/** Counts the statements the app's pool runs while `f` runs (knex's 'query' event: every statement). */
async function countQueries(f: () => Promise<unknown>, match: (sql: string) => boolean = () => true): Promise<number> {
  let n = 0;
  const onQuery = (q: { sql: string }) => {
    if (match(q.sql)) n += 1;
  };
  h.db.on('query', onQuery);
  try {
    await f();
  } finally {
    h.db.off('query', onQuery);
  }
  return n;
}

beforeAll(async () => {
  h = await createTestApp({ env: { HUB_SOURCE_REFRESH_MS: String(REFRESH_MS), HUB_SOURCE_CACHE_MAX: '3' } });
  const key = h.deps.config.HUB_SECRET_KEY;
  await createSource(h.db, key, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await createSource(h.db, key, { name: 'off', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await h.db('sources').where({ name: 'off' }).update({ enabled: false });
}, 30_000);
afterAll(async () => h?.close());

/** The cache the webhook router made (it registers one in the service container when none was given). */
function sourceCacheOf(app: TestApp): SourceCache {
  const cache = app.deps.services.sourceCache;
  if (!cache) throw new Error('the webhook router registered no source cache');
  return cache;
}

describe('issue 13 item 3: unknown source names cost nothing', () => {
  it('item 8: unknown, disabled and ill-formed source names get exactly the answer of a bad credential', async () => {
    const bad = await hook(h.app, 'rmm', 'wrong-token-wrong-token-0000');
    expect(bad.status).toBe(401);
    for (const name of ['nope', 'off', 'Not_A-Valid.Name', 'x'.repeat(64), '2024']) {
      const res = await hook(h.app, name);
      expect({ name, status: res.status, body: res.body as unknown, type: res.headers['content-type'] }).toEqual({
        name,
        status: bad.status,
        body: bad.body as unknown,
        type: bad.headers['content-type'],
      });
    }
    // And the known source with the right token still gets in.
    expect((await hook(h.app, 'rmm')).status).toBe(202);
  });

  it('item 3: an oversized body to an unknown source gets the 413 a real source gives (same cap, nothing buffered)', async () => {
    const big = { ...alert('big'), message: 'x'.repeat(h.deps.config.HUB_MAX_BODY_BYTES + 10) };
    const real = await hook(h.app, 'rmm', TOKEN, big);
    const unknown = await hook(h.app, 'no-such-source', TOKEN, big);
    expect(real.status).toBe(413);
    expect({ status: unknown.status, body: unknown.body as unknown }).toEqual({ status: real.status, body: real.body as unknown });
  });

  it('item 3: 2,000 distinct unknown names run no per-name query and leave no cache entry', async () => {
    const cache = sourceCacheOf(h);
    const names = Array.from({ length: 2000 }, (_, i) => `flood-${i}-${Math.random().toString(36).slice(2, 10)}`);
    const statements = await countQueries(async () => {
      for (let i = 0; i < names.length; i += 100) {
        const answers = await Promise.all(names.slice(i, i + 100).map((n) => hook(h.app, n, TOKEN, {})));
        expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
      }
    });
    // At most the shared refresh of the name set (one `select name` per HUB_SOURCE_REFRESH_MS); today's main ran one per name.
    const elapsedRefreshes = 1 + 30; // generous: the loop takes far less than 30 refresh periods even on a loaded machine
    expect(statements).toBeLessThanOrEqual(elapsedRefreshes);
    expect(cache.size).toBeLessThanOrEqual(3);
  });

  it('item 3: concurrent requests for one real source share one lookup', async () => {
    const cache = sourceCacheOf(h);
    cache.invalidate('rmm');
    const lookups = await countQueries(
      async () => {
        const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => hook(h.app, 'rmm', 'wrong-token-wrong-token-0000', alert(`c${i}`))));
        expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
      },
      (sql) => /from "sources" where "name" = (\?|\$1)/.test(sql),
    );
    expect(lookups).toBe(1);
  });

  it('item 3: the cache of decrypted sources is capped (LRU, HUB_SOURCE_CACHE_MAX)', async () => {
    const key = h.deps.config.HUB_SECRET_KEY;
    const cache = new SourceCache(h.db, key, { max: 3, ttlMs: 60_000 });
    for (let i = 0; i < 6; i++) await createSource(h.db, key, { name: `capped-${i}`, plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    for (let i = 0; i < 6; i++) expect((await cache.get(`capped-${i}`))?.row.name).toBe(`capped-${i}`);
    expect(cache.size).toBe(3);
  });

  it('item 3: a source created through this process works at once; one created through another within HUB_SOURCE_REFRESH_MS', async () => {
    // Warm this process's name set, so that the new names below are not in it.
    expect((await hook(h.app, 'made-here')).status).toBe(401);
    expect((await hook(h.app, 'made-elsewhere')).status).toBe(401);

    const created = await request(h.app).post('/api/v1/sources').set('Authorization', h.admin).send({ name: 'made-here', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    expect(created.status).toBe(201);
    expect((await hook(h.app, 'made-here', TOKEN, alert('here'))).status).toBe(202);

    // Another API process: its own app and source cache on the same database.
    const other = createApp({ ...h.deps, logger: createLogger('silent'), services: {} });
    const elsewhere = await request(other).post('/api/v1/sources').set('Authorization', h.admin).send({ name: 'made-elsewhere', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    expect(elsewhere.status).toBe(201);
    const start = Date.now();
    let status = 0;
    while (Date.now() - start < REFRESH_MS * 10) {
      status = (await hook(h.app, 'made-elsewhere', TOKEN, alert(`else-${Date.now()}`))).status;
      if (status === 202) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(202);
    // Within the refresh period plus one request's time (a loaded machine gets a second of slack).
    expect(Date.now() - start).toBeLessThan(REFRESH_MS + 1000);
  });
});

describe('issue 13 item 3: bodies and admin requests', () => {
  it('item 3: an endless chunked body gets 413 and its connection is closed, not drained', async () => {
    const server = http.createServer(h.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const outcome = await new Promise<{ head: string; closed: boolean; sentBytes: number }>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        let head = '';
        let sentBytes = 0;
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
        // Keeps sending for as long as the server lets it: a body without end.
        const pump = setInterval(() => {
          if (socket.writable) {
            socket.write(frame);
            sentBytes += chunk.length;
          }
        }, 2);
        const giveUp = setTimeout(() => finish(false), 10_000);
        const finish = (closed: boolean) => {
          clearInterval(pump);
          clearTimeout(giveUp);
          socket.destroy();
          resolve({ head, closed, sentBytes });
        };
        socket.on('data', (d: Buffer) => {
          head += d.toString('latin1');
        });
        socket.on('close', () => finish(true));
        socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server closed: expected
        socket.on('connect', () => {
          socket.write(
            `POST /hooks/rmm HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
          );
        });
        socket.on('timeout', () => reject(new Error('socket timeout')));
      });
      expect(outcome.head).toMatch(/^HTTP\/1\.1 413 /);
      expect(outcome.head.toLowerCase()).toContain('connection: close');
      expect(outcome.closed).toBe(true);
      // Closed soon after the cap, not after the client gave up streaming (10 s of 64 KiB every 2 ms).
      expect(outcome.sentBytes).toBeLessThan(h.deps.config.HUB_MAX_BODY_BYTES * 64);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('item 3: admin JSON bodies are parsed only after authentication', async () => {
    const noToken = await request(h.app).post('/api/v1/companies').set('Content-Type', 'application/json').send('{"not json');
    expect(noToken.status).toBe(401);
    const badToken = await request(h.app).post('/api/v1/companies').set('Authorization', 'Bearer not-a-real-token-00000000000').set('Content-Type', 'application/json').send('{"not json');
    expect(badToken.status).toBe(401);
    // Authenticated, the same body is parsed and refused as JSON.
    const admin = await request(h.app).post('/api/v1/companies').set('Authorization', h.admin).set('Content-Type', 'application/json').send('{"not json');
    expect(admin.status).toBe(400);
    expect(admin.body.error.code).toBe('INVALID_JSON');
  });
});

describe('issue 13 item 3: rate limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({ env: { HUB_API_RATE_LIMIT_PER_MINUTE: '5', HUB_LOGIN_RATE_LIMIT_PER_MINUTE: '3' } });
  }, 30_000);
  afterAll(async () => limited?.close());

  it('item 3: /api/v1 answers 429 with Retry-After past the per-token limit; another token keeps its own budget', async () => {
    const get = (auth: string) => request(limited.app).get('/api/v1/companies').set('Authorization', auth);
    for (let i = 0; i < 5; i++) expect((await get(limited.admin)).status).toBe(200);
    const over = await get(limited.admin);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // A second token is not slowed down by the first one's use.
    const other = await issueToken(limited.db, { name: 'second', role: 'viewer', scope: ALL_COMPANIES, actor: 'test' });
    expect((await get(`Bearer ${other.token}`)).status).toBe(200);
  });

  it('item 3: /admin/login answers 429 with Retry-After past the per-address limit', async () => {
    const login = () => request(limited.app).post('/admin/login').type('form').send({ token: 'wrong-token-wrong-token-000000' });
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(401);
    const over = await login();
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
