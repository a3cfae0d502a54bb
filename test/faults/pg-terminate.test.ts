import type { Knex } from 'knex';
import { startTestHub, waitFor, type TestHub } from '../helpers/hub';
import { hubEnv, startHubProcess, stopAllHubProcesses } from '../helpers/processes';
import {
  alert,
  count,
  pipelineInvariantViolations,
  post,
  seedSource,
  TableLock,
  waitAllProcessed,
  deleteQueueKeys,
} from './fault-helpers';

/**
 * The worker's Postgres connection killed mid-transaction (pg_terminate_backend, as a failover or
 * an operator would): the transaction rolls back, the worker's pool drops the dead connection, the
 * job is retried with backoff and every receipt is applied once.
 */
describe('fault: worker Postgres connection terminated mid-transaction', () => {
  let h: TestHub;
  let db: Knex;
  let lock: TableLock | undefined;

  beforeAll(async () => {
    h = await startTestHub({ api: true, worker: false });
    db = h.t.db;
    await seedSource(db, h.config.HUB_SECRET_KEY);
  }, 30_000);
  afterAll(async () => {
    await lock?.release();
    await lock?.close();
    await stopAllHubProcesses(0);
    await deleteQueueKeys(h.config.REDIS_URL, h.config.HUB_QUEUE_PREFIX);
    await h.close();
  }, 30_000);

  it('R-ALR-4: pg_terminate_backend during the receipt transaction → the job is retried, no partial rows', async () => {
    const worker = await startHubProcess({
      role: 'worker',
      env: hubEnv({ databaseUrl: h.t.url, redisUrl: h.config.REDIS_URL, prefix: h.config.HUB_QUEUE_PREFIX }),
    });
    lock = await TableLock.take(h.t.url, 'tickets');
    const N = 10;
    const res = await post(
      h.url,
      Array.from({ length: N }, (_, i) => alert(i)),
    );
    expect(res.status).toBe(202);

    // Terminate the worker's backend while it waits inside the transaction (receipt locked,
    // discovered device inserted, ticket INSERT waiting), twice: the retry is cut off as well.
    for (let round = 0; round < 2; round++) {
      const backend = await lock.waitForWaiter();
      await lock.terminate(backend);
      await waitFor(async () => !(await lock!.backendAlive(backend)), 10_000, 'the terminated backend to end');
      expect(await count(db, 'tickets')).toBe(0);
      expect(await count(db, 'alert_receipts', (q) => q.whereNotNull('processed_at'))).toBe(0);
      expect(await count(db, 'devices', (q) => q.where('discovered', true))).toBe(0);
      expect(await count(db, 'device_source_refs')).toBe(0);
    }
    await lock.release();

    await waitAllProcessed(db, 30_000, N);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{ occurrences: number }>;
    expect(tickets).toHaveLength(N);
    expect(tickets.every((t) => t.occurrences === 1)).toBe(true);
    expect(await pipelineInvariantViolations(db)).toEqual([]);
    // The failure was recorded on the receipts (best effort: the pool may hand out the dead
    // connection once more) and cleared when the retry applied them.
    const first = (await db('alert_receipts').orderBy('id').first('attempts', 'error', 'outcome')) as {
      attempts: number;
      error: string | null;
      outcome: string;
    };
    expect(first.attempts).toBeGreaterThanOrEqual(1);
    expect(first).toMatchObject({ error: null, outcome: 'ticket_created' });
    expect(await count(db, 'alerts', (q) => q.whereNot('status', 'processed'))).toBe(0);
    // Two attempts failed (one per termination) and a third applied the job: retried, not failed for good.
    const failures = worker.logs().filter((l) => l.msg === 'alerts job failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(worker.exitedWith).toBeNull();
  }, 55_000);
});
