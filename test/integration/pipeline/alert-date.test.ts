import request from 'supertest';
import type { Knex } from 'knex';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { expectConforms } from '../admin/admin-helpers';

/**
 * Which day is "the alert's date" (issue 15 item 5) and the default contract around renewals (item
 * 6): R-LINK-3/4, R-REN-5, R-REN-10, R-REN-12 over HTTP on the real Postgres and Redis. The seed
 * world's contracts run through 2026; its SLAs are in Europe/Berlin.
 */

const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let world: World;
let mailRenewal: string;

const post = (body: unknown) =>
  request(h.url)
    .post('/hooks/rmm')
    .set('Authorization', `Bearer ${TOKEN}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));
const api = () => request(h.url);

async function ticketFor(
  alertId: string,
  device: { id: string; hostname: string },
  occurredAt: string,
): Promise<{ contract_id: string | null; needs_triage: boolean; decision: { facts: { date: string } } }> {
  const res = await post({
    alertId,
    state: 'firing',
    severity: 'critical',
    category: 'disk',
    title: 't',
    device: { ...device, site: 'acme-hq' },
    occurredAt,
  });
  expect(res.status).toBe(202);
  return waitFor(
    () =>
      db('tickets')
        .where({ id: db('alerts').select('ticket_id').where({ id: res.body.alertIds[0] }) })
        .first(),
    20_000,
    `ticket of ${alertId}`,
  );
}
const mail = { id: 'dev-mail01', hostname: 'mail01' };
const workstation = { id: 'dev-ws17', hostname: 'ws17' };
const setZone = (timezone: string | null) =>
  api().patch(`/api/v1/companies/${world.company.id}`).set('Authorization', ADMIN).send({ timezone });

beforeAll(async () => {
  h = await startTestHub();
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, {
    name: 'rmm',
    plugin: 'generic',
    auth: { type: 'token', token: TOKEN },
  });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  // R-REN-10: the mail server's contract renewed from 1 July 2026; its link moves to the renewal on that date.
  const renewed = await api()
    .post(`/api/v1/contracts/${world.mailContract.id}/renewal`)
    .set('Authorization', ADMIN)
    .send({ startDate: '2026-07-01' });
  expect(renewed.status).toBe(201);
  mailRenewal = String(renewed.body.renewal.id);
  // R-REN-12: the default service-desk contract renewed back-dated from 1 June 2026 (before "today"):
  // the original ends on 31 May and is deactivated now (R-REN-5); the renewal is the default from June.
  const desk = await api()
    .post(`/api/v1/contracts/${world.defaultContract.id}/renewal`)
    .set('Authorization', ADMIN)
    .send({ startDate: '2026-06-01' });
  expect(desk.status).toBe(201);
  expect((await db('contracts').where({ id: world.defaultContract.id }).first()).status).toBe('inactive');
});
afterAll(async () => h?.close());

// These run first, while the company has no zone of its own.
describe('issue 15 item 5 without a company zone', () => {
  it("R-LINK-3, R-LINK-5: without a company zone, the zone of the contract's SLA (Berlin) dates the alert", async () => {
    const t = await ticketFor('tz-sla', mail, '2026-06-30T22:30:00Z');
    expect(String(t.contract_id)).toBe(mailRenewal);
    expect(t.decision.facts.date).toBe('2026-07-01');
  });
});

describe('issue 15 item 6: the default contract around renewals', () => {
  it('R-LINK-4, R-REN-5: an alert dated before a back-dated renewal finds the default that was the default on that date, though inactive now', async () => {
    const t = await ticketFor('dflt-before', workstation, '2026-05-15T10:00:00Z');
    expect(String(t.contract_id)).toBe(String(world.defaultContract.id));
    expect(t.needs_triage).toBe(false);
  });

  it("R-LINK-4, R-REN-12: from the renewal's start the renewal is the default", async () => {
    const renewal = await db('contracts').where({ renewal_of_id: world.defaultContract.id }).first();
    const t = await ticketFor('dflt-after', { id: 'dev-ws18', hostname: 'ws18' }, '2026-06-15T10:00:00Z');
    expect(String(t.contract_id)).toBe(String(renewal.id));
  });
});

describe("issue 15 item 5: the alert's date is the date in the company's zone, else the SLA's", () => {
  it('companies take an IANA time zone over the API (validated, in the OpenAPI document)', async () => {
    const bad = await setZone('Mars/Olympus_Mons');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toMatch(/timezone/);
    const ok = await setZone('Europe/Berlin');
    expect(ok.status).toBe(200);
    expect(ok.body.timezone).toBe('Europe/Berlin');
    expectConforms('patch', `/api/v1/companies/${world.company.id}`, ok);
    const created = await api()
      .post('/api/v1/companies')
      .set('Authorization', ADMIN)
      .send({ name: 'Zoned Inc', timezone: 'America/New_York' });
    expect(created.status).toBe(201);
    expect(created.body.timezone).toBe('America/New_York');
    const doc = await api().get('/api/v1/openapi.json').set('Authorization', ADMIN);
    expect(JSON.stringify(doc.body.components.schemas.Company)).toContain('timezone');
  });

  it("R-LINK-3, R-REN-10: 00:30 Berlin time on the renewal's start date belongs to the renewal (company in Berlin)", async () => {
    expect((await setZone('Europe/Berlin')).status).toBe(200);
    const t = await ticketFor('tz-berlin', mail, '2026-06-30T22:30:00Z');
    expect(String(t.contract_id)).toBe(mailRenewal);
    expect(t.decision.facts.date).toBe('2026-07-01');
  });

  it("R-LINK-3: a company in New York: 02:00 UTC on 1 July is still 30 June there — the original's day", async () => {
    expect((await setZone('America/New_York')).status).toBe(200);
    const t = await ticketFor('tz-ny', mail, '2026-07-01T02:00:00Z');
    expect(String(t.contract_id)).toBe(String(world.mailContract.id));
    expect(t.decision.facts.date).toBe('2026-06-30');
  });
});
