import request from 'supertest';
import type { Knex } from 'knex';
import { pollPsaStatus } from '../../../app/psa/poll-status';
import { openSecrets } from '../../../app/psa/connection-secrets';
import { queryPage } from '../../../connectors/autotask/query';
import { createLogger } from '../../../lib/logger';
import { FAKE_WEBHOOK_FIELD_IDS, startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld, type World } from '../../helpers/seed';

/**
 * Issue 16 item 4 end to end on the real Postgres, Redis and workers against the fake Autotask:
 * the hub registers its own ticket webhook (`POST /api/v1/psa-connections/:name/webhook`:
 * TicketWebhooks + its status field, idempotent by URL, a generated webhookSecret stored sealed),
 * the fake then calls it signed when a technician completes the ticket → the hub ticket is closed
 * (R-PSA-3) and the next firing opens a new one (R-ALR-4), nothing echoed back; and the polling
 * fallback (`lastActivityDate gt`, paged by nextPageUrl) does the same without a webhook.
 */
const TOKEN = 'generic-source-token-0123456789';
let fake: FakeAutotask;
let h: TestHub;
let db: Knex;
let world: World;

const alert = (over: Record<string, unknown> = {}) => ({
  alertId: 'disk-mail01',
  state: 'firing',
  severity: 'critical',
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
  post: (p: string, b: unknown) => request(h.url).post(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
  patch: (p: string, b: unknown) => request(h.url).patch(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
});
async function settled(): Promise<void> {
  await waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return Number(r.n) === 0;
  }, 20_000, 'all receipts processed');
}
const newestTicket = () => db('tickets').orderBy('id', 'desc').first();
const delivered = (ticketId: string) =>
  waitFor(async () => {
    const d = await db('psa_deliveries').where({ ticket_id: ticketId }).first();
    return d && d.state === 'delivered' && d.sent_seq === d.change_seq ? d : undefined;
  }, 30_000, `delivery of ticket ${ticketId}`);
const poll = () =>
  pollPsaStatus({ db, logger: createLogger('silent'), now: () => new Date(), secretKeys: h.config.HUB_SECRET_KEYS, connectorDeps: { autotaskZoneLookupUrl: fake.baseUrl, timeoutMs: 2000 } });

beforeAll(async () => {
  fake = await startFakeAutotask();
  h = await startTestHub({
    env: {
      HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl,
      HUB_PSA_COALESCE_MS: '200',
      HUB_PSA_SWEEP_MS: '300',
      HUB_PSA_BACKOFF_MS: '50',
      HUB_PSA_TIMEOUT_MS: '2000',
    },
  });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  // No webhookSecret: registering the webhook generates one.
  const res = await api().post('/psa-connections', { name: 'autotask', type: 'autotask', config: { ...fake.credentials }, rateLimitPerHour: 360_000 });
  expect(res.status).toBe(201);
  expect((await api().patch(`/companies/${world.company.id}`, { psaRefs: { autotask: '29683' } })).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe('Autotask webhook registration (POST /api/v1/psa-connections/:name/webhook)', () => {
  it('refuses a public http URL, an unknown connection and a non-admin token before calling Autotask', async () => {
    const http = await api().post('/psa-connections/autotask/webhook', { url: 'http://hub.example.com' });
    expect(http.status).toBe(400);
    expect(http.body.error.message).toMatch(/^url: must be https/);
    expect((await api().post('/psa-connections/autotask/webhook', { url: 'https://hub.example.com?x=1' })).status).toBe(400);
    expect((await api().post('/psa-connections/autotask/webhook', { url: 'https://hub.example.com', secretKey: 'mass assignment' })).status).toBe(400);
    expect((await api().post('/psa-connections/nope/webhook', { url: 'https://hub.example.com' })).status).toBe(404);
    const token = await api().post('/tokens', { name: 'op', role: 'operator' });
    expect(token.status).toBe(201);
    const op = await request(h.url).post('/api/v1/psa-connections/autotask/webhook').set('Authorization', `Bearer ${token.body.token}`).send({ url: 'https://hub.example.com' });
    expect(op.status).toBe(403);
    expect(fake.calls.filter((c) => c.path.startsWith('/TicketWebhook'))).toEqual([]);
    expect(fake.webhooks).toEqual([]);
  });

  it('is in the OpenAPI document, admin-only, with its body and answer', async () => {
    const doc = (await api().get('/openapi.json')).body;
    const op = doc.paths['/api/v1/psa-connections/{name}/webhook']?.post;
    expect(op).toBeDefined();
    expect(JSON.stringify(op)).toContain('PsaWebhookRegistration');
    expect(JSON.stringify(op.requestBody)).toContain('url');
  });

  it('creates the TicketWebhooks entity with its status field and a generated secret (stored sealed, never shown); a second run finds it', async () => {
    const res = await api().post('/psa-connections/autotask/webhook', { url: `${h.url}/` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      connection: 'autotask',
      webhookUrl: `${h.url}/hooks/psa/autotask`,
      webhookId: String(fake.webhooks[0]!.id),
      guid: fake.webhooks[0]!.guid,
      created: true,
      statusFieldAdded: true,
      secretGenerated: true,
    });
    const row = await db('psa_connections').where({ name: 'autotask' }).first();
    const secret = String(openSecrets(row, h.config.HUB_SECRET_KEYS)!.webhookSecret);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]!.fields).toMatchObject({
      webhookUrl: `${h.url}/hooks/psa/autotask`,
      deactivationUrl: `${h.url}/hooks/psa/autotask`,
      secretKey: secret,
      isActive: true,
      isSubscribedToUpdateEvents: true,
    });
    expect(fake.webhooks[0]!.webhookFields).toEqual([expect.objectContaining({ fieldID: FAKE_WEBHOOK_FIELD_IDS.status, isSubscribedField: true })]);
    const shown = JSON.stringify([res.body, (await api().get('/psa-connections/autotask')).body, await db('audit_log').where({ entity_type: 'psa_connection' })]);
    expect(shown).not.toContain(secret);
    expect((await api().get('/psa-connections/autotask')).body.secretsConfigured).toEqual(['integrationCode', 'secret', 'webhookSecret']);

    // Idempotent: found by its URL (a secret key changed in Autotask by hand is set back to the hub's), no second webhook or field.
    fake.webhooks[0]!.fields.secretKey = 'changed-by-hand';
    const again = await api().post('/psa-connections/autotask/webhook', { url: h.url });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, statusFieldAdded: false, secretGenerated: false, webhookId: res.body.webhookId });
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]!.webhookFields).toHaveLength(1);
    expect(fake.webhooks[0]!.fields.secretKey).toBe(secret);
    const stillSecret = openSecrets(await db('psa_connections').where({ name: 'autotask' }).first(), h.config.HUB_SECRET_KEYS)!.webhookSecret;
    expect(stillSecret).toBe(secret);
  });

  it('a webhook created without its field (a crash between the two calls) is completed by the next run', async () => {
    fake.webhooks[0]!.webhookFields.length = 0;
    const res = await api().post('/psa-connections/autotask/webhook', { url: h.url });
    expect(res.body).toMatchObject({ created: false, statusFieldAdded: true });
    expect(fake.webhooks).toHaveLength(1);
    expect(fake.webhooks[0]!.webhookFields).toEqual([expect.objectContaining({ fieldID: FAKE_WEBHOOK_FIELD_IDS.status, isSubscribedField: true })]);
  });

  it('an Autotask refusal is a 422 with its message, not a 500', async () => {
    fake.failNext(1, 403, undefined);
    const res = await api().post('/psa-connections/autotask/webhook', { url: h.url });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('injected 403');
  });
});

