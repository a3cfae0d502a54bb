import net, { type AddressInfo } from 'node:net';
import { Queue, Worker, type Job } from 'bullmq';
import request from 'supertest';
import { createApp } from '../../../api/app';
import { QUEUE_SAMPLE_TIMEOUT_MS } from '../../../api/metrics.route';
import { createRedis, type RedisConnection } from '../../../lib/redis';
import { createTestApp, type TestApp } from '../../helpers/app';
import { testQueuePrefix } from '../../helpers/harness';
import { client, tokenFor, type Client } from '../admin/admin-helpers';

/**
 * SPEC §7 operators: Prometheus metrics, the bull-board dashboard behind admin/operator tokens
 * (with a cookie login for browsers), and the queue API (counts, failed jobs, retry, discard),
 * on the machine's real Redis with a queue prefix of its own.
 */
describe('operators: /metrics, /admin/queues, /api/v1/queues', () => {
  let t: TestApp;
  let api: Client;
  let redis: RedisConnection;
  let queues: Record<'alerts' | 'renewals' | 'upkeep', Queue>;
  let failedJob: Job;
  let operator: string;
  let viewer: string;
  const prefix = testQueuePrefix();

  beforeAll(async () => {
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    queues = {
      alerts: new Queue('alerts', { connection: redis, prefix }),
      renewals: new Queue('renewals', { connection: redis, prefix }),
      upkeep: new Queue('upkeep', { connection: redis, prefix }),
    };
    t = await createTestApp({ services: { queues, rules: { version: () => 7 } } });
    api = client(t);
    operator = await tokenFor(t, 'operator');
    viewer = await tokenFor(t, 'viewer');

    // A real failed job: a throwaway worker whose processor throws, one attempt only.
    const workerRedis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { forWorker: true });
    const worker = new Worker(
      'alerts',
      async () => {
        throw new Error('receipt 42: database unreachable');
      },
      { connection: workerRedis, prefix },
    );
    const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
    failedJob = await queues.alerts.add('receipts', { v: 1, receiptIds: ['42'] }, { attempts: 1, removeOnFail: false });
    await failed;
    await worker.close();
    workerRedis.disconnect();
    await queues.upkeep.add('upkeep', { v: 1, kind: 'stale-tickets' }, { delay: 60_000 });
  });

  afterAll(async () => {
    for (const q of Object.values(queues)) {
      await q.obliterate({ force: true }).catch(() => undefined);
      await q.close();
    }
    redis.disconnect();
    await t.close();
  });

  describe('GET /metrics', () => {
    it('SPEC §7: exposes the hub’s metrics, unauthenticated, with queue depths sampled on scrape', async () => {
      const res = await request(t.app).get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      for (const name of [
        'hub_alerts_received_total',
        'hub_webhook_duration_seconds',
        'hub_rule_decisions_total',
        'hub_tickets_created_total',
        'hub_queue_jobs',
        'hub_job_duration_seconds',
        'hub_job_failures_total',
        'hub_ruleset_version',
        'hub_renewals_applied_total',
      ]) {
        expect(res.text).toContain(`# TYPE ${name} `);
      }
      expect(res.text).toContain('hub_queue_jobs{queue="alerts",state="failed"} 1');
      expect(res.text).toContain('hub_queue_jobs{queue="upkeep",state="delayed"} 1');
      expect(res.text).toContain('hub_queue_jobs{queue="renewals",state="waiting"} 0');
      expect(res.text).toMatch(/^hub_ruleset_version 7$/m);
      expect(res.text).toContain('process_cpu_seconds_total');
    });

    it('answers within the sampling timeout, without the depth of a queue whose Redis does not answer', async () => {
      // A "Redis" that accepts connections and never replies: the scrape must not hang on it.
      const sockets: net.Socket[] = [];
      const silent = net.createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const { port } = silent.address() as AddressInfo;
      const mute = createRedis(`redis://127.0.0.1:${port}`);
      mute.on('error', () => undefined);
      const broken = new Queue('broken', { connection: mute, prefix });
      broken.on('error', () => undefined);
      try {
        const app = createApp({ ...t.deps, services: { queues: { broken, alerts: queues.alerts } } });
        const started = Date.now();
        const res = await request(app).get('/metrics');
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(QUEUE_SAMPLE_TIMEOUT_MS + 2000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(QUEUE_SAMPLE_TIMEOUT_MS - 50);
        expect(res.text).not.toContain('queue="broken"');
        expect(res.text).toContain('hub_queue_jobs{queue="alerts",state="failed"} 1');
      } finally {
        mute.disconnect();
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('bull-board at /admin/queues', () => {
    it('SPEC §7: operators and admins open the dashboard; viewers get 403', async () => {
      const ok = await request(t.app).get('/admin/queues').set('Authorization', operator).set('Accept', 'text/html');
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/html/);
      expect((await request(t.app).get('/admin/queues').set('Authorization', t.admin)).status).toBe(200);
      const forbidden = await request(t.app).get('/admin/queues').set('Authorization', viewer).set('Accept', 'application/json');
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.code).toBe('FORBIDDEN');
      expect((await request(t.app).get('/admin/queues').set('Authorization', viewer).set('Accept', 'text/html')).status).toBe(403);
    });

    it('its API lists the hub’s queues (for an operator)', async () => {
      const res = await request(t.app).get('/admin/queues/api/queues').set('Authorization', operator).set('Accept', 'application/json');
      expect(res.status).toBe(200);
      const names = (res.body.queues as Array<{ name: string }>).map((q) => q.name).sort();
      expect(names).toEqual(['alerts', 'renewals', 'upkeep']);
      expect((await request(t.app).get('/admin/queues/api/queues').set('Authorization', viewer)).status).toBe(403);
    });

    it('without a token: browsers are sent to the login form, other clients get 401', async () => {
      const browser = await request(t.app).get('/admin/queues').set('Accept', 'text/html');
      expect(browser.status).toBe(303);
      expect(browser.headers.location).toBe('/admin/login');
      const script = await request(t.app).get('/admin/queues').set('Accept', 'application/json');
      expect(script.status).toBe(401);
    });

    it('the login form sets an HttpOnly, SameSite=Strict cookie that opens the dashboard', async () => {
      const form = await request(t.app).get('/admin/login');
      expect(form.status).toBe(200);
      expect(form.text).toContain('<form method="post" action="/admin/login">');
      const token = operator.replace(/^Bearer /, '');
      const login = await request(t.app).post('/admin/login').type('form').send({ token });
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/admin/queues');
      const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0] ?? '';
      expect(cookie).toMatch(/^hub_token=/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\/admin/);
      const board = await request(t.app).get('/admin/queues').set('Cookie', cookie.split(';')[0] ?? '').set('Accept', 'text/html');
      expect(board.status).toBe(200);
      // The cookie is for the dashboard only: the API stays bearer-only (Path=/admin), so no CSRF there.
      const logout = await request(t.app).post('/admin/logout');
      expect(logout.status).toBe(303);
      expect(([] as string[]).concat(logout.headers['set-cookie'] ?? [])[0]).toMatch(/^hub_token=;/);
    });

    it('the login form refuses unknown tokens (401) and viewer tokens (403)', async () => {
      const unknown = await request(t.app).post('/admin/login').type('form').send({ token: 'hub_nope' });
      expect(unknown.status).toBe(401);
      expect(unknown.headers['set-cookie']).toBeUndefined();
      const v = await request(t.app).post('/admin/login').type('form').send({ token: viewer.replace(/^Bearer /, '') });
      expect(v.status).toBe(403);
      expect(v.text).toContain('needs operator or admin');
      expect((await request(t.app).post('/admin/login').type('form').send({})).status).toBe(400);
    });
  });

  describe('queue API', () => {
    it('SPEC §7: counts per queue and state, for operators only', async () => {
      const res = await api.get('/queues', operator);
      expect(res.status).toBe(200);
      const alerts = (res.body.items as Array<{ name: string; counts: Record<string, number>; paused: boolean }>).find((q) => q.name === 'alerts');
      expect(alerts).toMatchObject({ paused: false, counts: expect.objectContaining({ failed: 1, waiting: 0 }) });
      expect((await api.get('/queues', viewer)).status).toBe(403);
    });

    it('SPEC §7: failed jobs with their reasons; retry moves one back to waiting; only failed jobs can be retried', async () => {
      const list = await api.get('/queues/alerts/failed', operator);
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(1);
      expect(list.body.items[0]).toMatchObject({
        id: String(failedJob.id),
        name: 'receipts',
        queue: 'alerts',
        data: { v: 1, receiptIds: ['42'] },
        failedReason: 'receipt 42: database unreachable',
        attemptsMade: 1,
        attempts: 1,
      });
      const retried = await api.post(`/queues/alerts/jobs/${failedJob.id}/retry`, undefined, operator);
      expect(retried.status).toBe(200);
      expect(await queues.alerts.getJobState(String(failedJob.id))).toBe('waiting');
      const again = await api.post(`/queues/alerts/jobs/${failedJob.id}/retry`, undefined, operator);
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain('only failed jobs can be retried');
      expect(await t.db('audit_log').where({ action: 'job.retry', entity_id: `alerts:${failedJob.id}` }).first()).toBeTruthy();
    });

    it('SPEC §7: discards a failed job; unknown queues and jobs are 404; viewers cannot', async () => {
      const workerRedis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { forWorker: true });
      const worker = new Worker('renewals', async () => Promise.reject(new Error('renewal 7: contract locked')), { connection: workerRedis, prefix });
      const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
      const job = await queues.renewals.add('renewals', { v: 1, kind: 'apply', renewalContractId: '7' }, { attempts: 1 });
      await failed;
      await worker.close();
      workerRedis.disconnect();
      expect((await api.delete(`/queues/renewals/jobs/${job.id}`, viewer)).status).toBe(403);
      const gone = await api.delete(`/queues/renewals/jobs/${job.id}`, operator);
      expect(gone.status).toBe(204);
      expect(await queues.renewals.getJob(String(job.id))).toBeUndefined();
      expect((await api.delete(`/queues/renewals/jobs/${job.id}`, operator)).status).toBe(404);
      expect((await api.get('/queues/nope/failed', operator)).status).toBe(404);
      expect((await api.post('/queues/alerts/jobs/does-not-exist/retry', undefined, operator)).status).toBe(404);
      const audit = await t.db('audit_log').where({ action: 'job.discard' }).first();
      expect(audit.before).toMatchObject({ failedReason: 'renewal 7: contract locked' });
    });

    it('answers 503 in a process without queues', async () => {
      const app = createApp({ ...t.deps, services: {} });
      const res = await request(app).get('/api/v1/queues').set('Authorization', t.admin);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('NOT_READY');
    });
  });
});
