import { randomUUID } from 'node:crypto';
import { createRedis, type RedisConnection } from '../../../lib/redis';
import { callsPerWindow, SlidingCallBudget, waitingCallBudget } from '../../../workers/psa-rate-limit';

/**
 * Issue 16 (psafix item 1): a PSA connection's call budget holds in ANY window of its length, across
 * worker processes sharing Redis (workers/psa-rate-limit.ts), on the real Redis. Short windows keep
 * the test quick; production uses 60 s. The fixed-window limiter this replaced fails the second
 * test: its window restarts with the first call after it expired, granting a full budget again while
 * the calls of the last moments of the previous window still count in the sliding one.
 */
const WINDOW = 2_000;
let a: RedisConnection;
let b: RedisConnection;
let prefix: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  a = createRedis(url);
  b = createRedis(url);
});
beforeEach(() => {
  prefix = `test-psa-budget-${randomUUID()}`;
});
afterAll(async () => {
  await a?.quit();
  await b?.quit();
});

it('N calls pass, call N+1 waits until the first leaves the window, then passes', async () => {
  const budget = new SlidingCallBudget(a, { prefix, limit: 3, windowMs: WINDOW, marginMs: 0 });
  const started = Date.now();
  expect(await budget.take('autotask')).toBe(0);
  await sleep(400);
  expect([await budget.take('autotask'), await budget.take('autotask')]).toEqual([0, 0]);
  const wait = await budget.take('autotask');
  const elapsed = Date.now() - started;
  // The first call's age is at most `elapsed`: the wait is the rest of its window (about 1.6 s).
  expect(wait).toBeGreaterThanOrEqual(WINDOW - elapsed - 5);
  expect(wait).toBeLessThanOrEqual(WINDOW - 400 + 5);
  // Refused calls take nothing: asking again gives the same (shorter) wait, not a longer one.
  expect(await budget.take('autotask')).toBeLessThanOrEqual(wait);
  await sleep(wait + 20);
  // The first call left the window; the two of +400 ms have not: one call, then a wait of about 0.4 s.
  expect(await budget.take('autotask')).toBe(0);
  const again = await budget.take('autotask');
  expect(again).toBeGreaterThan(0);
  expect(again).toBeLessThanOrEqual(400 + 5);
});

it('holds in a sliding window: a burst late in one window leaves only what the window still allows', async () => {
  const budget = new SlidingCallBudget(a, { prefix, limit: 4, windowMs: WINDOW, marginMs: 0 });
  const t0 = Date.now();
  expect(await budget.take('autotask')).toBe(0);
  await sleep(1_500);
  // Late in the first window: three more, the budget is spent.
  expect([await budget.take('autotask'), await budget.take('autotask'), await budget.take('autotask')]).toEqual([0, 0, 0]);
  const spent = await budget.take('autotask');
  expect(spent).toBeGreaterThan(0);
  expect(spent).toBeLessThanOrEqual(WINDOW - 1_500 + 50);
  // Just past the first call's window: only that one call is free again (a fixed window would grant 4).
  await sleep(Math.max(0, t0 + WINDOW + 100 - Date.now()));
  const burst = [await budget.take('autotask'), await budget.take('autotask'), await budget.take('autotask'), await budget.take('autotask')];
  expect(burst.filter((w) => w === 0)).toHaveLength(1);
  // The next one waits for the three calls of t0 + 1.5 s to leave: about 1.4 s from now, never 0.
  const next = burst[1]!;
  expect(next).toBeGreaterThan(WINDOW - 1_500 - 800);
  expect(next).toBeLessThanOrEqual(WINDOW);
});

it('two limiters on two connections (two worker processes) share one budget, even when racing', async () => {
  const inA = new SlidingCallBudget(a, { prefix, limit: 5, windowMs: WINDOW, marginMs: 0 });
  const inB = new SlidingCallBudget(b, { prefix, limit: 5, windowMs: WINDOW, marginMs: 0 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? inA : inB).take('autotask')));
  expect(results.filter((w) => w === 0)).toHaveLength(5);
  expect(results.filter((w) => w > 0)).toHaveLength(15);
  expect(await inA.take('autotask')).toBeGreaterThan(0);
  expect(await inB.take('autotask')).toBeGreaterThan(0);
});

it('connections and hubs (queue prefixes) have budgets of their own', async () => {
  const budget = new SlidingCallBudget(a, { prefix, limit: 1, windowMs: WINDOW, marginMs: 0 });
  const otherHub = new SlidingCallBudget(a, { prefix: `${prefix}-other`, limit: 1, windowMs: WINDOW, marginMs: 0 });
  expect(await budget.take('autotask')).toBe(0);
  expect(await budget.take('autotask')).toBeGreaterThan(0);
  expect(await budget.take('connectwise')).toBe(0);
  expect(await otherHub.take('autotask')).toBe(0);
});

it('a granted call holds its slot the margin longer than the window (the PSA sees requests a little after the grant)', async () => {
  const budget = new SlidingCallBudget(a, { prefix, limit: 1, windowMs: WINDOW });
  expect(await budget.take('autotask')).toBe(0);
  const wait = await budget.take('autotask');
  expect(wait).toBeGreaterThan(WINDOW);
  expect(wait).toBeLessThanOrEqual(WINDOW + 1_000);
});

it('a caller that may wait (the status poll) sleeps until its call is free, up to its limit', async () => {
  const take = waitingCallBudget(a, prefix, 'autotask', 1, 3_000, 500)!;
  const started = Date.now();
  await take();
  await take();
  // The second call waited for the first to leave the window (0.5 s) plus the margin (1 s).
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  const impatient = waitingCallBudget(a, prefix, 'autotask', 1, 100, 500)!;
  await expect(impatient()).rejects.toThrow(/PSA rate limit: no call left for autotask/);
  expect(waitingCallBudget(a, prefix, 'relay', null)).toBeUndefined();
});

it('the budget per window: rateLimitPerHour, else the Autotask default, spread per minute; none for other types', () => {
  expect(callsPerWindow({ type: 'autotask', rate_limit_per_hour: null }, 5_000)).toBe(83);
  expect(callsPerWindow({ type: 'autotask', rate_limit_per_hour: 120 }, 5_000)).toBe(2);
  expect(callsPerWindow({ type: 'connectwise', rate_limit_per_hour: 30 }, 5_000)).toBe(1);
  expect(callsPerWindow({ type: 'webhook', rate_limit_per_hour: null }, 5_000)).toBeNull();
});

it('refuses a budget that is not a whole number of calls', () => {
  expect(() => new SlidingCallBudget(a, { prefix, limit: 0 })).toThrow(/limit/);
  expect(() => new SlidingCallBudget(a, { prefix, limit: 2.5 })).toThrow(/limit/);
});
