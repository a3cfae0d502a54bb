import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import { PsaError } from '../connectors';
import type { RedisConnection } from '../lib/redis';

/**
 * A PSA connection's call budget over a **sliding** window, shared by every worker process through
 * Redis (issue 16, "per-connection rate limit, well under the PSA's hourly threshold").
 *
 * Why not fixed windows (rate-limiter-flexible, what this replaces): a full budget at the end of one
 * minute and another at the start of the next let ~2× the budget through in 60 s (the benchmark saw
 * 124 calls against 83 a minute). Here every granted call is a member of a sorted set scored with
 * its time; a call is granted only while fewer than `limit` members lie in the last `windowMs`, so
 * ANY window of that length holds at most `limit` calls (and an hour at most 60 × that).
 *
 * One Lua script does the check and the take atomically (no two processes can both take the last
 * call), with Redis's own clock (TIME), so worker processes on machines whose clocks differ agree on
 * the window. A refused call is told how long until the oldest call that blocks it leaves the
 * window — the wait the delivery queue pauses for. Memory: at most `limit` members per connection,
 * expiring with the window.
 *
 * The PSA counts requests when they arrive, a little after the grant (the worker's event loop, the
 * connection): a waiting worker is granted the moment a slot frees, so without slack two calls granted
 * 60 s apart can arrive 59.9 s apart. A granted call therefore holds its slot `marginMs` (1 s) longer
 * than the window: the budget holds at the PSA while grant-to-arrival delays differ by less than that.
 * (Measured: the delivery benchmark's stand-in saw 7 calls in a sliding minute against 6 without it.)
 */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    hubPsaTakeCalls(key: string, limit: number, windowMs: number, ...members: string[]): Result<number, Context>;
  }
}

/**
 * KEYS[1] the set; ARGV limit, window (ms), then one unique member per call to take (all or none).
 * Returns 0 (taken), the ms until that many calls are free, or -1 when more are asked than the limit.
 */
const TAKE_CALLS = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = #ARGV - 2
if count > limit then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n + count <= limit then
  for i = 3, #ARGV do redis.call('ZADD', key, now, ARGV[i]) end
  redis.call('PEXPIRE', key, window)
  return 0
end
local blocking = redis.call('ZRANGE', key, n + count - limit - 1, n + count - limit - 1, 'WITHSCORES')
local wait = tonumber(blocking[2]) + window - now
if wait < 1 then wait = 1 end
return wait
`;

export interface CallBudgetOptions {
  /** Calls allowed in any window. */
  limit: number;
  /** The window's length. @defaultValue 60000 */
  windowMs?: number;
  /** How much longer than the window a granted call holds its slot (grant-to-arrival slack). @defaultValue 1000 */
  marginMs?: number;
  /** Key prefix (HUB_QUEUE_PREFIX), so hubs sharing a Redis keep their budgets apart. */
  prefix: string;
}

export class SlidingCallBudget {
  private readonly windowMs: number;
  private readonly limit: number;

  constructor(
    private readonly redis: RedisConnection,
    private readonly opts: CallBudgetOptions,
  ) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error(`call budget: limit must be a whole number ≥ 1, got ${opts.limit}`);
    this.limit = opts.limit;
    this.windowMs = (opts.windowMs ?? 60_000) + (opts.marginMs ?? 1_000);
    // Idempotent: the same script under the same name on a shared connection.
    redis.defineCommand('hubPsaTakeCalls', { numberOfKeys: 1, lua: TAKE_CALLS });
  }

  /**
   * Takes one call of `name`'s budget: 0 when granted, else the milliseconds until one is free
   * (nothing taken).
   */
  async take(name: string): Promise<number> {
    return this.takeMany(name, [randomUUID()]);
  }

  /**
   * Takes one call per member, all or none: 0 when granted, else the milliseconds until that many
   * are free, or -1 when more are asked than the window ever holds (nothing taken either way).
   */
  async takeMany(name: string, members: readonly string[]): Promise<number> {
    return Number(await this.redis.hubPsaTakeCalls(this.keyOf(name), this.limit, this.windowMs, ...members));
  }

  /**
   * Gives back calls taken and not made: their members leave the window. Always safe in a sliding
   * window — a member that stood for no request only blocked others — as long as the call it stood
   * for is never made afterwards.
   */
  async giveBack(name: string, members: readonly string[]): Promise<void> {
    if (members.length > 0) await this.redis.zrem(this.keyOf(name), ...members);
  }

  /** How long a granted call holds its slot (window + margin). */
  get holdMs(): number {
    return this.windowMs;
  }

  /** The braces keep the key in one Redis Cluster slot. */
  private keyOf(name: string): string {
    return `${this.opts.prefix}:psa-calls:{${name}}`;
  }
}

/** A connection's calls per hour: its `rateLimitPerHour`, else the type's default (Autotask: HUB_PSA_AUTOTASK_RATE_PER_HOUR); null = no limit. */
export function ratePerHourOf(row: { type: string; rate_limit_per_hour: number | null }, autotaskPerHour: number): number | null {
  return row.rate_limit_per_hour ?? (row.type === 'autotask' ? autotaskPerHour : null);
}

/** An hourly rate spread per minute (at least one call). */
export const perMinute = (perHour: number): number => Math.max(1, Math.floor(perHour / 60));

/** A connection's calls per window (null = no limit), as the delivery worker reckons it. */
export function callsPerWindow(row: { type: string; rate_limit_per_hour: number | null }, autotaskPerHour: number): number | null {
  const perHour = ratePerHourOf(row, autotaskPerHour);
  return perHour === null ? null : perMinute(perHour);
}

/**
 * Calls outside the delivery runs — the status poll, the reference import, the webhook registration
 * and the connection test — count in the same budget as the deliveries' (Autotask counts them all):
 * each call waits for its slot, but at most `maxWaitMs` in all, then the work fails (a transient
 * PsaError: 503 in the API) with the reason and `retryHint`.
 */
export function waitingCallBudget(
  redis: RedisConnection,
  prefix: string,
  name: string,
  limit: number | null,
  maxWaitMs = 120_000,
  windowMs?: number,
  retryHint = 'the poll runs again at its next interval',
): (() => Promise<void>) | undefined {
  if (limit === null) return undefined;
  const budget = new SlidingCallBudget(redis, { prefix, limit, ...(windowMs === undefined ? {} : { windowMs }) });
  let waited = 0;
  return async () => {
    for (;;) {
      const wait = await budget.take(name);
      if (wait === 0) return;
      if (waited + wait > maxWaitMs) throw new PsaError('transient', `PSA rate limit: no call left for ${name} within ${Math.round(maxWaitMs / 1000)} s (${retryHint})`, { retryAfterMs: wait });
      waited += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
  };
}
