import os from 'node:os';
import type { Knex } from 'knex';
import { startTestHub, type TestHub } from '../helpers/hub';
import { hubEnv, startHubProcess, stopAllHubProcesses } from '../helpers/processes';
import {
  alert,
  completedAlertJobs,
  pipelineInvariantViolations,
  post,
  seedSource,
  waitAllProcessed,
  deleteQueueKeys,
} from './fault-helpers';

/**
 * Two worker processes race on the same alerts: three concurrent deliveries of the same 200
 * alerts make three jobs that the two processes take in parallel. Only the partial unique index
 * (one open ticket per dedup key) and the receipt row lock stand between them and duplicates.
 */
describe('fault: two worker processes, three concurrent deliveries of 200 alerts', () => {
  let h: TestHub;
  let db: Knex;

  beforeAll(async () => {
    h = await startTestHub({ api: true, worker: false });
    db = h.t.db;
    await seedSource(db, h.config.HUB_SECRET_KEY);
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await deleteQueueKeys(h.config.REDIS_URL, h.config.HUB_QUEUE_PREFIX);
    await h.close();
  }, 30_000);

  it('R-ALR-4: no duplicate tickets — 200 tickets, each with 3 occurrences', async () => {
    const env = hubEnv({
      databaseUrl: h.t.url,
      redisUrl: h.config.REDIS_URL,
      prefix: h.config.HUB_QUEUE_PREFIX,
      extra: { HUB_WORKER_CONCURRENCY: '1' },
    });
    // Concurrency 1 each: of the three jobs, each process takes one at once, so both race on every alert.
    const workers = await Promise.all([
      startHubProcess({ role: 'worker', env }),
      startHubProcess({ role: 'worker', env }),
    ]);

    const N = 200;
    const body = Array.from({ length: N }, (_, i) => alert(i));
    const res = await Promise.all([post(h.url, body), post(h.url, body), post(h.url, body)]);
    expect(res.map((r) => r.status)).toEqual([202, 202, 202]);
    // The same alerts (deduplicated at intake), three receipts each.
    expect(res[1]!.alertIds).toEqual(res[0]!.alertIds);
    expect(res[2]!.alertIds).toEqual(res[0]!.alertIds);

    await waitAllProcessed(db, 45_000, 3 * N);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{
      dedup_key: string;
      occurrences: number;
    }>;
    expect(tickets).toHaveLength(N);
    expect(new Set(tickets.map((t) => t.dedup_key)).size).toBe(N);
    expect(tickets.filter((t) => t.occurrences !== 3)).toEqual([]);
    expect(await pipelineInvariantViolations(db)).toEqual([]);

    const outcomes = (await db('alert_receipts').select('outcome').count({ n: '*' }).groupBy('outcome')) as Array<{
      outcome: string;
      n: string;
    }>;
    expect(Object.fromEntries(outcomes.map((o) => [o.outcome, Number(o.n)]))).toEqual({
      ticket_created: N,
      occurrence: 2 * N,
    });
    // Both processes ran jobs (otherwise this would prove nothing about two workers).
    const jobs = await completedAlertJobs(h.config.REDIS_URL, h.config.HUB_QUEUE_PREFIX);
    expect([...new Set(jobs.map((j) => j.processedBy))].sort()).toEqual(
      workers.map((w) => `${os.hostname()}:${w.pid}`).sort(),
    );
    expect(jobs.reduce((n, j) => n + j.receipts, 0)).toBe(3 * N);
  }, 55_000);
});
