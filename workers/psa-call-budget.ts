import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../lib/redis';
import { perMinute, SlidingCallBudget } from './psa-rate-limit';

/**
 * The rate limit of one PSA connection as a delivery run uses it (issue 16 item 3): every HTTP call
 * to the PSA takes one slot of the connection's sliding window (psa-rate-limit.ts, in Redis, shared by
 * every worker process; `perHour` spread per minute). A run may take its expected calls ahead in one
 * Redis command ({@link PsaCallBudget.prepay}); its calls then use those slots, and what it did not
 * call is given back ({@link PsaCallBudget.refund}) — one or two Redis commands a run instead of one
 * a call, every call still counted once.
 *
 * A slot stands for a request at the time it was granted; a request sent much later would not be
 * where the window counted it. So a slot taken ahead is used only within `marginMs` of its grant
 * (the slack the window already keeps for grant-to-arrival delays); after that the run's remaining
 * slots are given back and its next calls take their slot one by one.
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
  private readonly window: SlidingCallBudget;
  private readonly marginMs: number;
  /**
   * Slots taken ahead and not used yet, oldest first, shared by the process's concurrent runs of the
   * connection (a call takes one before asking Redis), each usable until its own `until`.
   */
  private prepaid: Array<{ member: string; until: number }> = [];

  constructor(
    private readonly name: string,
    opts: { redis: RedisConnection; prefix: string; perHour: number; windowMs?: number; marginMs?: number },
    private readonly clock: () => number = Date.now,
  ) {
    this.marginMs = opts.marginMs ?? 1_000;
    this.window = new SlidingCallBudget(opts.redis, {
      prefix: opts.prefix,
      limit: perMinute(opts.perHour),
      marginMs: this.marginMs,
      ...(opts.windowMs === undefined ? {} : { windowMs: opts.windowMs }),
    });
  }

  /** Before every HTTP call: a slot taken ahead, or one slot now; {@link CallBudgetSpent} when the window has none free. */
  async beforeCall(): Promise<void> {
    await this.giveBackStale();
    if (this.prepaid.shift() !== undefined) return;
    const wait = await this.window.take(this.name);
    if (wait !== 0) throw new CallBudgetSpent(wait);
  }

  /**
   * Takes a run's `n` expected calls in one command; without room for all of them nothing is taken
   * and its calls are counted one by one. Returns how many were taken.
   */
  async prepay(n: number): Promise<number> {
    if (n < 2) return 0;
    await this.giveBackStale();
    const members = Array.from({ length: n }, () => randomUUID());
    if ((await this.window.takeMany(this.name, members)) !== 0) return 0;
    const until = this.clock() + this.marginMs;
    this.prepaid.push(...members.map((member) => ({ member, until })));
    return n;
  }

  /**
   * Gives back what a run took ahead and did not call (a lookup that found the ticket, a run that
   * stopped): never more than is still prepaid, so every call made stays counted even when
   * concurrent runs used each other's slots.
   */
  async refund(unused: number): Promise<void> {
    const n = Math.min(unused, this.prepaid.length);
    if (n <= 0) return;
    const members = this.prepaid.splice(this.prepaid.length - n, n).map((p) => p.member);
    await this.window.giveBack(this.name, members).catch(() => undefined);
  }

  /** Slots taken ahead that were not used in time: they stood for no request, so they leave the window. */
  private async giveBackStale(): Promise<void> {
    const now = this.clock();
    const firstFresh = this.prepaid.findIndex((p) => p.until > now);
    const expired = this.prepaid.splice(0, firstFresh === -1 ? this.prepaid.length : firstFresh).map((p) => p.member);
    if (expired.length > 0) await this.window.giveBack(this.name, expired).catch(() => undefined);
  }
}
