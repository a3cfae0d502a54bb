import request from 'supertest';
import type { Knex } from 'knex';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { processReceipt } from '../../../app/alerts/apply-receipts';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';

const TOKEN = 'generic-source-token-0123456789';
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

const post = (body: unknown, token = TOKEN) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

async function settled(): Promise<void> {
  await waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return Number(r.n) === 0;
  }, 20_000, 'all receipts processed');
}

const tickets = () => db('tickets').orderBy('id');

beforeAll(async () => {
  h = await startTestHub();
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
});
afterAll(async () => h.close());
beforeEach(async () => {
  await db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
});

describe('alert pipeline over HTTP (real Postgres + Redis + BullMQ)', () => {
  it('R-LINK-3, R-LINK-5, R-ALR-3: a linked device gets its contract, service, SLA, priority and due dates', async () => {
    const res = await post(alert());
    expect(res.status).toBe(202);
    expect(res.body.alertIds).toHaveLength(1);
    await settled();
    const [t] = await tickets();
    expect(t).toMatchObject({
      contract_id: world.mailContract.id,
      service_id: world.serviceMail.id,
      sla_id: world.sla24x7.id,
      priority: 'critical',
      status: 'new',
      needs_triage: false,
      occurrences: 1,
      device_id: world.mailServer.id,
    });
    // 24x7 SLA, critical: 15 / 60 / 240 minutes from creation.
    const created = new Date(t.created_at).getTime();
    expect(new Date(t.first_response_due_at).getTime() - created).toBeGreaterThanOrEqual(15 * 60_000 - 2000);
    expect(new Date(t.first_response_due_at).getTime() - created).toBeLessThanOrEqual(15 * 60_000 + 2000);
    expect(new Date(t.resolution_due_at).getTime() - new Date(t.first_response_due_at).getTime()).toBeCloseTo(225 * 60_000, -4);
    expect(t.decision.rulesFired.length).toBeGreaterThan(0);
    expect(t.ruleset_version).toBeGreaterThanOrEqual(1);
    const stored = await db('alerts').where({ id: res.body.alertIds[0] }).first();
    expect(stored).toMatchObject({ status: 'processed', ticket_id: t.id, outcome: 'ticket_created' });
  });

  it('R-LINK-4: a device without a contract falls back to the default service-desk contract', async () => {
    await post(alert({ alertId: 'cpu-ws17', device: { id: 'dev-ws17', hostname: 'ws17', site: 'acme-hq' } }));
    await settled();
    const [t] = await tickets();
    expect(t).toMatchObject({ contract_id: world.defaultContract.id, sla_id: world.slaOffice.id, needs_triage: false });
    // R-LINK-7: the unknown workstation was created as a discovered device of the site's company.
    const d = await db('devices').where({ hostname: 'ws17' }).first();
    expect(d).toMatchObject({ company_id: world.company.id, discovered: true });
    expect(await db('device_source_refs').where({ source: 'rmm', source_device_id: 'dev-ws17' }).first()).toBeTruthy();
  });

  it('R-LINK-4: an unknown site still yields a ticket, without contract, marked for triage', async () => {
    await post(alert({ alertId: 'x1', device: { id: 'dev-x', hostname: 'unknown-host', site: 'nowhere' } }));
    await settled();
    const [t] = await tickets();
    expect(t).toMatchObject({ contract_id: null, company_id: null, needs_triage: true });
  });

  it('R-ALR-4: 3 concurrent identical deliveries → 1 ticket with 3 occurrences, same alert ids', async () => {
    const body = alert({ alertId: 'dup-1' });
    const res = await Promise.all([post(body), post(body), post(body)]);
    expect(res.map((r) => r.status)).toEqual([202, 202, 202]);
    const ids = new Set(res.map((r) => String(r.body.alertIds)));
    expect(ids.size).toBe(1);
    await settled();
    const all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0].occurrences).toBe(3);
  });

  it('R-ALR-4: a resolved event resolves the ticket; a re-fire after that opens a new ticket', async () => {
    await post(alert({ alertId: 'flip' }));
    await settled();
    await post(alert({ alertId: 'flip', state: 'resolved', occurredAt: '2026-03-10T10:05:00+01:00' }));
    await settled();
    let all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'resolved', resolved_automatically: true });
    await post(alert({ alertId: 'flip', occurredAt: '2026-03-10T11:00:00+01:00' }));
    await settled();
    all = await tickets();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: 'new', occurrences: 1 });
  });

  it('R-ALR-4: a job that runs twice (at-least-once) or after a crash post-commit applies the receipt once', async () => {
    const res = await post(alert({ alertId: 'twice' }));
    await settled();
    const receipt = await db('alert_receipts').where({ alert_id: res.body.alertIds[0] }).first();
    const deps = {
      db,
      logger: createLogger('silent'),
      now: () => new Date(),
      rules: h.hub.rules,
      slas: new SlaCache(),
    };
    // The same receipt applied again, twice concurrently: no second ticket, no extra occurrence.
    const again = await Promise.all([processReceipt(deps, receipt.id), processReceipt(deps, receipt.id)]);
    expect(again.map((r) => r.outcome)).toEqual(['already_processed', 'already_processed']);
    const all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0].occurrences).toBe(1);
  });

  it('R-ALR-5: invalid payloads get a 400 naming the field, and nothing is stored', async () => {
    const before = await db('alerts').count({ n: '*' }).first();
    const bad = await post(alert({ severity: 'urgent' }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/severity/);
    const noTitle = await post({ ...alert(), title: undefined });
    expect(noTitle.status).toBe(400);
    expect(noTitle.body.error.message).toMatch(/title/);
    const notJson = await request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).send('{"alertId":');
    expect(notJson.status).toBe(400);
    expect(await db('alerts').count({ n: '*' }).first()).toEqual(before);
    expect(await db('deliveries').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('R-ALR-1: wrong token → 401, unknown source → the same 401 (issue 13 item 8), oversized body → 413; nothing stored', async () => {
    expect((await post(alert(), 'wrong-token-wrong-token-1234')).status).toBe(401);
    expect((await request(h.url).post('/hooks/rmm').send(JSON.stringify(alert()))).status).toBe(401);
    expect((await request(h.url).post('/hooks/nope').set('Authorization', `Bearer ${TOKEN}`).send('{}')).status).toBe(401);
    const big = JSON.stringify({ ...alert(), message: 'x'.repeat(2 * 1024 * 1024) });
    const r = await request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(big);
    expect(r.status).toBe(413);
    expect(await db('deliveries').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('R-ALR-1: a sender delivery id makes a retry answer the same ids without a second receipt', async () => {
    const body = JSON.stringify(alert({ alertId: 'idem' }));
    const send = () =>
      request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Idempotency-Key', 'delivery-42').set('Content-Type', 'application/json').send(body);
    const a = await send();
    const b = await send();
    expect(b.status).toBe(202);
    expect(b.body.alertIds).toEqual(a.body.alertIds);
    await settled();
    expect(await db('alert_receipts').count({ n: '*' }).first()).toEqual({ n: '1' });
  });
});
