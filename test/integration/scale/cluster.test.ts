import os from 'node:os';
import type { Knex } from 'knex';
import {
  alert,
  completedAlertJobs,
  pipelineInvariantViolations,
  post,
  seedSource,
  waitAllProcessed,
} from '../../faults/fault-helpers';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { hubEnv, startHubProcess, stopAllHubProcesses, type HubChild } from '../../helpers/processes';
import { PrivateRedisCluster } from '../../helpers/redis-server';

/**
 * Scale-out on real engines (SPEC §7): one API process and two worker processes share one
 * Postgres and a 3-master Redis Cluster (REDIS_URL = the nodes, comma-separated). BullMQ's keys
 * carry the hash-tagged prefix ({…}) so every queue's keys land in one slot.
 */
describe('scale-out: the pipeline on a 3-master Redis Cluster with two worker processes', () => {
  let cluster: PrivateRedisCluster;
  let t: TestDatabase;
  let db: Knex;
  let api: HubChild;
  let workers: HubChild[];
  const prefix = testQueuePrefix();

  beforeAll(async () => {
    [cluster, t] = await Promise.all([PrivateRedisCluster.start(3), createTestDatabase()]);
    db = t.db;
    await seedSource(db, process.env.HUB_SECRET_KEY ?? 'test-secret-key-test-secret-key-0123456789');
    const env = hubEnv({ databaseUrl: t.url, redisUrl: cluster.url, prefix, extra: { HUB_WORKER_CONCURRENCY: '1' } });
    [api, ...workers] = await Promise.all([
      startHubProcess({ role: 'api', env }),
      startHubProcess({ role: 'worker', env }),
      startHubProcess({ role: 'worker', env }),
    ]);
  }, 50_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await cluster?.dispose();
    await t?.drop();
  }, 30_000);

  it('R-ALR-1, R-ALR-4: every alert is ticketed exactly once; repeats are counted; both workers take jobs', async () => {
    expect(cluster.url.split(',')).toHaveLength(3);
    const N = 400;
    const deliveries = Array.from({ length: 4 }, (_, d) =>
      Array.from({ length: N / 4 }, (_, i) => alert(d * (N / 4) + i)),
    );
    const res = await Promise.all(deliveries.map((body) => post(api.url, body)));
    expect(res.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    // The first delivery again: its alerts are counted on their tickets, not ticketed twice.
    expect((await post(api.url, deliveries[0])).status).toBe(202);

    await waitAllProcessed(db, 40_000, N + N / 4);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{
      dedup_key: string;
      occurrences: number;
    }>;
    expect(tickets).toHaveLength(N);
    expect(new Set(tickets.map((tk) => tk.dedup_key)).size).toBe(N);
    expect(tickets.filter((tk) => tk.occurrences === 2)).toHaveLength(N / 4);
    expect(tickets.filter((tk) => tk.occurrences !== 1 && tk.occurrences !== 2)).toEqual([]);
    expect(await pipelineInvariantViolations(db)).toEqual([]);

    const jobs = await completedAlertJobs(cluster.url, prefix);
    expect(jobs.reduce((n, j) => n + j.receipts, 0)).toBeGreaterThanOrEqual(N + N / 4);
    expect([...new Set(jobs.map((j) => j.processedBy))].sort()).toEqual(
      workers.map((w) => `${os.hostname()}:${w.pid}`).sort(),
    );
    // No cross-slot script, no error on the way.
    for (const p of [api, ...workers]) expect(p.output()).not.toMatch(/CROSSSLOT|"level":50/);
  }, 55_000);
});
