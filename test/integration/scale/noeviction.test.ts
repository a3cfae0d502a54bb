import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { hubEnv, spawnHub, startHubProcess, stopAllHubProcesses } from '../../helpers/processes';
import { freePort, PrivateRedis } from '../../helpers/redis-server';
import { createRedis } from '../../../lib/redis';

/**
 * BullMQ loses jobs when Redis evicts keys; the worker refuses to start on a Redis whose
 * maxmemory-policy is not noeviction, and its message says how to fix it (and the fix works).
 */
describe('scale-out: a worker refuses Redis with an evicting maxmemory-policy', () => {
  let t: TestDatabase;
  let redis: PrivateRedis;

  beforeAll(async () => {
    t = await createTestDatabase();
    // A later --maxmemory-policy overrides PrivateRedis's own noeviction (redis-server takes the last).
    redis = new PrivateRedis(await freePort(), ['--maxmemory-policy', 'allkeys-lru']);
    await redis.start();
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await redis.dispose();
    await t.drop();
  }, 30_000);

  it('R-ALR-1: `hub start --worker` exits non-zero naming noeviction and the fix; after the fix it starts', async () => {
    const env = hubEnv({ databaseUrl: t.url, redisUrl: redis.url, prefix: testQueuePrefix() });
    const refused = spawnHub({ role: 'worker', env });
    const exit = await refused.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const out = refused.output();
    expect(out).toContain('maxmemory-policy=allkeys-lru');
    expect(out).toContain('noeviction');
    expect(out).toContain(`redis-cli -h 127.0.0.1 -p ${redis.port} CONFIG SET maxmemory-policy noeviction`);
    expect(refused.logs().some((l) => l.msg === 'hub started')).toBe(false);

    // The fix from the message, then the worker starts.
    const admin = createRedis(redis.url);
    try {
      expect(await admin.config('SET', 'maxmemory-policy', 'noeviction')).toBe('OK');
    } finally {
      admin.disconnect();
    }
    const worker = await startHubProcess({ role: 'worker', env });
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  }, 55_000);
});
