import request from 'supertest';
import type { Knex } from 'knex';
import { Queue } from 'bullmq';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';
import { psaDeliveryCatalog } from '../../../workers/catalog';
import { createConnection } from '../../../app/psa/connections';
import { parseEnv } from '../../../config/env';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createRedis, type RedisConnection } from '../../../lib/redis';

/**
 * Issue 16 item 3 (the outbox's cost at the rate limit): while a connection's queue is paused — its
 * call budget spent, a `Retry-After`, the breaker open — the tickets made meanwhile get their delivery
 * rows but no BullMQ job each (every such job could only wait, and adding it was the largest cost of
 * recording a delivery after the row). When the pause ends, the worker that paused enqueues the
 * connection's pending deliveries, and they are delivered once each.
 *
 * The pause here is the PSA's `429` with `Retry-After: 2`. The sweep is set to 10 minutes, so only the
 * enqueue at the pause's end can deliver the tickets posted during it: with the same priority as the
 * paused run's, that run does not take them along. Before this change each of them had a job in the
 * queue (the first assertion fails).
 */
const TOKEN = 'generic-source-token-0123456789';
let fake: FakeAutotask;
let t: TestDatabase;
let h: TestHub;
let db: Knex;
let redis: RedisConnection;
let queue: Queue;

const alert = (id: string) => ({ alertId: id, state: 'firing', severity: 'high', category: 'disk', title: `${id} disk full`, device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' });
const post = (body: unknown) => request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const deliveryOf = (alertId: string) =>
  waitFor(async () => db('psa_deliveries as d').join('tickets as t', 't.id', 'd.ticket_id').where('t.dedup_key', 'like', `%${alertId}%`).select('d.*').first(), 20_000, `delivery of ${alertId}`);

/** Every delivery id some job of the connection's queue carries (waiting, prioritized, delayed, active). */
async function idsWithJobs(): Promise<Set<string>> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'wait', 'waiting-children']);
  const ids = new Set<string>();
  for (const j of jobs) {
    const data = j.data as { deliveryId: string; more?: string[] };
    for (const id of [data.deliveryId, ...(data.more ?? [])]) ids.add(String(id));
  }
  return ids;
}

beforeAll(async () => {
  fake = await startFakeAutotask();
  // The connection exists before the hub starts: its worker starts with the hub, not at a sweep.
  t = await createTestDatabase();
  const config = parseEnv({ ...process.env, DATABASE_URL: t.url });
  await createSource(t.db, config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  const world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  await t.db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683' }) });
  await t.db.transaction((trx) => createConnection(trx, { name: 'autotask', type: 'autotask', enabled: true, config: { ...fake.credentials, baseUrl: fake.baseUrl } }, config.HUB_SECRET_KEYS));
  h = await startTestHub({ t, env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '200', HUB_PSA_SWEEP_MS: '600000' } });
  db = t.db;
  redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  queue = new Queue(psaDeliveryCatalog.queueOf('autotask'), { connection: redis, prefix: h.config.HUB_QUEUE_PREFIX });
}, 30_000);
afterAll(async () => {
  await queue?.close();
  await redis?.quit();
  await h?.close();
  await t?.drop();
  await fake?.close();
});

it('tickets made while the queue is paused get no job; the end of the pause enqueues and delivers them once each', async () => {
  // The status poll the worker runs at start (then every 5 minutes) must not take the injected 429.
  await waitFor(async () => fake.calls.some((c) => c.path === '/Tickets/query'), 10_000, 'the start-up status poll');
  fake.failNext(1, 429, 2);
  await post(alert('first'));
  const first = await deliveryOf('first');
  // The 429 paused the queue for 2 s.
  await waitFor(async () => ((await db('psa_deliveries').where({ id: first.id }).first()).last_error ?? '').includes('429'), 10_000, 'the 429');
  const pausedAt = Date.now();

  const later = ['second', 'third', 'fourth'];
  for (const id of later) expect((await post(alert(id))).status).toBe(202);
  const rows = await Promise.all(later.map(deliveryOf));
  // Still inside the pause (the assertions below are about it).
  expect(Date.now() - pausedAt).toBeLessThan(1_800);
  expect(rows.map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
  const withJobs = await idsWithJobs();
  expect(withJobs.has(String(first.id))).toBe(true);
  for (const r of rows) expect(withJobs.has(String(r.id))).toBe(false);

  // After the pause: all four delivered, one PSA ticket each.
  await waitFor(async () => (await db('psa_deliveries').whereIn('id', [first.id, ...rows.map((r) => r.id)]).where({ state: 'delivered' })).length === 4, 20_000, 'all four delivered');
  for (const d of [first, ...rows]) expect(fake.tickets.filter((t) => t.fields.externalID === String(d.ticket_id))).toHaveLength(1);
}, 40_000);
