import type { Knex } from 'knex';
import { alert, pipelineInvariantViolations, post, seedSource, waitAllProcessed } from '../../faults/fault-helpers';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { hubEnv, startHubProcess, stopAllHubProcesses, type HubChild } from '../../helpers/processes';
import { PrivateRedisSentinel } from '../../helpers/redis-server';
import { waitFor } from '../../helpers/hub';

/**
 * REDIS_URL as a Sentinel set (SPEC §8, `redis+sentinel://host:port,host:port/name`): an API and a
 * worker process find the master through the sentinels, and find the new one after the master dies
 * and a sentinel promotes the replica.
 */
describe('scale-out: Redis behind Sentinel, across a failover', () => {
  let sentinel: PrivateRedisSentinel;
  let t: TestDatabase;
  let db: Knex;
  let api: HubChild;
  let worker: HubChild;
  const prefix = testQueuePrefix();

  beforeAll(async () => {
    [sentinel, t] = await Promise.all([PrivateRedisSentinel.start(), createTestDatabase()]);
    db = t.db;
    await seedSource(db, process.env.HUB_SECRET_KEY ?? 'test-secret-key-test-secret-key-0123456789');
    const env = hubEnv({ databaseUrl: t.url, redisUrl: sentinel.url, prefix, extra: { HUB_RELAY_INTERVAL_SECONDS: '1' } });
    [api, worker] = await Promise.all([startHubProcess({ role: 'api', env }), startHubProcess({ role: 'worker', env })]);
  }, 50_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await sentinel?.dispose();
    await t?.drop();
  }, 30_000);

  it('R-ALR-1, R-ALR-4: alerts are ticketed once before and after the master fails over to the replica', async () => {
    expect(sentinel.url).toMatch(/^redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/hubmaster$/);
    const first = await post(api.url, Array.from({ length: 50 }, (_, i) => alert(i)));
    expect(first.status).toBe(202);
    await waitAllProcessed(db, 20_000, 50);

    // The master dies; the sentinels promote the replica.
    const oldMaster = sentinel.master.port;
    await sentinel.master.stop();
    await waitFor(async () => (await sentinel.masterPort().catch(() => oldMaster)) === sentinel.replica.port, 20_000, 'the replica to be promoted');

    const second = await post(api.url, Array.from({ length: 50 }, (_, i) => alert(100 + i)));
    expect(second.status).toBe(202);
    await waitAllProcessed(db, 25_000, 100);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{ dedup_key: string; occurrences: number }>;
    expect(tickets).toHaveLength(100);
    expect(new Set(tickets.map((x) => x.dedup_key)).size).toBe(100);
    expect(tickets.every((x) => x.occurrences === 1)).toBe(true);
    expect(await pipelineInvariantViolations(db)).toEqual([]);
    for (const p of [api, worker]) expect(p.output()).not.toMatch(/"level":50/);
  }, 58_000);
});
