import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisConnection } from '../lib/redis';

/**
 * The rate limit of one PSA connection (issue 16 item 3): every HTTP call to the PSA takes one point
 * (rate-limiter-flexible in Redis, shared by every worker process; `perHour` spread over fixed
 * minutes). A delivery run may take its expected calls ahead in one Redis command ({@link prepay});
 * its calls then use those, and what it did not call is given back ({@link refund}) — one or two
 * Redis commands a run instead of one a call, every call still counted once.
 */
export class CallBudgetSpent extends Error {
  /**
   * The connection's rate limit has no call left in this window: thrown before the HTTP request, so
   * nothing was sent. What the run sent before stays saved (the PSA id is committed at once); the
   * rest goes in the next run.
   */
  constructor(readonly waitMs: number) {
    super(`PSA rate limit: no call left in this minute (next in ${Math.ceil(waitMs)} ms)`);
  }
}

export class PsaCallBudget {
  private readonly limiter: RateLimiterRedis;
  /**
   * Calls taken ahead and not made yet, shared by the process's concurrent runs of the connection
   * (a call takes one before asking Redis), and when the window they were taken in ends: after it
   * they are void, neither used nor given back (their points were spent in that window).
   */
  private prepaid = 0;
  private prepaidUntil = 0;

  constructor(
    private readonly key: string,
    opts: { redis: RedisConnection; keyPrefix: string; perHour: number },
    private readonly clock: () => number = Date.now,
  ) {
    this.limiter = new RateLimiterRedis({ storeClient: opts.redis, keyPrefix: opts.keyPrefix, points: Math.max(1, Math.floor(opts.perHour / 60)), duration: 60 });
  }

  /** Before every HTTP call: a prepaid call, or one point now; {@link CallBudgetSpent} when the window has none left. */
  async beforeCall(): Promise<void> {
    if (this.prepaid > 0 && this.clock() < this.prepaidUntil) {
      this.prepaid--;
      return;
    }
    this.prepaid = 0;
    try {
      await this.limiter.consume(this.key, 1);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw new CallBudgetSpent(e.msBeforeNext);
      throw e;
    }
  }

  /**
   * Takes a run's `n` expected calls in one command; without room for all of them nothing is taken
   * and its calls are counted one by one. Returns how many were taken.
   */
  async prepay(n: number): Promise<number> {
    if (n < 2) return 0;
    try {
      const res = await this.limiter.consume(this.key, n);
      if (this.clock() >= this.prepaidUntil) this.prepaid = 0;
      this.prepaid += n;
      this.prepaidUntil = this.clock() + res.msBeforeNext;
      return n;
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      // A refused consume counted its points all the same: given back, so the window holds only calls.
      await this.limiter.reward(this.key, n).catch(() => undefined);
      return 0;
    }
  }

  /**
   * Gives back what a run took ahead and did not call (a lookup that found the ticket, a run that
   * stopped): never more than is still prepaid, so every call made stays counted even when
   * concurrent runs used each other's calls; never into a later window (it would let that window
   * take more calls than its budget).
   */
  async refund(unused: number): Promise<void> {
    const n = Math.min(unused, this.prepaid);
    if (n <= 0) return;
    this.prepaid -= n;
    if (this.clock() > this.prepaidUntil - 200) return;
    await this.limiter.reward(this.key, n).catch(() => undefined);
  }
}
