import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { requestReplay, runReplay } from '../../../app/rules/replay-job';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { createRedis, type RedisConnection } from '../../../lib/redis';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { processReplayJob } from '../../../workers/rule-replay.worker';
import { createTestApp, type TestApp } from '../../helpers/app';
import { testQueuePrefix } from '../../helpers/harness';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';

// Replays for large periods (issue 17 item 2 "Replay", issue 15): a candidate ruleset replayed over
// a few thousand stored alerts by the rule-replays worker on real BullMQ, in batches, progress and
// changed decisions written to Postgres and read back paged and per field; resumable and counted
// once when a job runs twice.

const DEFAULT_RULES = path.resolve(__dirname, '../../../rules/00-default.json');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const DISK_TO_DESK = `{ "rules": [ { "name": "disk-to-desk", "priority": 10,
  "conditions": { "all": [{ "fact": "alert", "path": "$.category", "operator": "equal", "value": "disk" }] },
  "event": { "type": "assign", "params": { "contract": "C-DESK", "service": "DESK" } } } ] }`;

/** 3,000 firing alerts of the last day in SQL: every third a disk alert of mail01, the others CPU alerts; plus 12 of a month ago and 50 resolved. */
async function storeAlerts(db: Knex, sourceId: string): Promise<void> {
  const [delivery] = (await db('deliveries').insert({ source_id: sourceId, body_sha256: 'x'.repeat(64), body_bytes: 1 }).returning('id')) as Array<{ id: string }>;
  await db.raw(
    `INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, category, title, device_source_id, hostname, site, occurred_at, raw, first_delivery_id, created_at)
     SELECT :source, 'a-' || i, 'rmm:a-' || i, 'firing', 'high',
            CASE WHEN i % 3 = 0 THEN 'disk' ELSE 'cpu' END, 'Alert ' || i,
            'dev-mail01', 'mail01', 'acme-hq',
            now() - interval '1 day' + i * interval '1 second', '{}'::jsonb, :delivery,
            now() - interval '1 day' + i * interval '1 second'
       FROM generate_series(1, 3000) AS i`,
    { source: sourceId, delivery: delivery!.id },
  );
  await db.raw(
    `INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, category, title, hostname, site, occurred_at, raw, first_delivery_id, created_at)
     SELECT :source::bigint, 'old-' || i, 'rmm:old-' || i, 'firing', 'high', 'disk', 'Old ' || i, 'mail01', 'acme-hq', now() - interval '30 days', '{}'::jsonb, :delivery::bigint, now() - interval '30 days'
       FROM generate_series(1, 12) AS i
     UNION ALL
     SELECT :source::bigint, 'res-' || i, 'rmm:res-' || i, 'resolved', 'high', 'disk', 'Resolved ' || i, 'mail01', 'acme-hq', now(), '{}'::jsonb, :delivery::bigint, now()
       FROM generate_series(1, 50) AS i`,
    { source: sourceId, delivery: delivery!.id },
  );
}

