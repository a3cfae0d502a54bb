import path from 'node:path';
import { Job, Queue } from 'bullmq';
import type { Knex } from 'knex';
import { createDb } from '../../db/connection';
import { storeDelivery } from '../../db/queries/inbox';
import { SlaCache } from '../../app/slas/sla-cache';
import { createLogger } from '../../lib/logger';
import { createRedis } from '../../lib/redis';
import { getPlugin, normalizeDelivery } from '../../plugins';
import { RulesetStore } from '../../rules/engine/ruleset-store';
import { alertProcessor } from '../../workers/alert.worker';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../helpers/harness';
import { alert, count, pipelineInvariantViolations, SOURCE, seedSource } from './fault-helpers';

/**
 * A worker applies a job's receipts in one transaction, which keeps the devices it discovers
 * locked until it commits. Concurrent jobs whose alerts name the same new hosts in different
 * orders deadlocked (found by redis-restart.test.ts after Redis came back with a backlog); the
 * job's receipts are now ordered by host first. Deterministic: eight jobs start at once.
 */
describe('fault: concurrent jobs discovering the same new devices', () => {
  let t: TestDatabase;
  let db: Knex;
  let store: RulesetStore;
  let queue: Queue;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedSource(t.db, process.env.HUB_SECRET_KEY ?? '');
    store = new RulesetStore({ db: t.db, dir: path.join(__dirname, '../../rules'), logger: createLogger('silent') });
    await store.loadFromDir(store.dir, 'test');
    db = createDb(t.url, 8);
    // Only to construct real Job objects for the processor; nothing is added to it.
    queue = new Queue('alerts', { connection: redis, prefix: testQueuePrefix() });
  }, 30_000);
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    await store.close();
    await db.destroy();
    await t.drop();
  }, 30_000);

  it('R-ALR-3, R-ALR-4: eight concurrent jobs over the same seven new hosts → no deadlock, every receipt applied once', async () => {
    const plugin = getPlugin('generic');
    if (!plugin) throw new Error('generic plugin missing');
    const source = (await t.db('sources').where({ name: SOURCE }).first('id')) as { id: string };
    const jobs: string[][] = [];
    for (let d = 0; d < 8; d++) {
      const res = normalizeDelivery(
        plugin,
        Array.from({ length: 50 }, (_, i) => alert(d * 50 + i)),
        { sourceName: SOURCE, receivedAt: new Date(), config: {}, siteField: null },
      );
      if (res.kind !== 'alerts') throw new Error('delivery not normalized');
      const stored = await storeDelivery(t.db, {
        sourceId: source.id,
        deliveryKey: null,
        bodySha256: `d${d}`,
        bodyBytes: 1,
        remoteAddr: null,
        alerts: res.alerts,
      });
      jobs.push(stored.receiptIds);
    }
    const processor = alertProcessor({
      db,
      logger: createLogger('silent'),
      now: () => new Date(),
      rules: store,
      slas: new SlaCache(),
    });
    const results = await Promise.allSettled(
      jobs.map((receiptIds, k) => processor(new Job(queue, 'receipts', { v: 1, receiptIds }, {}, `job-${k}`))),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    expect(await count(t.db, 'tickets')).toBe(400);
    expect(await count(t.db, 'devices', (q) => q.where('discovered', true))).toBe(7);
    expect(await count(t.db, 'alert_receipts', (q) => q.whereNull('processed_at'))).toBe(0);
    expect(await pipelineInvariantViolations(t.db)).toEqual([]);
  }, 45_000);
});
