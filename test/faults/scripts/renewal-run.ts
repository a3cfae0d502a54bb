import { createDb } from '../../../db/connection';
import { createLogger } from '../../../lib/logger';
import { processRenewalJob } from '../../../workers/renewal.worker';

/**
 * One renewal scheduler run in a process of its own (for test/faults/renewal-scheduler.test.ts):
 * `processRenewalJob` on DATABASE_URL with "today" = RENEWAL_DAY, exactly as the renewals worker
 * runs it. With RENEWAL_BARRIER=<n> it first waits for a shared advisory lock n that the test
 * holds exclusively, so that several runs start at the same instant. Prints `{"result": …}` on
 * stdout and exits 0.
 */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const day = process.env.RENEWAL_DAY;
  const kind = process.env.RENEWAL_KIND ?? 'daily';
  if (!url || !day) throw new Error('DATABASE_URL and RENEWAL_DAY are required');
  const db = createDb(url, 2);
  try {
    const barrier = process.env.RENEWAL_BARRIER;
    if (barrier) await db.raw('SELECT pg_advisory_lock_shared(?)', [Number(barrier)]);
    const result = await processRenewalJob(
      { db, logger: createLogger('silent'), now: () => new Date(`${day}T06:00:00Z`) },
      { v: 1, kind },
    );
    process.stdout.write(`${JSON.stringify({ result })}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
