import { Queue, Worker } from 'bullmq';
import type { Knex } from 'knex';
import request from 'supertest';
import { createApp } from '../../../api/app';
import { sweepReceipts } from '../../../app/receipts/sweeper';
import { markEnqueued, storeDelivery } from '../../../db/queries/inbox';
import { createLogger } from '../../../lib/logger';
import { registry } from '../../../lib/metrics';
import { createRedis, type RedisConnection } from '../../../lib/redis';
import { bullReceiptJobs } from '../../../workers/receipt-jobs';
import { createTestApp, type TestApp } from '../../helpers/app';
import { testQueuePrefix } from '../../helpers/harness';
import { createSource } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';

/**
 * Issue 13 item 2 (no accepted alert stranded: the receipt sweeper, dead letters) and item 7
 * (queues respect scope; the dashboard is read-only for operators; retry/discard audited), on the
 * machine's Postgres and Redis with a database and queue prefix of their own.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = createLogger('silent');

let t: TestApp;
let api: Client;
let redis: RedisConnection;
let workerRedis: RedisConnection;
let queues: Record<'alerts' | 'renewals' | 'upkeep', Queue>;
let sourceId: string;
let operator: string;
let scopedOperator: string;
const prefix = testQueuePrefix();
let n = 0;

const alert = () => {
  const id = `a-${++n}`;
  return {
    sourceAlertId: id,
    dedupKey: `rmm:${id}`,
    state: 'firing' as const,
    severity: 'high' as const,
    category: null,
    title: `alert ${id}`,
    message: null,
    device: { sourceDeviceId: null, hostname: 'h1', site: null },
    occurredAt: '2026-05-01T00:00:00Z',
    labels: {},
    raw: {},
  };
};

/** Stores `count` receipts and marks them enqueued in `jobId` (as the intake does), `ageSeconds` ago. */
async function receipts(count: number, jobId: string | null, ageSeconds = 600): Promise<string[]> {
  const stored = await storeDelivery(t.db, { sourceId, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: Array.from({ length: count }, alert) });
  await markEnqueued(t.db, stored.receiptIds, jobId === null ? undefined : stored.receiptIds.map(() => jobId));
  await t.db('alert_receipts').whereIn('id', stored.receiptIds).update({ enqueued_at: t.db.raw(`now() - make_interval(secs => ?)`, [ageSeconds]) });
  return stored.receiptIds;
}

/** A job of the alerts queue that fails for good at once (one attempt), carrying `receiptIds`. */
async function failedJob(jobId: string, receiptIds: string[]): Promise<void> {
  const worker = new Worker('alerts', async () => Promise.reject(new Error('database unreachable')), { connection: workerRedis, prefix });
  const failed = new Promise<void>((resolve) => worker.on('failed', (j) => j?.id === jobId && resolve()));
  await queues.alerts.add('receipts', { v: 1, receiptIds }, { attempts: 1, removeOnFail: false, jobId });
  await failed;
  await worker.close();
}

const receiptRow = async (id: string): Promise<Record<string, unknown>> => (await t.db('alert_receipts').where({ id }).first()) as Record<string, unknown>;

beforeAll(async () => {
  redis = createRedis(REDIS_URL);
  workerRedis = createRedis(REDIS_URL, { forWorker: true });
  queues = {
    alerts: new Queue('alerts', { connection: redis, prefix }),
    renewals: new Queue('renewals', { connection: redis, prefix }),
    upkeep: new Queue('upkeep', { connection: redis, prefix }),
  };
  t = await createTestApp({ services: { queues, receiptJobs: bullReceiptJobs(queues.alerts, redis) } });
  api = client(t);
  const source = await createSource(t.db, 'test-secret-key-test-secret-key-0123456789', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'token-0123456789' } });
  sourceId = source.id;
  const [company] = (await t.db('companies').insert({ name: 'Scoped Co' }).returning('id')) as Array<{ id: string }>;
  operator = await tokenFor(t, 'operator');
  scopedOperator = await tokenFor(t, 'operator', [String(company!.id)], 'scoped operator');
}, 30_000);