describe('status back from the fake Autotask', () => {
  it('R-PSA-3, R-ALR-4: created via the hub, completed in Autotask → the signed webhook closes the hub ticket; nothing echoed; the next firing opens a new ticket', async () => {
    expect((await post(alert())).status).toBe(202);
    await settled();
    const t1 = await newestTicket();
    const d = await delivered(String(t1.id));
    const atId = Number(d.external_id);
    expect(fake.tickets.find((x) => x.id === atId)!.fields.externalID).toBe(String(t1.id));
    const callsBefore = fake.calls.length;

    const sent = await fake.setTicketStatus(atId, 5);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.status).toBe(200);
    expect(JSON.parse(sent[0]!.answer)).toEqual({ outcome: 'closed', ticketId: String(t1.id) });
    expect((await db('tickets').where({ id: t1.id }).first()).status).toBe('closed');
    expect(await db('audit_log').where({ entity_type: 'ticket', entity_id: String(t1.id), action: 'ticket.status' }).first()).toMatchObject({ actor: 'psa:autotask' });
    // Nothing left to send for it: the close counts as sent (checked again below, once later deliveries went through).
    expect(await db('psa_deliveries').where({ ticket_id: t1.id }).first()).toMatchObject({ closed_in_psa: true, sent_seq: d.change_seq });

    // R-ALR-4: the next firing opens a new ticket, delivered as a new Autotask ticket.
    expect((await post(alert({ occurredAt: '2026-03-10T11:00:00+01:00' }))).status).toBe(202);
    await settled();
    const t2 = await newestTicket();
    expect(String(t2.id)).not.toBe(String(t1.id));
    expect(t2).toMatchObject({ status: 'new', occurrences: 1 });
    const d2 = await delivered(String(t2.id));
    expect(Number(d2.external_id)).not.toBe(atId);
    // Not echoed back: after the change, Autotask got no PATCH and no note for the first ticket.
    const after = fake.calls.slice(callsBefore);
    expect(after.some((c) => c.method === 'POST' && c.path === '/Tickets')).toBe(true);
    expect(fake.tickets.find((x) => x.id === atId)!.patches).toEqual([]);
    expect(after.filter((c) => c.path === `/Tickets/${atId}/Notes`)).toEqual([]);
  });

  it('R-ALR-4: the hub\'s own resolution reported back by the webhook (Complete) leaves the hub ticket resolved — its reopen window stays', async () => {
    expect((await post(alert({ alertId: 'cpu-mail01', category: 'cpu', title: 'CPU high', occurredAt: '2026-03-10T12:00:00+01:00' }))).status).toBe(202);
    await settled();
    const t = await newestTicket();
    await delivered(String(t.id));
    const before = fake.callouts.length;
    expect((await post(alert({ alertId: 'cpu-mail01', category: 'cpu', title: 'CPU high', state: 'resolved', occurredAt: '2026-03-10T12:05:00+01:00' }))).status).toBe(202);
    await settled();
    expect((await db('tickets').where({ id: t.id }).first()).status).toBe('resolved');
    // The hub tells Autotask (status Complete); Autotask's webhook reports that same change back.
    const back = await waitFor(async () => fake.callouts.slice(before).find((c) => String(c.body).includes(`"Id":${Number((fake.tickets.find((x) => x.fields.externalID === String(t.id)) ?? { id: -1 }).id)}`)), 30_000, 'the callout of the hub\'s own resolution');
    expect(back.status).toBe(200);
    expect(JSON.parse(back.answer)).toMatchObject({ outcome: 'already-resolved' });
    expect((await db('tickets').where({ id: t.id }).first()).status).toBe('resolved');
  });

  it('R-PSA-3 by polling (no webhook): lastActivityDate since the cursor, every page read; tickets the hub did not make are not asked for', async () => {
    fake.webhooks[0]!.fields.isActive = false;
    fake.pageSize = 1;
    // The open one (the newest is the ticket the hub resolved itself, above).
    const t = await db('tickets').where({ status: 'new' }).orderBy('id', 'desc').first();
    const d = await delivered(String(t.id));
    // A ticket made in Autotask by a technician (no externalID): not part of the poll's answer.
    fake.tickets.push({ id: 99_001, ticketNumber: 'T20261206.9999', fields: { companyID: 29683, title: 'by hand', status: 5, lastActivityDate: new Date().toISOString() }, notes: [], patches: [] });
    expect(await fake.setTicketStatus(Number(d.external_id), 5)).toEqual([]);
    expect((await db('tickets').where({ id: t.id }).first()).status).not.toBe('closed');

    const [r] = await poll();
    expect(r).toMatchObject({ connection: 'autotask', polled: true, error: null });
    // The three hub tickets of this file changed within the look-back (the first closed by its webhook,
    // the second resolved by the hub itself): three pages of one.
    expect(r!.reports).toBe(3);
    expect(r!.results).toEqual(
      expect.arrayContaining([
        { externalId: d.external_id, ticketId: String(t.id), outcome: 'closed' },
        expect.objectContaining({ outcome: 'already-closed' }),
        expect.objectContaining({ outcome: 'already-resolved' }),
      ]),
    );
    expect(r!.results.map((x) => x.externalId)).not.toContain('99001');
    expect(fake.calls.some((c) => c.method === 'GET' && /^\/Tickets\/query\/next$/.test(c.path))).toBe(true);
    expect((await db('tickets').where({ id: t.id }).first()).status).toBe('closed');
    const cursor = await db('psa_status_back').join('psa_connections', 'psa_connections.id', 'psa_status_back.connection_id').where('psa_connections.name', 'autotask').first('polled_until', 'last_poll_error');
    expect(cursor.polled_until).toBeInstanceOf(Date);
    expect(cursor.last_poll_error).toBeNull();

    // Polled again: the overlap re-reads them, nothing happens twice.
    const [again] = await poll();
    expect(again!.closed).toBe(0);
    fake.pageSize = 500;
  });

  it('a paging answer pointing outside the zone is not followed (the credentials stay home)', async () => {
    const sent: string[] = [];
    const ctx = {
      config: {} as never,
      headers: { Secret: 'x' },
      baseUrl: async () => fake.baseUrl,
      now: () => new Date(),
      http: { send: async (_m: string, url: string) => (sent.push(url), { status: 200, headers: {}, body: { items: [], pageDetails: { nextPageUrl: null } } }), close: async () => undefined },
      call: async () => ({ status: 200, headers: {}, body: {} }),
    };
    await expect(queryPage(ctx, 'Tickets', { filter: [] }, 'https://evil.example.com/atservicesrest/v1.0/Tickets/query/next?paging=x')).rejects.toMatchObject({ kind: 'permanent' });
    await expect(queryPage(ctx, 'Tickets', { filter: [] }, `${fake.url}/other/v1.0/Tickets/query/next`)).rejects.toMatchObject({ kind: 'permanent' });
    expect(sent).toEqual([]);
    await queryPage(ctx, 'Tickets', { filter: [] }, `${fake.baseUrl}/v1.0/Tickets/query/next?paging=x`);
    expect(sent).toEqual([`${fake.baseUrl}/v1.0/Tickets/query/next?paging=x`]);
  });
});
