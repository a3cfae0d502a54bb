import path from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { HubError } from '../../../core/errors';
import { storeDelivery } from '../../../db/queries/inbox';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { createRedis } from '../../../lib/redis';
import { getPlugin, normalizeDelivery } from '../../../plugins';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import type { Decision, DecisionFacts } from '../../../rules/engine/types';
import { alertProcessor } from '../../../workers/alert.worker';
import { jobOptions } from '../../../workers/catalog';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../../helpers/harness';
import { waitFor } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';

/**
 * R-ALR-1 (never a lost alert): a hub whose first rules load was invalid has no ruleset to decide
 * with. Its alerts jobs wait — delayed, no attempt spent — instead of failing after their retries,
 * and are applied once a ruleset is live.
 */
let t: TestDatabase;
const prefix = testQueuePrefix();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const producer = createRedis(redisUrl);
const consumer = createRedis(redisUrl, { forWorker: true });
let queue: Queue;
let events: QueueEvents;
let worker: Worker | undefined;
let store: RulesetStore;

beforeAll(async () => {
  t = await createTestDatabase();
  await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } });
  await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  store = new RulesetStore({ db: t.db, dir: path.join(__dirname, '../../../rules'), logger: createLogger('silent') });
  queue = new Queue('alerts', { connection: producer, prefix });
  events = new QueueEvents('alerts', { connection: { url: redisUrl }, prefix });
  await events.waitUntilReady();
}, 30_000);
afterAll(async () => {
  await worker?.close();
  await events?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  producer.disconnect();
  consumer.disconnect();
  await store?.close();
  await t?.drop();
}, 30_000);

it('R-ALR-1: without a live ruleset the job waits (delayed, no attempt spent); once one is live it is applied', async () => {
  let live = false;
  const rules = {
    decide(facts: DecisionFacts): Decision {
      if (!live) throw new HubError('NOT_READY', 'no ruleset is live yet (see GET /api/v1/rules/status)');
      return store.decide(facts);
    },
  };
  worker = new Worker(
    'alerts',
    alertProcessor({ db: t.db, logger: createLogger('silent'), now: () => new Date(), rules, slas: new SlaCache() }, { notReadyDelayMs: 300 }),
    { connection: consumer, prefix },
  );
  const source = (await t.db('sources').where({ name: 'rmm' }).first('id')) as { id: string };
  const res = normalizeDelivery(
    getPlugin('generic')!,
    { alertId: 'disk-1', state: 'firing', severity: 'high', title: 'Disk full', device: { hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-05-04T12:00:00Z' },
    { sourceName: 'rmm', receivedAt: new Date(), config: {}, siteField: null },
  );
  if (res.kind !== 'alerts') throw new Error('not normalized');
  const stored = await storeDelivery(t.db, { sourceId: source.id, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: res.alerts });
  const job = await queue.add('receipts', { v: 1, receiptIds: stored.receiptIds }, { ...jobOptions('alerts'), jobId: 'no-ruleset-1' });

  // Picked up at least twice and put back to wait each time, never failed.
  await waitFor(async () => ((await queue.getJob(job.id!))?.attemptsStarted ?? 0) >= 2, 10_000, 'the job to be tried twice');
  const waiting = (await queue.getJob(job.id!))!;
  expect(await waiting.getState()).toMatch(/delayed|active|wait/);
  expect(waiting.attemptsMade).toBe(0);
  expect(await queue.getFailedCount()).toBe(0);
  expect(((await t.db('tickets').count({ n: '*' }).first()) as { n: string }).n).toBe('0');

  // A ruleset becomes live: the job is applied.
  expect((await store.loadFromDir(store.dir, 'test')).ok).toBe(true);
  live = true;
  await waitFor(async () => (await queue.getJob(job.id!).then((j) => j?.getState())) === 'completed', 10_000, 'the job to complete');
  expect(((await t.db('tickets').count({ n: '*' }).first()) as { n: string }).n).toBe('1');
}, 30_000);
