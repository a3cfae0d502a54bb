import request from 'supertest';
import type { Knex } from 'knex';
import { Queue } from 'bullmq';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';
import { createConnection } from '../../../app/psa/connections';
import { parseEnv } from '../../../config/env';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { psaDeliveryCatalog } from '../../../workers/catalog';
import { createRedis, type RedisConnection } from '../../../lib/redis';

/**
 * Issue 16 item 3, with paused-no-jobs.test.ts: a connection disabled while its queue is paused gets
 * no jobs when the pause ends — the enqueue at the pause's end is for running connections only, as
 * the sweep is (before, the pause's timer filled the disabled connection's queue with jobs nobody runs).
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
  t = await createTestDatabase();
  const config = parseEnv({ ...process.env, DATABASE_URL: t.url });
  await createSource(t.db, config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  const world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  await t.db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683' }) });
  await t.db.transaction((trx) => createConnection(trx, { name: 'autotask', type: 'autotask', enabled: true, config: { ...fake.credentials, baseUrl: fake.baseUrl } }, config.HUB_SECRET_KEYS));
  // A short sweep: the disabling is seen within half a second.
  h = await startTestHub({ t, env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '200', HUB_PSA_SWEEP_MS: '500' } });
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

it('a connection disabled during its pause gets no jobs when the pause ends', async () => {
  await waitFor(async () => fake.calls.some((c) => c.path === '/Tickets/query'), 10_000, 'the start-up status poll');
  fake.failNext(1, 429, 3);
  await post(alert('first'));
  const first = await deliveryOf('first');
  await waitFor(async () => ((await db('psa_deliveries').where({ id: first.id }).first()).last_error ?? '').includes('429'), 10_000, 'the 429');
  const pausedAt = Date.now();
  await post(alert('second'));
  const second = await deliveryOf('second');
  expect((await idsWithJobs()).has(String(second.id))).toBe(false);

  expect((await request(h.url).patch('/api/v1/psa-connections/autotask').set('Authorization', ADMIN).send({ enabled: false })).status).toBe(200);
  // Past the pause's end (3 s) and a sweep: still no job for it, nothing sent.
  await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 4_000 - Date.now())));
  expect((await idsWithJobs()).has(String(second.id))).toBe(false);
  expect((await db('psa_deliveries').where({ id: second.id }).first()).state).toBe('pending');
  expect(fake.tickets.filter((x) => x.fields.externalID === String(second.ticket_id))).toHaveLength(0);
}, 40_000);
