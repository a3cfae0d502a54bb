import request from 'supertest';
import type { Knex } from 'knex';
import { Queue } from 'bullmq';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';
import { createTestDatabase } from '../../helpers/harness';
import { createConnection } from '../../../app/psa/connections';
import { parseEnv } from '../../../config/env';
import { createRedis } from '../../../lib/redis';
import type { PsaDeliveryRow } from '../../../db/tables';
import { psaDeliveryCatalog } from '../../../workers/catalog';

/**
 * A hub with one enabled Autotask connection (to the fake) from its start — stored before the hub
 * starts, so its worker runs at once rather than after a sweep — and what the tests of a paused queue
 * look at: the deliveries of posted alerts and which of them some job of the queue carries.
 */
export interface PausedHub {
  fake: FakeAutotask;
  h: TestHub;
  db: Knex;
  post(alertId: string): Promise<request.Response>;
  deliveryOf(alertId: string): Promise<PsaDeliveryRow>;
  /** Every delivery id some job of the connection's queue carries (waiting, prioritized, delayed, active). */
  idsWithJobs(): Promise<Set<string>>;
  /** The PSA answers the next call `429` with `Retry-After: seconds`; `alertId`'s run takes it, and the queue pauses. Returns its delivery. */
  pauseWith429(alertId: string, seconds: number): Promise<PsaDeliveryRow>;
  close(): Promise<void>;
}

const TOKEN = 'generic-source-token-0123456789';

const alert = (id: string) => ({ alertId: id, state: 'firing', severity: 'high', category: 'disk', title: `${id} disk full`, device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' });

export async function startPausedHub(opts: { sweepMs: number }): Promise<PausedHub> {
  const fake = await startFakeAutotask();
  const t = await createTestDatabase();
  const config = parseEnv({ ...process.env, DATABASE_URL: t.url });
  await createSource(t.db, config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  const world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  await t.db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683' }) });
  await t.db.transaction((trx) => createConnection(trx, { name: 'autotask', type: 'autotask', enabled: true, config: { ...fake.credentials, baseUrl: fake.baseUrl } }, config.HUB_SECRET_KEYS));
  const h = await startTestHub({ t, env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '200', HUB_PSA_SWEEP_MS: String(opts.sweepMs) } });
  const db = t.db;
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const queue = new Queue(psaDeliveryCatalog.queueOf('autotask'), { connection: redis, prefix: h.config.HUB_QUEUE_PREFIX });

  const post = (alertId: string) => request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(alert(alertId)));
  const deliveryOf = (alertId: string) =>
    waitFor(async () => db('psa_deliveries as d').join('tickets as t', 't.id', 'd.ticket_id').where('t.dedup_key', 'like', `%${alertId}%`).select('d.*').first() as Promise<PsaDeliveryRow | undefined>, 20_000, `delivery of ${alertId}`);
  return {
    fake,
    h,
    db,
    post,
    deliveryOf,
    async idsWithJobs() {
      const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'wait', 'waiting-children']);
      const ids = new Set<string>();
      for (const j of jobs) {
        const data = j.data as { deliveryId: string; more?: string[] };
        for (const id of [data.deliveryId, ...(data.more ?? [])]) ids.add(String(id));
      }
      return ids;
    },
    async pauseWith429(alertId, seconds) {
      // The status poll the worker runs at start (then every 5 minutes) must not take the injected 429.
      await waitFor(async () => fake.calls.some((c) => c.path === '/Tickets/query'), 10_000, 'the start-up status poll');
      fake.failNext(1, 429, seconds);
      await post(alertId);
      const d = await deliveryOf(alertId);
      await waitFor(async () => ((await db('psa_deliveries').where({ id: d.id }).first()).last_error ?? '').includes('429'), 10_000, 'the 429');
      return d;
    },
    async close() {
      await queue.close();
      await redis.quit();
      await h.close();
      await t.drop();
      await fake.close();
    },
  };
}
