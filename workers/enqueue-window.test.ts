import { EnqueueWindow } from './enqueue-window';

/** Flushes of `receipts` every `everyMs`, `times` times, from t = 0. */
function steady(w: EnqueueWindow, receipts: number, everyMs: number, times: number, start = 0): number {
  let t = start;
  for (let i = 0; i < times; i++) {
    t += everyMs;
    w.flushed(receipts, t);
  }
  return t;
}

describe('EnqueueWindow (issue 19: fewer, larger jobs under load)', () => {
  it('starts at the minimum', () => {
    expect(new EnqueueWindow().ms()).toBe(3);
  });

  it.each([
    // [receipts per flush, ms between flushes, window]
    [1, 1000, 3], // 1 receipt a second: waiting gains nothing
    [1, 10, 3], // 100/s: less than one receipt per 3 ms
    [10, 15, 50], // ~670/s (one alert per request, group commits of 10): capped at 50 ms
    [100, 10, 10], // 10,000/s: 100 receipts arrive in 10 ms
    [200, 10, 5], // 20,000/s
    [1000, 10, 3], // never below the minimum
  ])('%i receipts every %i ms → %i ms', (receipts, everyMs, window) => {
    const w = new EnqueueWindow();
    steady(w, receipts, everyMs, 20);
    expect(w.ms()).toBeCloseTo(window, 5);
  });

  it('narrows again within a few flushes once the load stops', () => {
    const w = new EnqueueWindow();
    const t = steady(w, 10, 15, 20);
    expect(w.ms()).toBe(50);
    steady(w, 1, 2000, 3, t);
    expect(w.ms()).toBe(3);
  });

  it('honours its options', () => {
    const w = new EnqueueWindow({ minMs: 2, maxMs: 20, targetReceipts: 10 });
    steady(w, 10, 15, 20);
    expect(w.ms()).toBe(15);
  });
});