afterAll(async () => {
  for (const q of Object.values(queues)) {
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  redis.disconnect();
  workerRedis.disconnect();
  await t.close();
});

const sweep = (db: Knex = t.db, maxRedrives = 3) =>
  sweepReceipts({ db, jobs: bullReceiptJobs(queues.alerts, redis), logger, graceSeconds: 60, maxRedrives });

describe('issue 13 item 2: the receipt sweeper', () => {
  it('re-drives receipts whose job failed for good or is gone; leaves live jobs, recent receipts and dead letters alone', async () => {
    const failed = await receipts(2, 'job-failed');
    await failedJob('job-failed', failed);
    const missing = await receipts(2, 'job-removed');
    const live = await receipts(2, 'job-live');
    await queues.alerts.add('receipts', { v: 1, receiptIds: live }, { jobId: 'job-live', delay: 60_000 });
    const recent = await receipts(1, 'job-recent-gone', 5);
    const legacy = await receipts(1, null);
    const dead = await receipts(1, 'job-dead-lettered');
    await t.db('alert_receipts').where({ id: dead[0] }).update({ dead_lettered_at: t.db.fn.now(), dead_lettered_by: 'test', dead_letter_reason: 'test' });

    const r = await sweep();
    expect(r.redriven.sort()).toEqual([...failed, ...missing, ...legacy].sort());
    for (const id of r.redriven) {
      const row = await receiptRow(id);
      expect(row.redrives).toBe(1);
      expect(String(row.job_id)).toMatch(/^sweep-/);
      // The new job exists and carries the receipt.
      const job = await queues.alerts.getJob(String(row.job_id));
      expect((job?.data as { receiptIds: string[] }).receiptIds).toContain(id);
    }
    for (const id of [...live, ...recent, ...dead]) expect((await receiptRow(id)).redrives).toBe(0);
    // Re-driven just now: the next sweep leaves them (their new job is live and they are recent).
    expect((await sweep()).redriven).toEqual([]);
  });

  it('two sweepers at once re-drive each receipt once', async () => {
    const ids = await receipts(30, 'job-gone-concurrent');
    const [a, b] = await Promise.all([sweep(), sweep()]);
    const all = [...a.redriven, ...b.redriven].filter((id) => ids.includes(id));
    expect(all.sort()).toEqual([...ids].sort());
    for (const id of ids) expect((await receiptRow(id)).redrives).toBe(1);
  });

  it('dead-letters a receipt re-driven maxRedrives times, with the last error, audited; it is not re-driven again', async () => {
    const [id] = await receipts(1, 'job-poison');
    await t.db('alert_receipts').where({ id }).update({ redrives: 3, error: 'value too long for type character varying(255)' });
    // Its re-drive delay doubled with each re-drive (60 s × 2³): make it due.
    await t.db('alert_receipts').where({ id }).update({ enqueued_at: t.db.raw(`now() - interval '1 hour'`) });
    const r = await sweep();
    expect(r.deadLettered).toEqual([id]);
    const row = await receiptRow(id!);
    expect(row.dead_lettered_by).toBe('receipt-sweeper');
    expect(row.dead_letter_reason).toBe('not processed after 3 re-drives; last error: value too long for type character varying(255)');
    expect(await t.db('audit_log').where({ action: 'receipt.dead_letter', entity_id: id }).first()).toBeTruthy();
    expect((await sweep()).redriven).not.toContain(id);
  });

  it('exposes the oldest unprocessed receipt age as a metric after a sweep', async () => {
    const [held] = await receipts(1, 'job-metric');
    // The oldest unprocessed receipt: received an hour ago. Dead letters do not count as unprocessed.
    await t.db('alert_receipts').where({ id: held }).update({ received_at: t.db.raw(`now() - interval '1 hour'`) });
    await sweep();
    const text = await registry.metrics();
    const m = /^hub_receipt_oldest_unprocessed_age_seconds (\S+)$/m.exec(text);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(3600);
    expect(Number(m?.[1])).toBeLessThan(3700);
    // The one dead-lettered by hand in the first test and the one the sweeper gave up on.
    expect(text).toMatch(/^hub_receipts_dead_lettered 2$/m);
  });
});

describe('issue 13 item 2: /readyz detail', () => {
  it('reports the receipt backlog as a detail that never makes the process unready', async () => {
    const app = createApp({
      ...t.deps,
      services: {
        readiness: [{ name: 'postgres', check: async () => undefined }],
        readinessDetails: [
          { name: 'receipts', read: async () => ({ oldestUnprocessedAgeSeconds: 7200, unprocessed: 3, deadLettered: 1 }) },
          { name: 'broken', read: async () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:5432')) },
        ],
      },
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ready',
      checks: { postgres: 'ok' },
      details: { receipts: { oldestUnprocessedAgeSeconds: 7200, unprocessed: 3, deadLettered: 1 }, broken: null },
    });
  });
});

describe('issue 13 item 2: discarded jobs dead-letter their receipts; dead letters are listed and re-driven', () => {
  it('DELETE /queues/alerts/jobs/:id dead-letters the receipts it carries (audited), the sweeper leaves them, an operator re-drives one', async () => {
    const ids = await receipts(2, 'job-to-discard');
    await failedJob('job-to-discard', ids);
    const res = await api.delete('/queues/alerts/jobs/job-to-discard', operator);
    expect(res.status).toBe(204);
    expect(await queues.alerts.getJob('job-to-discard')).toBeUndefined();
    for (const id of ids) {
      const row = await receiptRow(id);
      expect(row.dead_lettered_at).not.toBeNull();
      expect(row.dead_lettered_by).toMatch(/^token:\d+:operator token$/);
      expect(row.dead_letter_reason).toContain('job alerts:job-to-discard discarded by');
      expect(row.dead_letter_reason).toContain('database unreachable');
      expect(await t.db('audit_log').where({ action: 'receipt.dead_letter', entity_id: id }).first()).toBeTruthy();
    }
    const discard = await t.db('audit_log').where({ action: 'job.discard', entity_id: 'alerts:job-to-discard' }).first();
    expect(discard.after).toMatchObject({ via: 'api', deadLetteredReceiptIds: ids });

    expect((await sweep()).redriven).not.toEqual(expect.arrayContaining([ids[0]]));

    const list = await api.get('/dead-letters', operator);
    expect(list.status).toBe(200);
    const listed = (list.body.items as Array<{ receiptId: string; reason: string; source: string }>).filter((d) => ids.includes(d.receiptId));
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({ source: 'rmm', reason: expect.stringContaining('discarded by') });

    const redrive = await api.post(`/dead-letters/${ids[0]}/redrive`, undefined, operator);
    expect(redrive.status).toBe(202);
    const row = await receiptRow(ids[0]!);
    expect(row.dead_lettered_at).toBeNull();
    expect(row.job_id).toBe(redrive.body.jobId);
    expect((await queues.alerts.getJob(String(redrive.body.jobId)))?.data).toEqual({ v: 1, receiptIds: [ids[0]] });
    expect(await t.db('audit_log').where({ action: 'receipt.redrive', entity_id: ids[0] }).first()).toBeTruthy();
    expect((await api.post(`/dead-letters/${ids[0]}/redrive`, undefined, operator)).status).toBe(404);
    expect((await api.post('/dead-letters/abc/redrive', undefined, operator)).status).toBe(400);
  });
});

describe('issue 13 item 7: queues respect scope; the dashboard is read-only for operators', () => {
  it('a company-scoped operator token sees no queue, no failed job, no dead letter and cannot retry or discard (403)', async () => {
    const ids = await receipts(1, 'job-scope');
    await failedJob('job-scope', ids);
    for (const [method, path] of [
      ['get', '/queues'],
      ['get', '/queues/alerts/failed'],
      ['post', '/queues/alerts/jobs/job-scope/retry'],
      ['delete', '/queues/alerts/jobs/job-scope'],
      ['get', '/dead-letters'],
      ['post', `/dead-letters/${ids[0]}/redrive`],
    ] as const) {
      const res = method === 'get' ? await api.get(path, scopedOperator) : method === 'post' ? await api.post(path, undefined, scopedOperator) : await api.delete(path, scopedOperator);
      expect([path, res.status, res.body.error?.code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    const board = await request(t.app).get('/admin/queues/api/queues').set('Authorization', scopedOperator).set('Accept', 'application/json');
    expect(board.status).toBe(403);
    expect(await queues.alerts.getJobState('job-scope')).toBe('failed');
    expect((await receiptRow(ids[0]!)).dead_lettered_at).toBeNull();
  });

  it('an operator cannot change anything through the dashboard: its writes are refused (403) and the job stays', async () => {
    const ids = await receipts(1, 'job-board-operator');
    await failedJob('job-board-operator', ids);
    for (const path of ['/admin/queues/api/queues/alerts/job-board-operator/clean', '/admin/queues/api/queues/alerts/job-board-operator/retry', '/admin/queues/api/queues/alerts/clean/failed', '/admin/queues/api/queues/alerts/pause']) {
      const res = await request(t.app).put(path).set('Authorization', operator).set('Accept', 'application/json');
      expect([path, res.status]).toEqual([path, 403]);
    }
    expect(await queues.alerts.getJobState('job-board-operator')).toBe('failed');
    const ui = await request(t.app).get('/admin/queues/api/queues').set('Authorization', operator).set('Accept', 'application/json');
    expect(ui.status).toBe(200);
    expect((ui.body.queues as Array<{ readOnlyMode: boolean }>).every((q) => q.readOnlyMode)).toBe(true);
  });

  it('an admin removing an alerts job in the dashboard dead-letters its receipts (audited) instead of dropping them; a retry is audited', async () => {
    const ids = await receipts(2, 'job-board-admin');
    await failedJob('job-board-admin', ids);
    const res = await request(t.app).put('/admin/queues/api/queues/alerts/job-board-admin/clean').set('Authorization', t.admin).set('Accept', 'application/json');
    expect(res.status).toBe(204);
    expect(await queues.alerts.getJob('job-board-admin')).toBeUndefined();
    for (const id of ids) expect((await receiptRow(id)).dead_letter_reason).toMatch(/^job alerts:job-board-admin discarded by bootstrap-admin \(dashboard\)/);
    expect(await t.db('audit_log').where({ action: 'job.discard', entity_id: 'alerts:job-board-admin' }).first()).toBeTruthy();

    const more = await receipts(1, 'job-board-retry');
    await failedJob('job-board-retry', more);
    const retry = await request(t.app).put('/admin/queues/api/queues/alerts/job-board-retry/retry').set('Authorization', t.admin).set('Accept', 'application/json');
    expect(retry.status).toBeLessThan(300);
    const audit = await t.db('audit_log').where({ action: 'job.retry', entity_id: 'alerts:job-board-retry' }).first();
    expect(audit.before).toMatchObject({ receiptIds: more });
    expect(audit.after).toEqual({ via: 'dashboard' });
  });

  it('an admin cleaning the failed set in the dashboard dead-letters the receipts of every failed alerts job', async () => {
    const a = await receipts(1, 'job-clean-a');
    await failedJob('job-clean-a', a);
    const b = await receipts(1, 'job-clean-b');
    await failedJob('job-clean-b', b);
    const res = await request(t.app).put('/admin/queues/api/queues/alerts/clean/failed').set('Authorization', t.admin).set('Accept', 'application/json');
    expect(res.status).toBe(200);
    expect(await queues.alerts.getFailedCount()).toBe(0);
    for (const id of [...a, ...b]) expect((await receiptRow(id)).dead_lettered_at).not.toBeNull();
  });
});
