import request from 'supertest';
import type { Knex } from 'knex';
import { createSource, seedWorld } from '../../helpers/seed';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';

/**
 * Issue 19 (the cost per alert, and as the data grows): the alert that opened a ticket stores no
 * decision of its own — the ticket holds the same document (plus the contract `chosen`) — and every
 * reader of the alert still shows it: `GET /api/v1/alerts/:id` and the demo's table
 * (db/queries/alert-list.ts `ALERT_DECISION_SQL`). An alert that did not open its ticket (a repeat, a
 * resolution) keeps its own decision.
 */
const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;

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
const api = (path: string) => request(h.url).get(`/api/v1${path}`).set('Authorization', ADMIN);
const processed = (alertId: string) =>
  waitFor(async () => (await db('alerts').where({ id: alertId, status: 'processed' }).first()) as Record<string, unknown> | undefined, 20_000, `alert ${alertId} processed`);

beforeAll(async () => {
  h = await startTestHub();
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
}, 30_000);
afterAll(async () => h?.close());

it('the opening alert stores none; the API shows the ticket’s document without `chosen`; a repeat keeps its own', async () => {
  const first = await post(alert());
  expect(first.status).toBe(202);
  const openerId = String(first.body.alertIds[0]);
  const opener = await processed(openerId);
  expect(opener.outcome).toBe('ticket_created');
  expect(opener.decision).toBeNull();
  const ticket = (await db('tickets').where({ id: opener.ticket_id }).first()) as { id: string; decision: Record<string, unknown> };
  const { chosen, ...withoutChosen } = ticket.decision;
  expect(chosen).toBeDefined();
  expect(withoutChosen).toMatchObject({ rulesFired: expect.any(Array), facts: expect.objectContaining({ date: '2026-03-10' }) });

  const detail = await api(`/alerts/${openerId}`);
  expect(detail.status).toBe(200);
  expect(detail.body.decision).toEqual(withoutChosen);

  // A repeat of the same condition an hour later: an occurrence on the ticket, with its own decision.
  const again = await post(alert({ occurredAt: '2026-03-10T11:00:00+01:00' }));
  const repeatId = String(again.body.alertIds[0]);
  const repeat = await processed(repeatId);
  expect(repeat.outcome).toBe('occurrence');
  expect(repeat.ticket_id).toBe(ticket.id);
  expect(repeat.decision).toMatchObject({ rulesFired: expect.any(Array) });
  expect((await api(`/alerts/${repeatId}`)).body.decision).toEqual(repeat.decision);
});
