import request from 'supertest';
import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld, type World } from '../../helpers/seed';

/**
 * Issue 16 (psafix item 2) on the real Postgres, Redis and BullMQ against the fake Autotask: a
 * ticket whose company has no psaRefs entry for the connection is recorded `skipped`. A retry while
 * the ref is still missing answers so (409 for one, `stillSkipped` for the bulk retry) and leaves
 * it skipped with the reason — no job, no PSA call, no `failed` with the connector's message. Once
 * the admin sets the ref, the delivery goes out by itself (companyID = the new ref), once: no retry
 * needed (app/psa/resume-skipped.ts) — for the company's open tickets; a closed one stays skipped
 * until retried.
 */
const TOKEN = 'generic-source-token-0123456789';
const REASON = 'not sent to autotask: company ACME GmbH has no psaRefs.autotask (set it, then retry the delivery)';
let fake: FakeAutotask;
let h: TestHub;
let db: Knex;
let world: World;

const alert = { alertId: 'disk-mail01', state: 'firing', severity: 'high', category: 'disk', title: 'Disk C: almost full', device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' };
const api = {
  post: (p: string, b: unknown = {}) => request(h.url).post(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
  patch: (p: string, b: unknown) => request(h.url).patch(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fake = await startFakeAutotask();
  h = await startTestHub({ env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_SWEEP_MS: '300', HUB_PSA_BACKOFF_MS: '50' } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  expect((await api.post('/psa-connections', { name: 'autotask', type: 'autotask', config: { ...fake.credentials, baseUrl: fake.baseUrl }, rateLimitPerHour: 360_000 })).status).toBe(201);
}, 30_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

it('a retry while the company ref is missing stays skipped with the reason; once the ref is set it delivers', async () => {
  expect((await request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).send(alert)).status).toBe(202);
  const d = await waitFor(async () => db('psa_deliveries').first(), 20_000, 'the delivery row');
  expect(d).toMatchObject({ state: 'skipped', last_error: REASON, attempts: 0 });

  // Still no ref: one delivery → 409 naming the reason; every skipped one → listed as still skipped.
  const one = await api.post(`/psa-deliveries/${d.id}/retry`);
  expect(one.status).toBe(409);
  expect(one.body.error.message).toBe(`PSA delivery ${d.id} stays skipped: ${REASON}`);
  const all = await api.post('/psa-deliveries/retry', { connection: 'autotask' });
  expect(all.status).toBe(200);
  expect(all.body).toEqual({ retried: [], stillSkipped: [{ id: String(d.id), connection: 'autotask', reason: REASON }] });
  // Not a loop and not a failure: after several sweeps it is still skipped, never tried, nothing sent.
  await sleep(1_500);
  expect(await db('psa_deliveries').where({ id: d.id }).first()).toMatchObject({ state: 'skipped', last_error: REASON, attempts: 0 });
  expect(fake.calls).toHaveLength(0);

  // A closed ticket of the same company, skipped too: it stays skipped when the ref comes (no old history pushed into the PSA).
  expect((await request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).send({ ...alert, alertId: 'cpu-mail01', category: 'cpu', title: 'CPU high' })).status).toBe(202);
  const closedOne = await waitFor(async () => db('psa_deliveries').whereNot({ id: d.id }).first(), 20_000, 'the second delivery row');
  await db('tickets').where({ id: closedOne.ticket_id }).update({ status: 'closed' });

  // The admin sets the ref: the open ticket's delivery goes out by itself, for that company, once.
  expect((await api.patch(`/companies/${world.company.id}`, { psaRefs: { autotask: '29683' } })).status).toBe(200);
  await waitFor(async () => (await db('psa_deliveries').where({ id: d.id }).first()).state === 'delivered', 20_000, 'delivered');
  expect(fake.tickets).toHaveLength(1);
  expect(fake.tickets[0]!.fields).toMatchObject({ companyID: 29683, externalID: String(d.ticket_id) });
  expect(fake.calls.filter((c) => c.method === 'POST' && c.path === '/Tickets')).toHaveLength(1);
  const audit = await db('audit_log').where({ entity_type: 'psa_delivery', entity_id: String(d.id), action: 'retry' }).orderBy('id');
  expect(audit.map((a) => a.after.state ?? 'pending')).toEqual(['skipped', 'skipped', 'pending']);
  expect(audit[2]!.after.reason).toBe('the company got its psaRefs entry for the connection');
  await sleep(600);
  expect(await db('psa_deliveries').where({ id: closedOne.id }).first()).toMatchObject({ state: 'skipped', attempts: 0 });

  // The same ref sent again resumes nothing more; a retry of the closed one sends it when wanted.
  expect((await api.patch(`/companies/${world.company.id}`, { psaRefs: { autotask: '29683' } })).status).toBe(200);
  const again = await api.post(`/psa-deliveries/${closedOne.id}/retry`);
  expect(again.status).toBe(200);
  await waitFor(async () => (await db('psa_deliveries').where({ id: closedOne.id }).first()).state === 'delivered', 20_000, 'the closed one delivered on retry');
  expect(fake.calls.filter((c) => c.method === 'POST' && c.path === '/Tickets')).toHaveLength(2);
});
