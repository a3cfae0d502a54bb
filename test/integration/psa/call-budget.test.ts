import { createRedis, type RedisConnection } from '../../../lib/redis';
import { CallBudgetSpent, PsaCallBudget } from '../../../workers/psa-call-budget';
import { testQueuePrefix } from '../../helpers/harness';

/**
 * The PSA rate limit on the real Redis (workers/psa-call-budget.ts over the sliding window of
 * psa-rate-limit.ts): a delivery run takes its expected calls ahead in one command and gives back what
 * it did not call; every call made stays counted, a refused reservation takes nothing, no call goes
 * out past the window's budget, and a slot taken ahead is not used long after its grant.
 */
let redis: RedisConnection;
const budgetOf = (perHour: number, clock?: () => number) => new PsaCallBudget('conn', { redis, prefix: testQueuePrefix(), perHour }, clock);
/** Calls until the budget refuses one (at most `max`). */
async function callsLeft(b: PsaCallBudget, max = 20): Promise<number> {
  for (let i = 0; i < max; i++) {
    try {
      await b.beforeCall();
    } catch (e) {
      expect(e).toBeInstanceOf(CallBudgetSpent);
      return i;
    }
  }
  return max;
}

beforeAll(() => {
  redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  redis.disconnect();
});

it('a run takes 4 of 6 calls a minute ahead, makes 3, gives 1 back: 3 calls are left for others', async () => {
  const b = budgetOf(360);
  expect(await b.prepay(4)).toBe(4);
  for (let i = 0; i < 3; i++) await b.beforeCall();
  await b.refund(1);
  expect(await callsLeft(b)).toBe(3);
});

it('a reservation larger than what is left takes nothing: the calls are then counted one by one up to the budget', async () => {
  const b = budgetOf(360);
  await b.beforeCall();
  await b.beforeCall();
  expect(await b.prepay(5)).toBe(0);
  expect(await callsLeft(b)).toBe(4);
});

it('never gives back more than is still prepaid (a concurrent run used the calls)', async () => {
  const b = budgetOf(360);
  expect(await b.prepay(3)).toBe(3);
  // Two runs share the prepaid calls: this one made none, the other made three.
  for (let i = 0; i < 3; i++) await b.beforeCall();
  await b.refund(3);
  expect(await callsLeft(b)).toBe(3);
});

it('slots taken ahead and not used within the margin are given back, and the late calls take their own slot', async () => {
  let now = Date.now();
  const b = budgetOf(360, () => now);
  expect(await b.prepay(4)).toBe(4);
  await b.beforeCall();
  // Later than the margin after the grant: the 3 unused slots stood for no request and leave the
  // window; this call takes a slot of its own (1 + 1 of 6 used).
  now += 5_000;
  await b.beforeCall();
  expect(await callsLeft(b)).toBe(4);
});

it('the window is sliding: 6 calls a minute in any 60 s, not 6 more at the start of the next clock minute', async () => {
  const b = new PsaCallBudget('slide', { redis, prefix: testQueuePrefix(), perHour: 360, windowMs: 1_500, marginMs: 0 });
  expect(await b.prepay(6)).toBe(6);
  for (let i = 0; i < 6; i++) await b.beforeCall();
  await expect(b.beforeCall()).rejects.toBeInstanceOf(CallBudgetSpent);
  await new Promise((r) => setTimeout(r, 1_600));
  expect(await callsLeft(b)).toBe(6);
});

it('each slot taken ahead keeps its own deadline: a later reservation does not extend an earlier one', async () => {
  let now = Date.now();
  const prefix = testQueuePrefix();
  const b = new PsaCallBudget('own-deadline', { redis, prefix, perHour: 360 }, () => now);
  expect(await b.prepay(2)).toBe(2);
  now += 800;
  expect(await b.prepay(2)).toBe(2);
  // 1.2 s after the first reservation, 0.4 s after the second: the first two are stale and go back,
  // the call uses one of the second two.
  now += 400;
  await b.beforeCall();
  expect(await redis.zcard(`${prefix}:psa-calls:{own-deadline}`)).toBe(2);
});
