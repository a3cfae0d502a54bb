import request from 'supertest';
import { createSource, seedWorld } from '../../helpers/seed';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { PrivateRedis, freePort } from '../../helpers/redis-server';

const TOKEN = 'generic-source-token-0123456789';

describe('R-ALR-1: Redis down during intake', () => {
  let redis: PrivateRedis;
  let h: TestHub;
  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    h = await startTestHub({ env: { REDIS_URL: redis.url } });
    await createSource(h.t.db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    await seedWorld(h.t.db, { source: 'rmm', site: 'acme-hq' });
  });
  afterAll(async () => {
    await redis.start().catch(() => undefined);
    await h.close();
    await redis.stop();
  });

  it('accepts and stores every alert while Redis is down, and processes each exactly once when it is back', async () => {
    await redis.stop();
    const N = 30;
    const res = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        request(h.url)
          .post('/hooks/rmm')
          .set('Authorization', `Bearer ${TOKEN}`)
          .set('Content-Type', 'application/json')
          .send(
            JSON.stringify({
              alertId: `a-${i}`,
              state: 'firing',
              severity: 'high',
              title: `alert ${i}`,
              device: { id: `d-${i % 5}`, hostname: `host-${i % 5}`, site: 'acme-hq' },
              occurredAt: '2026-05-01T12:00:00Z',
            }),
          ),
      ),
    );
    expect(res.every((r) => r.status === 202)).toBe(true);
    const db = h.t.db;
    expect(await db('alerts').count({ n: '*' }).first()).toEqual({ n: String(N) });
    expect(await db('tickets').count({ n: '*' }).first()).toEqual({ n: '0' });

    await redis.start();
    await waitFor(
      async () => {
        const r = (await db('alert_receipts').whereNull('processed_at').count({ n: '*' }).first()) as { n: string };
        return r.n === '0';
      },
      30_000,
      'outbox drained after Redis came back',
    );
    const rows = (await db('tickets').select('dedup_key', 'occurrences')) as { dedup_key: string; occurrences: number }[];
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.occurrences === 1)).toBe(true);
  });
});
