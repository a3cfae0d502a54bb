import { Job, Queue, UnrecoverableError } from 'bullmq';
import type { Knex } from 'knex';
import type { PipelineDeps } from '../../../app/alerts/deps';
import { SlaCache } from '../../../app/slas/sla-cache';
import { storeDelivery } from '../../../db/queries/inbox';
import { createLogger } from '../../../lib/logger';
import { createRedis } from '../../../lib/redis';
import { normalizeGeneric } from '../../../plugins/generic/normalize';
import { decide } from '../../../rules/engine/decide';
import { batchedAlertProcessor } from '../../../workers/alert-batcher';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { createSource, seedWorld } from '../../helpers/seed';
import { defaultRuleset } from '../maintenance/maintenance-helpers';

/**
 * Issue 19: the alerts jobs a worker process runs at once are applied together, in one
 * transaction (workers/alert-batcher.ts), each job keeping its own outcome. Which receipts shared a
 * transaction is seen through the maintenance-window step, which is handed the transaction.
 */

let t: TestDatabase;
let source: { id: string; name: string };
let queue: Queue;
const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const NOW = new Date('2026-03-10T10:05:00Z');
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  source = { name: 'rmm', ...(await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } })) };
  await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  // Only to construct real Job objects for the processor; nothing is added to it.
  queue = new Queue('alerts', { connection: redis, prefix: testQueuePrefix() });
}, 30_000);
afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await t.drop();
});
beforeEach(async () => {
  await t.db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
});

/** One delivery with these titles (one alert each, distinct hosts): its receipt ids. */
async function store(titles: string[]): Promise<string[]> {
  const payload = titles.map((title) => {
    seq += 1;
    return {
      alertId: `a-${title}-${seq}`,
      state: 'firing',
      severity: 'high',
      category: 'disk',
      title,
      message: null,
      device: { id: `dev-${seq}`, hostname: `host-${seq}`, site: 'acme-hq' },
      occurredAt: '2026-03-10T10:00:00Z',
    };
  });
  const normalized = normalizeGeneric(payload, { config: {}, sourceName: source.name, receivedAt: NOW });
  if (normalized.kind !== 'alerts') throw new Error('ignored');
  const stored = await storeDelivery(t.db, { sourceId: source.id, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: normalized.alerts });
  return stored.receiptIds;
}

/** Records, per alert title, the transaction it was applied in; `onStep` may make a step fail. */
async function deps(seen: Map<string, Knex.Transaction>, onStep?: (trx: Knex.Transaction, title: string) => Promise<void>): Promise<PipelineDeps> {
  const ruleset = await defaultRuleset();
  return {
    db: t.db,
    logger: createLogger('silent'),
    now: () => NOW,
    rules: { decide: (facts) => decide(ruleset, facts) },
    slas: new SlaCache(),
    maintenanceWindow: async (trx, ctx) => {
      seen.set(ctx.alert.title, trx);
      await onStep?.(trx, ctx.alert.title);
      return null;
    },
  };
}

const job = (receiptIds: string[], id: string) => new Job(queue, 'receipts', { v: 1, receiptIds }, {}, id);
const processed = async () => Number(((await t.db('alert_receipts').whereNotNull('processed_at').count({ n: '*' }).first()) as { n: string }).n);

it('issue 19: jobs arriving while a transaction runs are applied together in the next one, each job with its own outcome', async () => {
  const seen = new Map<string, Knex.Transaction>();
  const processor = batchedAlertProcessor(await deps(seen), { maxInFlight: 1 });
  const [a, b, c] = [await store(['a1']), await store(['b1', 'b2']), await store(['c1'])];
  const results = await Promise.all([processor(job(a, 'j-a')), processor(job(b, 'j-b')), processor(job(c, 'j-c'))]);
  expect(results).toEqual([{ outcomes: { ticket_created: 1 } }, { outcomes: { ticket_created: 2 } }, { outcomes: { ticket_created: 1 } }]);
  // The first job went alone (nothing was running); the two that waited shared one transaction.
  expect(seen.get('b1')).toBe(seen.get('c1'));
  expect(seen.get('b2')).toBe(seen.get('c1'));
  expect(seen.get('a1')).not.toBe(seen.get('c1'));
  expect(await processed()).toBe(4);
  expect(await t.db('tickets').count({ n: '*' }).first()).toEqual({ n: '4' });
});

