import type { Knex } from 'knex';
import type { ReceiptJobs } from '../app/receipts/receipt-jobs';
import { sweepReceipts } from '../app/receipts/sweeper';
import type { Logger } from '../lib/logger';

/**
 * Runs the receipt sweeper (app/receipts/sweeper.ts) every `intervalSeconds`, first shortly after
 * start. Every API and worker process runs one; the sweep is safe concurrently. A sweep that fails
 * (Postgres or Redis down) is logged and simply tried again next time: nothing is claimed then.
 */
export function startReceiptSweeper(
  deps: { db: Knex; jobs: ReceiptJobs; logger: Logger; graceSeconds: number; maxRedrives: number },
  intervalSeconds: number,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = sweepReceipts(deps)
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'receipt sweep failed; tried again at the next interval'))
      .finally(() => {
        running = null;
      });
  };
  const first = setTimeout(tick, Math.min(intervalSeconds, 5) * 1000);
  first.unref();
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
