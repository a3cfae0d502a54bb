import type { Knex } from 'knex';
import { alert, pipelineInvariantViolations, post, seedSource, waitAllProcessed } from '../../faults/fault-helpers';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { hubEnv, startHubProcess, stopAllHubProcesses, type HubChild } from '../../helpers/processes';
import { PrivateRedisSentinel } from '../../helpers/redis-server';
import { waitFor } from '../../helpers/hub';
import { Redis } from 'ioredis';

/**
 * REDIS_URL as a Sentinel set (SPEC §8, `redis+sentinel://host:port,host:port/name`): an API and a
 * worker process find the master through the sentinels, and find the new one after the master dies
 * and a sentinel promotes the replica — also when the last jobs never reached the replica
 * (asynchronous replication): the relay sees the server's replication id change and puts the
 * unprocessed receipts back in the outbox (R-ALR-1).
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

  it('R-ALR-1, R-ALR-4: alerts are ticketed once before and after a failover that lost the last jobs', async () => {
    expect(sentinel.url).toMatch(/^redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/hubmaster$/);
    const first = await post(api.url, Array.from({ length: 50 }, (_, i) => alert(i)));
    expect(first.status).toBe(202);
    await waitAllProcessed(db, 20_000, 50);

    // No worker: the next alerts wait on the queue, and are marked enqueued.
    await worker.stop(10_000);
    const second = await post(api.url, Array.from({ length: 50 }, (_, i) => alert(100 + i)));
    expect(second.status).toBe(202);
    await waitFor(
      async () => Number(((await db('alert_receipts').whereNull('processed_at').whereNotNull('enqueued_at').count({ n: '*' }).first()) as { n: string }).n) === 50,
      10_000,
      'the waiting receipts to be marked enqueued',
    );
    // Their jobs never reached the replica (as with a master that dies right after the add): gone
    // from it, the outbox marker kept.
    const replica = new Redis(sentinel.replica.port, '127.0.0.1');
    await replica.config('SET', 'replica-read-only', 'no');
    const keys = (await replica.keys(`${prefix}:alerts:*`)).filter((k) => !k.endsWith(':outbox-marker'));
    expect(keys.length).toBeGreaterThan(0);
    await replica.del(...keys);
    expect(await replica.exists(`${prefix}:alerts:outbox-marker`)).toBe(1);
    replica.disconnect();

    // The master dies; the sentinels promote the replica.
    const oldMaster = sentinel.master.port;
    await sentinel.master.stop();
    await waitFor(async () => (await sentinel.masterPort().catch(() => oldMaster)) === sentinel.replica.port, 20_000, 'the replica to be promoted');
    worker = await startHubProcess({ role: 'worker', env: hubEnv({ databaseUrl: t.url, redisUrl: sentinel.url, prefix, extra: { HUB_RELAY_INTERVAL_SECONDS: '1' } }) });

    const third = await post(api.url, Array.from({ length: 50 }, (_, i) => alert(200 + i)));
    expect(third.status).toBe(202);
    await waitAllProcessed(db, 30_000, 150);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{ dedup_key: string; occurrences: number }>;
    expect(tickets).toHaveLength(150);
    expect(new Set(tickets.map((x) => x.dedup_key)).size).toBe(150);
    expect(tickets.every((x) => x.occurrences === 1)).toBe(true);
    expect(await pipelineInvariantViolations(db)).toEqual([]);
    expect(api.output() + worker.output()).toMatch(/Redis failed over/);
    for (const p of [api, worker]) expect(p.output()).not.toMatch(/"level":50/);
  }, 58_000);
});
