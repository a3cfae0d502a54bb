import request from 'supertest';
import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld, type World } from '../../helpers/seed';

/**
 * Issue 16 on the real Postgres, Redis and BullMQ, against a local fake Autotask
 * (test/helpers/fake-autotask.ts): connections API, psaRefs, the outbox, the delivery worker.
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
const deliveryOf = (ticketId: string) => db('psa_deliveries').where({ ticket_id: ticketId }).first();
const ticketFor = async (alertId: string) =>
  waitFor(async () => db('tickets').where('dedup_key', 'like', `%${alertId}%`).orderBy('id', 'desc').first(), 20_000, `ticket of ${alertId}`);
const delivered = (ticketId: string) =>
  waitFor(async () => {
    const d = await deliveryOf(ticketId);
    return d && d.state === 'delivered' ? d : undefined;
  }, 30_000, `delivery of ticket ${ticketId}`);

beforeAll(async () => {
  fake = await startFakeAutotask();
  h = await startTestHub({
    env: {
      HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl,
      HUB_PSA_COALESCE_MS: '4000',
      HUB_PSA_SWEEP_MS: '500',
      HUB_PSA_BACKOFF_MS: '50',
      HUB_PSA_BREAKER_COOLDOWN_MS: '300',
      HUB_PSA_TIMEOUT_MS: '2000',
    },
  });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

describe('PSA connections and psaRefs over HTTP', () => {
  it('creates an autotask connection: secrets never returned, audited, config checked by the connector schema', async () => {
    const bad = await api().post('/psa-connections', { name: 'autotask', type: 'autotask', config: { username: 'x' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/config\.(secret|integrationCode)/);

    // A high limit here: the default (HUB_PSA_AUTOTASK_RATE_PER_HOUR, spread per minute) would pause the storm test for a minute.
    const res = await api().post('/psa-connections', { name: 'autotask', type: 'autotask', config: { ...fake.credentials, queueId: 29683 }, rateLimitPerHour: 360_000 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'autotask', type: 'autotask', enabled: true, config: { username: fake.credentials.username, queueId: 29683 } });
    expect(res.body.secretsConfigured).toEqual(['integrationCode', 'secret']);
    const shown = JSON.stringify([res.body, (await api().get('/psa-connections')).body, (await api().get('/psa-connections/autotask')).body]);
    expect(shown).not.toContain(fake.credentials.secret);
    expect(shown).not.toContain(fake.credentials.integrationCode);
    const row = await db('psa_connections').where({ name: 'autotask' }).first();
    expect(row.secrets_enc).not.toContain(fake.credentials.secret);
    const audit = await db('audit_log').where({ entity_type: 'psa_connection' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(fake.credentials.secret);

    // The test route calls the fake: zone looked up (no baseUrl), credentials accepted.
    const test = await api().post('/psa-connections/autotask/test', {});
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(true);
    expect(test.body.checks.map((c: { name: string }) => c.name)).toEqual(['zone', 'credentials']);
  });

  it('psaRefs are accepted and returned on companies, contracts, SLAs, services and devices (POST and PATCH)', async () => {
    for (const [path, id, ref] of [
      ['/companies', world.company.id, '29683'],
      ['/contracts', world.mailContract.id, '77'],
      ['/slas', world.sla24x7.id, '5'],
      ['/services', world.serviceMail.id, '31'],
      ['/devices', world.mailServer.id, '4411'],
    ] as const) {
      const res = await api().patch(`${path}/${id}`, { psaRefs: { autotask: ref } });
      expect(res.status).toBe(200);
      expect(res.body.psaRefs).toEqual({ autotask: ref });
      expect((await api().get(`${path}/${id}`)).body.psaRefs).toEqual({ autotask: ref });
    }
    const created = await api().post('/companies', { name: 'Other Ltd', psaRefs: { autotask: 123 } });
    expect(created.status).toBe(201);
    expect(created.body.psaRefs).toEqual({ autotask: '123' });
  });
});

describe('delivery to the fake Autotask', () => {
  it('R-PSA-1, R-LINK-3, R-LINK-5: the ticket reaches Autotask with company, device, contract, SLA, priority, due date, decision, externalID', async () => {
    expect((await post(alert())).status).toBe(202);
    const t = await ticketFor('disk-mail01');
    const d = await delivered(t.id);
    const psaTicket = fake.tickets.find((x) => x.fields.externalID === String(t.id));
    expect(psaTicket).toBeDefined();
    expect(psaTicket!.fields).toMatchObject({
      companyID: 29683,
      configurationItemID: 4411,
      contractID: 77,
      serviceLevelAgreementID: 5,
      priority: 4, // critical in Autotask's default picklist
      status: 1,
      queueID: 29683,
      title: 'Disk C: almost full',
      dueDateTime: new Date(t.resolution_due_at).toISOString(),
    });
    expect(String(psaTicket!.fields.description)).toContain('Contract: Mail server contract');
    expect(String(psaTicket!.fields.description)).toContain('Service: Mail server management');
    expect(String(psaTicket!.fields.description)).toContain('SLA: Premium 24x7');
    expect(d.external_id).toBe(String(psaTicket!.id));
    // Seen on the ticket (SPEC §9).
    const res = await api().get(`/tickets/${t.id}`);
    expect(res.body.psa).toEqual([
      { connection: 'autotask', externalId: String(psaTicket!.id), externalNumber: psaTicket!.ticketNumber, state: 'delivered', attempts: 1, lastError: null, deliveredAt: expect.any(String) },
    ]);
  });

  it('R-ALR-4, R-PSA-2: repeats on the open ticket are coalesced into few notes that count every one; the resolution closes it', async () => {
    const t = await ticketFor('disk-mail01');
    const psaId = (await deliveryOf(t.id)).external_id as string;
    const before = fake.calls.length;
    const repeats = 300;
    let last: unknown = null;
    // Each repeat a new firing of the same alert (a later occurredAt): the same delivery sent twice is one receipt, not a repeat.
    for (let i = 0; i < repeats; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => post(alert({ occurredAt: new Date(Date.parse('2026-03-10T09:00:00Z') + (i + k + 1) * 1000).toISOString() }))));
    await waitFor(async () => {
      const d = await deliveryOf(t.id);
      const psaT = fake.tickets.find((x) => String(x.id) === psaId)!;
      const counted = psaT.notes.reduce((n, note) => n + Number(/\+([\d,]+) occurrences?/.exec(String(note.description))?.[1]?.replace(/,/g, '') ?? 0), 0);
      last = { state: d.state, counted, pending: d.pending_occurrences, err: d.last_error, occ: (await db('tickets').where({ id: t.id }).first()).occurrences, outcomes: await db('alerts').select('outcome', 'status').count('* as n').groupBy('outcome', 'status'), tix: await db('tickets').select('id', 'dedup_key', 'occurrences', 'status') };
      return d.state === 'delivered' && counted === repeats;
    }, 30_000, 'all repeats noted').catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(last)}`);
    });
    expect(fake.calls.length - before).toBeLessThanOrEqual(20);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(1);

    await post(alert({ state: 'resolved' }));
    await waitFor(async () => fake.tickets.find((x) => String(x.id) === psaId)?.fields.status === 5, 20_000, 'PSA ticket completed');
  });

  it('exactly once: a create whose answer is lost is found by its externalID, not created again', async () => {
    fake.loseNextCreate();
    await post(alert({ alertId: 'cpu-mail01', title: 'CPU high' }));
    const t = await ticketFor('cpu-mail01');
    const d = await delivered(t.id);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(1);
    expect(d.attempts).toBeGreaterThanOrEqual(2);
    expect(fake.calls.some((c) => c.path === '/Tickets/query')).toBe(true);
  });

  it('429 with Retry-After and a 500 are retried; a 4xx fails the delivery with the PSA message, visible on the ticket', async () => {
    fake.failNext(1, 429, 1);
    fake.failNext(1, 500);
    await post(alert({ alertId: 'mem-mail01', title: 'Memory low' }));
    const t = await ticketFor('mem-mail01');
    await delivered(t.id);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(1);

    fake.failNext(1, 422);
    await post(alert({ alertId: 'net-mail01', title: 'NIC down' }));
    const t2 = await ticketFor('net-mail01');
    const failed = await waitFor(async () => {
      const d = await deliveryOf(t2.id);
      return d?.state === 'failed' ? d : undefined;
    }, 20_000, 'failed delivery');
    expect(failed.last_error).toContain('injected 422');
    const res = await api().get(`/tickets/${t2.id}`);
    expect(res.body.psa[0]).toMatchObject({ connection: 'autotask', state: 'failed', lastError: expect.stringContaining('injected 422') });
  });

  it('R-PSA-1: a ticket whose company has no ref for the connection is not sent there and says so', async () => {
    await api().patch(`/companies/${world.company.id}`, { psaRefs: {} });
    await post(alert({ alertId: 'fan-mail01', title: 'Fan failure' }));
    const t = await ticketFor('fan-mail01');
    const d = await waitFor(async () => deliveryOf(t.id), 10_000, 'delivery row');
    expect(d.state).toBe('skipped');
    expect(d.last_error).toMatch(/has no psaRefs\.autotask/);
    expect(fake.tickets.filter((x) => x.fields.externalID === String(t.id))).toHaveLength(0);
    await api().patch(`/companies/${world.company.id}`, { psaRefs: { autotask: '29683' } });
  });
});
