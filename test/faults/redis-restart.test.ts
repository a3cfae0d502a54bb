import type { Knex } from 'knex';
import { startTestHub, type TestHub } from '../helpers/hub';
import { hubEnv, startHubProcess, stopAllHubProcesses } from '../helpers/processes';
import { freePort, PrivateRedis } from '../helpers/redis-server';
import { alert, pipelineInvariantViolations, post, seedSource, waitAllProcessed } from './fault-helpers';

/**
 * Redis killed (SIGKILL, nothing persisted: every queued job is gone) while 2,000 alerts are being
 * posted, then started again empty. Intake never depends on Redis (the receipts are the outbox);
 * the relay enqueues what was never enqueued and — noticing that its marker key is gone — puts
 * the receipts whose jobs died with Redis back in the outbox. Found and fixed with this test: such
 * receipts were stuck for ever; BullMQ's job ids restarting at 1 made an old in-flight job finish
 * or fail a new one; job transactions deadlocked with each other and with the outbox UPDATEs.
 */
describe('fault: Redis stopped and started again during 2,000 posted alerts', () => {
  let redis: PrivateRedis;
  let h: TestHub;
  let db: Knex;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    h = await startTestHub({ api: true, worker: false, env: { REDIS_URL: redis.url } });
    db = h.t.db;
    await seedSource(db, h.config.HUB_SECRET_KEY);
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await redis.start().catch(() => undefined);
    await h.close();
    await redis.dispose();
  }, 30_000);

  it('R-ALR-1, R-ALR-4: every accepted alert has exactly one ticket', async () => {
    await startHubProcess({
      role: 'worker',
      env: hubEnv({ databaseUrl: h.t.url, redisUrl: redis.url, prefix: h.config.HUB_QUEUE_PREFIX }),
    });
    const N = 2000;
    const PER = 50;
    const deliveries = Array.from({ length: N / PER }, (_, d) =>
      Array.from({ length: PER }, (_, i) => alert(d * PER + i)),
    );
    const statuses: number[] = [];
    let next = 0;
    let sent = 0;
    let down = false;
    let sentWhileDown = 0;
    // Four senders post batches back to back; Redis dies after a quarter of them and comes back
    // (empty) once three quarters are in and it has been down for at least 1.5 s.
    const outage = (async () => {
      while (sent < deliveries.length / 4) await new Promise((r) => setTimeout(r, 5));
      await redis.stop();
      down = true;
      const downAt = Date.now();
      while (sent < (3 * deliveries.length) / 4 || Date.now() - downAt < 1500)
        await new Promise((r) => setTimeout(r, 5));
      await redis.start();
      down = false;
    })();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < deliveries.length) {
          const body = deliveries[next++]!;
          const r = await post(h.url, body);
          statuses.push(r.status);
          sent++;
          if (down) sentWhileDown++;
        }
      }),
    );
    await outage;
    expect(statuses).toHaveLength(deliveries.length);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    expect(sentWhileDown).toBeGreaterThan(0);

    await waitAllProcessed(db, 30_000, N);
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{
      dedup_key: string;
      occurrences: number;
    }>;
    expect(tickets).toHaveLength(N);
    expect(tickets.filter((t) => t.occurrences !== 1)).toEqual([]);
    expect(await pipelineInvariantViolations(db)).toEqual([]);
  }, 58_000);
});