it('issue 19: a second transaction starts only for a backlog of parallelAt receipts; below that, jobs wait for the running one and go together', async () => {
  const seen = new Map<string, Knex.Transaction>();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let blocked!: () => void;
  const isBlocked = new Promise<void>((r) => (blocked = r));
  const processor = batchedAlertProcessor(
    await deps(seen, async (_trx, title) => {
      // The first job's transaction stays open until released.
      if (title === 'a1') {
        blocked();
        await gate;
      }
    }),
    { maxInFlight: 2, parallelAt: 3 },
  );
  const [a, b, c] = [await store(['a1']), await store(['b1']), await store(['c1', 'c2'])];
  const first = processor(job(a, 'j-a'));
  await isBlocked;
  try {
  // One receipt waiting (under parallelAt): no second transaction yet.
    const second = processor(job(b, 'j-b'));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.has('b1')).toBe(false);
    // Three waiting: a second transaction takes both jobs while the first is still open.
    const third = processor(job(c, 'j-c'));
    expect(await second).toEqual({ outcomes: { ticket_created: 1 } });
    expect(await third).toEqual({ outcomes: { ticket_created: 2 } });
    expect(seen.get('b1')).toBe(seen.get('c1'));
    expect(seen.get('c2')).toBe(seen.get('c1'));
    expect(seen.get('a1')).not.toBe(seen.get('b1'));
  } finally {
    // Also when an expectation failed: the first transaction must end for the test to end.
    release();
  }
  expect(await first).toEqual({ outcomes: { ticket_created: 1 } });
  expect(await processed()).toBe(4);
});

it('issue 19: a receipt Postgres refuses for good fails only the job that carries it; the other job of the group succeeds', async () => {
  const seen = new Map<string, Knex.Transaction>();
  const processor = batchedAlertProcessor(
    await deps(seen, async (trx, title) => {
      if (title === 'poison') await trx.raw("SELECT 'not a number'::integer");
    }),
    { maxInFlight: 1 },
  );
  const [a, b, c] = [await store(['a1']), await store(['b1']), await store(['c1', 'poison'])];
  const results = await Promise.allSettled([processor(job(a, 'j-a')), processor(job(b, 'j-b')), processor(job(c, 'j-c'))]);
  expect(results[0]).toEqual({ status: 'fulfilled', value: { outcomes: { ticket_created: 1 } } });
  expect(results[1]).toEqual({ status: 'fulfilled', value: { outcomes: { ticket_created: 1 } } });
  expect(results[2]!.status).toBe('rejected');
  const reason = (results[2] as PromiseRejectedResult).reason as Error;
  expect(reason).toBeInstanceOf(UnrecoverableError);
  expect(reason.message).toContain(`${c[1]}: `);
  expect(reason.message).toContain('invalid input syntax for type integer');
  // Every good receipt applied (c1 too, in a savepoint), the poisoned one recorded as failed.
  expect(await processed()).toBe(3);
  expect((await t.db('alerts').where({ status: 'failed' }).select('title')).map((r: { title: string }) => r.title)).toEqual(['poison']);
});

it('issue 19: any other failure of a group runs each job on its own, as if never grouped (a transient error fails only the job it belongs to)', async () => {
  const seen = new Map<string, Knex.Transaction>();
  let failures = 0;
  const processor = batchedAlertProcessor(
    await deps(seen, async (_trx, title) => {
      // Not a Postgres data error: transient, the job is retried by the queue.
      if (title === 'flaky') {
        failures += 1;
        throw new Error('connection reset');
      }
    }),
    { maxInFlight: 1 },
  );
  const [a, b, c] = [await store(['a1']), await store(['b1']), await store(['flaky'])];
  const results = await Promise.allSettled([processor(job(a, 'j-a')), processor(job(b, 'j-b')), processor(job(c, 'j-c'))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  expect(((results[2] as PromiseRejectedResult).reason as Error).message).toBe('connection reset');
  // Once in the group, once alone.
  expect(failures).toBe(2);
  expect(await processed()).toBe(2);
  // The failed attempt is recorded on the flaky receipt only (recordFailedAttempt of the job run alone).
  const attempts = await t.db('alert_receipts').whereIn('id', [...b, ...c]).orderBy('id').select('attempts');
  expect(attempts.map((r: { attempts: number }) => r.attempts)).toEqual([0, 1]);
});

it('issue 19: an invalid payload fails alone, with the queue-level message', async () => {
  const processor = batchedAlertProcessor(await deps(new Map()), { maxInFlight: 1 });
  await expect(processor(new Job(queue, 'receipts', { v: 1, receiptIds: [] }, {}, 'j-bad'))).rejects.toThrow(UnrecoverableError);
});
