import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Knex } from 'knex';
import { applyStatusReports } from '../../../app/psa/status-back';
import { issueToken } from '../../../app/tokens';
import { ALL_COMPANIES } from '../../../core/access/company-scope';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld, type World } from '../../helpers/seed';

/**
 * Issue 16 item 3 on the real Postgres, Redis and BullMQ against the fake Autotask and a local
 * webhook receiver: a ticket worked in the hub (`PATCH /api/v1/tickets/:id`) reaches every PSA
 * that has it — priority/contract as an update, a note as a note, resolved as a close — recorded
 * in the PATCH's own transaction; a status that came FROM a PSA is never echoed back to it (the
 * other connections are told). A failed delivery stays visible and retryable over HTTP
 * (`GET /api/v1/psa-deliveries`, `POST /api/v1/psa-deliveries/:id/retry`, `…/retry`) and counted in
 * `hub_psa_deliveries{connection,state}`.
 */
const TOKEN = 'generic-source-token-0123456789';
let fake: FakeAutotask;
let h: TestHub;
let db: Knex;
let world: World;
let receiver: http.Server;
const received: Array<{ type: string; ticketId: string; status: string }> = [];

const alert = (over: Record<string, unknown> = {}) => ({
  alertId: 'disk-mail01',
  state: 'firing',
  severity: 'medium',
  category: 'disk',
  title: 'Disk C: almost full',
  message: '95% used',
  device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00+01:00',
  ...over,
});
const post = (body: unknown) => request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const api = () => ({
  get: (p: string) => request(h.url).get(`/api/v1${p}`).set('Authorization', ADMIN),
  post: (p: string, b: unknown = {}) => request(h.url).post(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
  patch: (p: string, b: unknown) => request(h.url).patch(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
});
const ticketFor = (alertId: string) =>
  waitFor(async () => db('tickets').where('dedup_key', 'like', `%${alertId}%`).orderBy('id', 'desc').first(), 20_000, `ticket of ${alertId}`);
const deliveries = async (ticketId: string) =>
  (await db('psa_deliveries as d').join('psa_connections as c', 'c.id', 'd.connection_id').where('d.ticket_id', ticketId).select('d.*', 'c.name')) as Array<Record<string, unknown> & { name: string; state: string }>;
const allDelivered = (ticketId: string, n: number) =>
  waitFor(async () => {
    const ds = await deliveries(ticketId);
    return ds.length === n && ds.every((d) => d.state === 'delivered') ? ds : undefined;
  }, 30_000, `deliveries of ticket ${ticketId}`);
const psaTicketOf = (ticketId: string) => fake.tickets.find((x) => x.fields.externalID === String(ticketId))!;

beforeAll(async () => {
  fake = await startFakeAutotask();
  receiver = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const b = JSON.parse(raw) as { type: string; data: { ticket: { hubTicketId: string; status: string } } };
      received.push({ type: b.type, ticketId: b.data.ticket.hubTicketId, status: b.data.ticket.status });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  h = await startTestHub({
    env: {
      HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl,
      HUB_PSA_COALESCE_MS: '300',
      HUB_PSA_SWEEP_MS: '500',
      HUB_PSA_BACKOFF_MS: '50',
      HUB_PSA_ATTEMPTS: '2',
      HUB_PSA_TIMEOUT_MS: '2000',
    },
  });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  expect((await api().post('/psa-connections', { name: 'autotask', type: 'autotask', config: fake.credentials, rateLimitPerHour: 360_000 })).status).toBe(201);
  const port = (receiver.address() as AddressInfo).port;
  expect((await api().post('/psa-connections', { name: 'relay', type: 'webhook', config: { url: `http://127.0.0.1:${port}/hook`, secret: `whsec_${Buffer.from('relay-secret-0123456789abcdef').toString('base64')}` } })).status).toBe(201);
  await api().patch(`/companies/${world.company.id}`, { psaRefs: { autotask: '29683' } });
  await api().patch(`/contracts/${world.mailContract.id}`, { psaRefs: { autotask: '77' } });
}, 30_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('PATCH /api/v1/tickets/:id → the PSAs that have the ticket', () => {
  it('priority and a note reach Autotask (PATCH, TicketNote) and the webhook; resolving completes the PSA ticket', async () => {
    expect((await post(alert())).status).toBe(202);
    const t = await ticketFor('disk-mail01');
    await allDelivered(t.id, 2);
    const at = psaTicketOf(t.id);
    expect(at.fields.priority).toBe(2); // medium
    const calls = fake.calls.length;

    const res = await api().patch(`/tickets/${t.id}`, { priority: 'critical', reason: 'customer escalated', note: 'Cleaning up the log volume' });
    expect(res.status).toBe(200);
    // Recorded in the PATCH's transaction: the rows are pending before any worker ran (or already delivered).
    const after = await deliveries(t.id);
    expect(after.map((d) => Number(d.change_seq))).toEqual([1, 1]);
    expect(after.every((d) => d.rank === 1)).toBe(true);
    await allDelivered(t.id, 2);
    expect(at.patches.at(-1)).toMatchObject({ id: at.id, priority: 4 });
    const notes = at.notes.map((n) => String(n.description)).join('\n');
    expect(notes).toContain('priority changed by');
    expect(notes).toContain('customer escalated');
    expect(notes).toContain('Cleaning up the log volume');
    // One note (folded) and one update: no call per field.
    expect(fake.calls.length - calls).toBe(2);
    expect(received.filter((r) => r.ticketId === String(t.id)).map((r) => r.type)).toEqual(expect.arrayContaining(['ticket.created', 'ticket.note', 'ticket.updated']));

    // A note alone: a note, no update.
    const before = at.patches.length;
    expect((await api().patch(`/tickets/${t.id}`, { note: 'Waiting for the vendor' })).status).toBe(200);
    await waitFor(async () => at.notes.some((n) => String(n.description).includes('Waiting for the vendor')), 20_000, 'note in Autotask');
    await allDelivered(t.id, 2);
    expect(at.patches.length).toBe(before);

    expect((await api().patch(`/tickets/${t.id}`, { status: 'resolved', note: 'log rotation fixed' })).status).toBe(200);
    await waitFor(async () => at.fields.status === 5, 20_000, 'Autotask ticket completed');
    await waitFor(async () => received.some((r) => r.ticketId === String(t.id) && r.type === 'ticket.closed'), 20_000, 'webhook ticket.closed');
  });

  it('R-ALR-4: a ticket completed IN Autotask closes the hub ticket; Autotask gets nothing back, the webhook is told', async () => {
    await post(alert({ alertId: 'cpu-mail01', title: 'CPU high' }));
    const t = await ticketFor('cpu-mail01');
    await allDelivered(t.id, 2);
    const at = psaTicketOf(t.id);
    const conn = await db('psa_connections').where({ name: 'autotask' }).first();
    const autotaskCalls = () => fake.calls.filter((c) => c.path.startsWith(`/Tickets/${at.id}`) || c.method === 'PATCH').length;
    const callsBefore = autotaskCalls();
    const [r] = await applyStatusReports(db, { id: String(conn.id), name: 'autotask' }, [{ state: { externalId: String(at.id), hubTicketId: String(t.id), status: 'closed', psaStatus: '5', lastActivityAt: null } }], { now: new Date() });
    expect(r!.outcome).toBe('closed');
    expect((await db('tickets').where({ id: t.id }).first()).status).toBe('closed');
    const ds = await deliveries(t.id);
    expect(ds.find((d) => d.name === 'autotask')).toMatchObject({ state: 'delivered', closed_in_psa: true });
    expect(ds.find((d) => d.name === 'relay')!.state).toBe('pending');
    await waitFor(async () => received.some((x) => x.ticketId === String(t.id) && x.type === 'ticket.closed'), 20_000, 'webhook told of the close');
    await allDelivered(t.id, 2);
    // Give a wrong echo every chance to happen: the sweep runs every 500 ms.
    await new Promise((r) => setTimeout(r, 1500));
    expect(autotaskCalls()).toBe(callsBefore);
    expect(at.notes.some((n) => String(n.description).includes('closed in autotask'))).toBe(false);
  });
});

describe('failed deliveries: visible, retryable, counted', () => {
  it('GET /psa-deliveries?state=failed lists a failed delivery with the PSA message; POST …/:id/retry delivers it; metrics count per connection and state', async () => {
    fake.failNext(1, 422);
    await post(alert({ alertId: 'mem-mail01', title: 'Memory low' }));
    const t = await ticketFor('mem-mail01');
    const failed = await waitFor(async () => (await deliveries(t.id)).find((d) => d.name === 'autotask' && d.state === 'failed'), 20_000, 'failed delivery');

    const list = await api().get('/psa-deliveries?state=failed&connection=autotask');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ id: String(failed.id), ticketId: String(t.id), connection: 'autotask', state: 'failed', externalId: null, lastError: expect.stringContaining('injected 422') })]);
    expect((await api().get('/psa-deliveries?state=failed&connection=relay')).body.items).toEqual([]);
    expect((await api().get('/psa-deliveries?state=broken')).status).toBe(400);

    const metrics = await request(h.url).get('/metrics');
    expect(metrics.text).toMatch(/hub_psa_deliveries\{connection="autotask",state="failed"\} 1\b/);
    expect(metrics.text).toMatch(/hub_psa_deliveries\{connection="relay",state="failed"\} 0\b/);
    expect(metrics.text).toMatch(/hub_psa_deliveries\{connection="relay",state="delivered"\} [1-9]/);

    // Not failed: 409; unknown: 404; not an id: 400.
    const relay = (await deliveries(t.id)).find((d) => d.name === 'relay')!;
    await waitFor(async () => (await deliveries(t.id)).find((d) => d.name === 'relay')?.state === 'delivered', 20_000, 'relay delivered');
    expect((await api().post(`/psa-deliveries/${String(relay.id)}/retry`)).status).toBe(409);
    expect((await api().post('/psa-deliveries/99999999/retry')).status).toBe(404);
    expect((await api().post('/psa-deliveries/x1/retry')).status).toBe(400);

    const retry = await api().post(`/psa-deliveries/${String(failed.id)}/retry`);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ retried: [{ id: String(failed.id), connection: 'autotask' }], stillSkipped: [] });
    await allDelivered(t.id, 2);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(1);
    expect(await db('audit_log').where({ entity_type: 'psa_delivery', entity_id: String(failed.id), action: 'retry' })).toHaveLength(1);
    expect((await api().get('/psa-deliveries?state=failed')).body.items).toEqual([]);
    expect((await request(h.url).get('/metrics')).text).toMatch(/hub_psa_deliveries\{connection="autotask",state="failed"\} 0\b/);
  });

  it('POST /psa-deliveries/retry retries every failed one of a connection; a viewer may not', async () => {
    fake.down(true);
    await post(alert({ alertId: 'fan-mail01', title: 'Fan failure' }));
    const t = await ticketFor('fan-mail01');
    // HUB_PSA_ATTEMPTS=2: transient failures give up and fail the delivery.
    await waitFor(async () => (await deliveries(t.id)).find((d) => d.name === 'autotask' && d.state === 'failed'), 30_000, 'gave up');
    fake.down(false);
    const viewer = await issueToken(db, { name: 'psa viewer', role: 'viewer', scope: ALL_COMPANIES, actor: 'test' });
    expect((await request(h.url).get('/api/v1/psa-deliveries').set('Authorization', `Bearer ${viewer.token}`)).status).toBe(403);
    expect((await request(h.url).post('/api/v1/psa-deliveries/retry').set('Authorization', `Bearer ${viewer.token}`).send({})).status).toBe(403);
    expect((await deliveries(t.id)).find((d) => d.name === 'autotask')!.state).toBe('failed');
    const res = await api().post('/psa-deliveries/retry', { connection: 'autotask' });
    expect(res.status).toBe(200);
    expect(res.body.retried).toHaveLength(1);
    await allDelivered(t.id, 2);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(1);
    expect((await api().post('/psa-deliveries/retry', { connection: 'autotask', extra: 1 })).status).toBe(400);
  });
});
