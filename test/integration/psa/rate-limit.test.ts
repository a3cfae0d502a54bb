import request from 'supertest';
import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';

/**
 * Issue 16: a connection's rate limit counts PSA calls (every HTTP request), not delivery runs.
 * `rateLimitPerHour: 120` is 2 calls a minute; an Autotask create is 2 calls (POST /Tickets, then
 * POST /Tickets/query for the run's ticket numbers; `baseUrl` configured, so no zone lookup). The second
 * ticket's create waits for the next minute — with one point per run it would have gone out as the
 * second run. (The test does not wait for that minute.)
 */
const TOKEN = 'generic-source-token-0123456789';
let fake: FakeAutotask;
let h: TestHub;
let db: Knex;

const alert = (id: string) => ({ alertId: id, state: 'firing', severity: 'high', category: 'disk', title: `${id} disk full`, device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' });
const post = (body: unknown) => request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const deliveryOf = (alertId: string) =>
  waitFor(async () => db('psa_deliveries as d').join('tickets as t', 't.id', 'd.ticket_id').where('t.dedup_key', 'like', `%${alertId}%`).select('d.*').first(), 20_000, `delivery of ${alertId}`);

beforeAll(async () => {
  fake = await startFakeAutotask();
  h = await startTestHub({ env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '200', HUB_PSA_SWEEP_MS: '500' } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  const world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  expect((await request(h.url).post('/api/v1/psa-connections').set('Authorization', ADMIN).send({ name: 'autotask', type: 'autotask', config: { ...fake.credentials, baseUrl: fake.baseUrl }, rateLimitPerHour: 120 })).status).toBe(201);
  await db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683' }) });
}, 30_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

it('counts every PSA call: one create (2 calls) uses up 2 calls a minute; the next create waits, nothing sent', async () => {
  await post(alert('first'));
  const d1 = await deliveryOf('first');
  await waitFor(async () => (await db('psa_deliveries').where({ id: d1.id }).first()).state === 'delivered', 20_000, 'first delivered');
  expect(fake.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /Tickets', 'POST /Tickets/query']);

  await post(alert('second'));
  const d2 = await deliveryOf('second');
  // The run was taken and stopped before its first call: pending, the reason recorded, nothing sent.
  const row = await waitFor(async () => {
    const r = await db('psa_deliveries').where({ id: d2.id }).first();
    return r.last_error?.includes('PSA rate limit') ? r : undefined;
  }, 20_000, 'the run to hit the limit');
  expect(row.state).toBe('pending');
  expect(fake.calls).toHaveLength(2);
  expect(fake.tickets).toHaveLength(1);
  // Not a PSA failure: the breaker stays closed.
  expect((await request(h.url).get('/metrics')).text).not.toMatch(/hub_psa_breaker_open\{connection="autotask"\} 1/);
});
