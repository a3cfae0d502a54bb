/**
 * A token bucket per source, in process: `ratePerSecond` sustained, bursts up to one second's
 * worth. With several API processes each enforces its own share (documented in the README).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes `cost` tokens; returns 0 when allowed, else the seconds to wait. */
  take(key: string, ratePerSecond: number, cost: number, nowMs: number): number {
    const b = this.buckets.get(key) ?? { tokens: ratePerSecond, at: nowMs };
    b.tokens = Math.min(ratePerSecond, b.tokens + ((nowMs - b.at) / 1000) * ratePerSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - b.tokens) / ratePerSecond));
  }
}
