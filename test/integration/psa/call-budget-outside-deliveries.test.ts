import request from 'supertest';
import { createRedis, type RedisConnection } from '../../../lib/redis';
import { psaCallBudgetFor } from '../../../main/psa-call-budget';
import { SlidingCallBudget } from '../../../workers/psa-rate-limit';
import { createTestApp, type TestApp } from '../../helpers/app';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';

/**
 * Issue 16 item 3 (the connection's rate limit): Autotask counts every request of an integration, so
 * the calls made outside the delivery runs — the connection test, the reference import and the
 * webhook registration, through the API as through the CLI (main/psa-call-budget.ts) — take their
 * slots from the same sliding window as the deliveries. Before, they went around it: a large import
 * could spend the hour's budget the deliveries counted on, or push the account over its limit.
 */
let a: TestApp;
let fake: FakeAutotask;
let redis: RedisConnection;
/** The window the delivery worker takes from (same prefix, same connection, 3 calls a minute). */
let deliveries: SlidingCallBudget;

const api = () => request(a.app);
const key = () => `${a.deps.config.HUB_QUEUE_PREFIX}:psa-calls:{at}`;

beforeAll(async () => {
  a = await createTestApp();
  redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  // What main/start.ts gives the API, with a short wait so a spent window answers at once.
  a.deps.services.psaCallBudget = psaCallBudgetFor(redis, a.deps.config, { maxWaitMs: 300, retryHint: 'try again in a minute' });
  deliveries = new SlidingCallBudget(redis, { prefix: a.deps.config.HUB_QUEUE_PREFIX, limit: 3 });
  fake = await startFakeAutotask();
  const res = await api()
    .post('/api/v1/psa-connections')
    .set('Authorization', a.admin)
    .send({ name: 'at', type: 'autotask', enabled: true, config: { ...fake.credentials, baseUrl: fake.baseUrl }, rateLimitPerHour: 180 });
  expect(res.status).toBe(201);
});
beforeEach(async () => {
  await redis.del(key());
  fake.calls.length = 0;
});
afterAll(async () => {
  await fake.close();
  await redis.quit();
  await a.close();
});

it('the connection test takes its calls from the connection’s window', async () => {
  const res = await api().post('/api/v1/psa-connections/at/test').set('Authorization', a.admin);
  expect(res.status).toBe(200);
  expect(res.body.ok).toBe(true);
  expect(fake.calls.length).toBeGreaterThan(0);
  // Every call the PSA saw holds a slot of the window the deliveries take from.
  expect(await redis.zcard(key())).toBe(fake.calls.length);
});

it('with the window spent by deliveries, the test says so and calls nothing', async () => {
  expect([await deliveries.take('at'), await deliveries.take('at'), await deliveries.take('at')]).toEqual([0, 0, 0]);
  const res = await api().post('/api/v1/psa-connections/at/test').set('Authorization', a.admin);
  expect(res.status).toBe(200);
  expect(res.body.ok).toBe(false);
  expect(JSON.stringify(res.body.checks)).toMatch(/PSA rate limit: no call left for at within 0 s \(try again in a minute\)/);
  expect(fake.calls).toHaveLength(0);
});

it('with the window spent, an import is refused with 503 and the reason before any call; with room it takes its calls from the window', async () => {
  expect([await deliveries.take('at'), await deliveries.take('at'), await deliveries.take('at')]).toEqual([0, 0, 0]);
  const refused = await api().post('/api/v1/psa-connections/at/import').set('Authorization', a.admin).send({ dryRun: true });
  expect(refused.status).toBe(503);
  expect(refused.body.error.message).toMatch(/PSA rate limit: no call left for at/);
  expect(fake.calls).toHaveLength(0);

  // A window of room for every list the import reads (companies, SLAs, services, contracts, items: one page each here).
  await redis.del(key());
  a.deps.services.psaCallBudget = psaCallBudgetFor(redis, { ...a.deps.config, HUB_PSA_AUTOTASK_RATE_PER_HOUR: 6_000 }, { maxWaitMs: 300 });
  await api().patch('/api/v1/psa-connections/at').set('Authorization', a.admin).send({ rateLimitPerHour: null }).expect(200);
  const ok = await api().post('/api/v1/psa-connections/at/import').set('Authorization', a.admin).send({ dryRun: true });
  expect(ok.status).toBe(200);
  expect(fake.calls.length).toBeGreaterThan(0);
  expect(await redis.zcard(key())).toBe(fake.calls.length);
});

it('the webhook registration takes its calls from the window too', async () => {
  const res = await api().post('/api/v1/psa-connections/at/webhook').set('Authorization', a.admin).send({ url: 'https://hub.example.com' });
  expect(res.status).toBeLessThan(300);
  expect(fake.calls.length).toBeGreaterThan(0);
  expect(await redis.zcard(key())).toBe(fake.calls.length);
});