describe('rules replays', () => {
  let t: TestApp;
  let api: Client;
  let db: Knex;
  let world: World;
  let store: RulesetStore;
  let root: string;
  let defaultText: string;
  let redis: RedisConnection;
  let workerRedis: RedisConnection;
  let queue: Queue;
  let events: QueueEvents;
  let eventsRedis: RedisConnection;
  let worker: Worker;
  const prefix = testQueuePrefix();

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-replays-'));
    const rulesDir = path.join(root, 'rules');
    await fs.mkdir(rulesDir);
    defaultText = await fs.readFile(DEFAULT_RULES, 'utf8');
    await fs.writeFile(path.join(rulesDir, '00-default.json'), defaultText);
    redis = createRedis(REDIS_URL);
    workerRedis = createRedis(REDIS_URL, { forWorker: true });
    queue = new Queue('rule-replays', { connection: redis, prefix });
    eventsRedis = createRedis(REDIS_URL, { forWorker: true });
    events = new QueueEvents('rule-replays', { connection: eventsRedis, prefix });
    await events.waitUntilReady();
    t = await createTestApp({ env: { RULES_DIR: rulesDir }, services: { queues: { 'rule-replays': queue } } });
    db = t.db;
    api = client(t);
    const s = await createSource(db, t.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    await storeAlerts(db, s.id);
    store = new RulesetStore({ db, dir: rulesDir, logger: createLogger('silent'), pollIntervalMs: 3_600_000 });
    const loaded = await store.loadFromDir(rulesDir, 'startup:test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    t.deps.services.rules = { store };
    // The worker as workers/services.ts registers it, with small batches so the period takes many.
    const slas = new SlaCache();
    worker = new Worker('rule-replays', (job: Job) => processReplayJob({ db, slas, logger: createLogger('silent'), batchSize: 400 }, job), { connection: workerRedis, prefix, concurrency: 1 });
  });
  afterAll(async () => {
    await worker?.close();
    await events?.close();
    await queue?.obliterate({ force: true });
    await queue?.close();
    redis?.disconnect();
    workerRedis?.disconnect();
    eventsRedis?.disconnect();
    await store?.close();
    await t?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const files = () => ({ '00-default.json': defaultText, '10-disk.json': DISK_TO_DESK });

  it('runs in the background over the last 7 days by default: progress, counts by field and the changed alerts by name, paged', async () => {
    const operator = await tokenFor(t, 'operator');
    const res = await api.post('/rules/replays', { candidate: { files: files() } }, operator);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), state: 'queued' });
    const job = await queue.getJob(`replay-${res.body.id as string}`);
    expect(job).toBeDefined();
    await job!.waitUntilFinished(events, 120_000);

    const replay = await api.get(`/rules/replays/${res.body.id as string}`, operator);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({
      id: res.body.id,
      state: 'done',
      progress: { done: 3000, total: 3000 },
      counts: { total: 3000, changed: 1000, byField: { contract: 1000, service: 1000, sla: 1000, priority: 0, outcome: 0, queue: 0, needsTriage: 0 } },
      error: null,
      liveVersion: 1,
      createdBy: 'api:operator token',
    });
    expect(new Date(replay.body.until).getTime() - new Date(replay.body.since).getTime()).toBe(7 * 86_400_000);

    const page = await api.get(`/rules/replays/${res.body.id as string}/changes?limit=50&offset=0`, operator);
    expect(page.body.total).toBe(1000);
    expect(page.body.items).toHaveLength(50);
    expect(page.body.items[0]).toEqual({
      alertId: expect.any(String),
      occurredAt: expect.any(String),
      title: 'Alert 3',
      device: { id: world.mailServer.id, hostname: 'mail01' },
      changes: [
        { field: 'contract', before: 'Mail server contract', after: 'Service desk contract' },
        { field: 'service', before: 'Mail server management', after: 'Service desk' },
        { field: 'sla', before: 'Premium 24x7', after: 'Standard' },
      ],
    });
    const ids = page.body.items.map((i: { alertId: string }) => Number(i.alertId));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const last = await api.get(`/rules/replays/${res.body.id as string}/changes?limit=50&offset=950`, operator);
    expect(last.body.items.map((i: { title: string }) => i.title).at(-1)).toBe('Alert 3000');
    expect((await api.get(`/rules/replays/${res.body.id as string}/changes?field=sla&limit=1`, operator)).body.total).toBe(1000);
    expect((await api.get(`/rules/replays/${res.body.id as string}/changes?field=priority`, operator)).body).toEqual({ items: [], total: 0 });
    expect((await api.get(`/rules/replays/${res.body.id as string}/changes?field=nope`, operator)).status).toBe(400);

    const audits = (await db('audit_log').where({ entity_type: 'rule_replay' })) as Array<{ entity_id: string }>;
    expect(audits.map((a) => a.entity_id)).toEqual([res.body.id]);
    // Nothing but the replay's own rows was written: no ticket exists.
    expect(Number(((await db('tickets').count({ n: '*' }).first()) as { n: string }).n)).toBe(0);
  });

  it('an explicit period counts only its alerts', async () => {
    const since = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const until = new Date(Date.now() - 20 * 86_400_000).toISOString();
    const queued = await api.post('/rules/replays', { candidate: { files: files() }, since, until });
    expect(queued.status).toBe(202);
    const ran = await runReplay({ db, slas: new SlaCache() }, queued.body.id);
    expect(ran).toMatchObject({ state: 'done', progress_done: 12, progress_total: 12 });
    expect((await api.get(`/rules/replays/${queued.body.id as string}`)).body.counts).toMatchObject({ total: 12, changed: 12 });
  });

  it('two runs of one replay at once (a stalled job picked up again) count every alert once', async () => {
    const now = new Date();
    const row = await requestReplay(db, { files: files(), since: new Date(now.getTime() - 7 * 86_400_000), until: now, liveVersion: 1, by: 'test', enqueue: async () => undefined });
    const deps = { db, slas: new SlaCache(), batchSize: 300 };
    await Promise.all([runReplay(deps, String(row.id)), runReplay(deps, String(row.id))]);
    const replay = await api.get(`/rules/replays/${String(row.id)}`);
    expect(replay.body).toMatchObject({ state: 'done', progress: { done: 3000, total: 3000 }, counts: { total: 3000, changed: 1000 } });
    // Running a finished replay again changes nothing.
    await runReplay(deps, String(row.id));
    expect((await api.get(`/rules/replays/${String(row.id)}`)).body.counts).toMatchObject({ total: 3000, changed: 1000 });
  });

  it('the last failed attempt fails the replay with its reason', async () => {
    const now = new Date();
    const row = await requestReplay(db, { files: files(), since: new Date(now.getTime() - 86_400_000), until: now, liveVersion: 99, by: 'test', enqueue: async () => undefined });
    const job = { id: 'x', data: { v: 1, replayId: String(row.id) }, attemptsMade: 0, opts: { attempts: 2 } };
    const deps = { db, slas: new SlaCache(), logger: createLogger('silent') };
    await expect(processReplayJob(deps, job)).rejects.toThrow(/ruleset version 99/);
    expect((await api.get(`/rules/replays/${String(row.id)}`)).body).toMatchObject({ state: 'queued', error: expect.stringMatching(/version 99/) });
    await expect(processReplayJob(deps, { ...job, attemptsMade: 1 })).rejects.toThrow();
    expect((await api.get(`/rules/replays/${String(row.id)}`)).body).toMatchObject({ state: 'failed', error: expect.stringMatching(/version 99/), finishedAt: expect.any(String) });
  });

  it('refuses an invalid candidate with 422 and its problems, bad periods with 400, viewers and scoped tokens with 403, unknown ids with 404', async () => {
    const bad = await api.post('/rules/replays', { candidate: { files: { ...files(), '10-disk.json': DISK_TO_DESK.replace('C-DESK', 'C-NOPE') } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems[0]).toMatchObject({ file: '10-disk.json', rule: 'disk-to-desk', pointer: '/rules/0/event/params/contract', line: 3 });
    expect((await api.post('/rules/replays', { candidate: { files: files() }, since: 'last week' })).status).toBe(400);
    expect((await api.post('/rules/replays', { candidate: { files: files() }, since: '1d', until: '2020-01-01T00:00:00Z' })).status).toBe(400);
    expect((await api.post('/rules/replays', { candidate: { files: files() } }, await tokenFor(t, 'viewer'))).status).toBe(403);
    const scoped = await tokenFor(t, 'admin', [world.company.id]);
    expect((await api.post('/rules/replays', { candidate: { files: files() } }, scoped)).status).toBe(403);
    const some = (await db('rule_replays').first('id')) as { id: string };
    expect((await api.get(`/rules/replays/${some.id}`, scoped)).status).toBe(403);
    expect((await api.get(`/rules/replays/${some.id}/changes`, await tokenFor(t, 'viewer'))).status).toBe(403);
    expect((await api.get('/rules/replays/99999')).status).toBe(404);
    expect((await api.get('/rules/replays/abc/changes')).status).toBe(404);
  });
});
