/**
 * How long the intake holds stored receipts before putting them on the `alerts` queue in one job
 * (issue 19: fewer, larger jobs when load is high). Each job costs the worker its BullMQ round trips
 * (fetch, lock, finish) and, unless it is grouped with others, a transaction of its own; at one
 * alert per request a fixed 3 ms window made a job per group commit (~10 receipts). The window
 * grows with the arrival rate so that a job holds about `targetReceipts`, and stays at its minimum
 * while receipts arrive slower than one per minimum window (waiting would only add latency). The
 * cost is time to ticket — at most `maxMs` more — never the intake's answer, which is sent before.
 */
export interface EnqueueWindowOptions {
  /** @defaultValue 3 */
  minMs?: number;
  /** @defaultValue 50 */
  maxMs?: number;
  /** @defaultValue 100 */
  targetReceipts?: number;
}

export class EnqueueWindow {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly targetReceipts: number;
  /** Receipts per millisecond, a moving average over the flushes. */
  private rate = 0;
  private lastFlushAt: number | undefined;

  constructor(opts: EnqueueWindowOptions = {}) {
    this.minMs = opts.minMs ?? 3;
    this.maxMs = opts.maxMs ?? 50;
    this.targetReceipts = opts.targetReceipts ?? 100;
  }

  /** Records a flush of `receipts` at `nowMs`; the rate is what arrived since the previous flush. */
  flushed(receipts: number, nowMs: number): void {
    if (this.lastFlushAt !== undefined) {
      const sample = receipts / Math.max(1, nowMs - this.lastFlushAt);
      // Half the weight on the newest sample: a burst widens the window within two flushes, a quiet
      // spell (one receipt after seconds) narrows it as fast.
      this.rate = this.rate === 0 ? sample : (this.rate + sample) / 2;
    }
    this.lastFlushAt = nowMs;
  }

  /** Milliseconds to hold the next receipts before one enqueue. */
  ms(): number {
    if (this.rate * this.minMs < 1) return this.minMs;
    return Math.min(this.maxMs, Math.max(this.minMs, this.targetReceipts / this.rate));
  }
}
