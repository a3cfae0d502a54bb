import request from 'supertest';
import type { Knex } from 'knex';
import { autotaskSignature } from '../../../connectors/autotask/callout';
import { createSource, seedWorld } from '../../helpers/seed';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { insertDeliveredTicket, insertPsaConnection } from './psa-fixtures';

/**
 * R-PSA-3 and R-ALR-4 over HTTP on the real Postgres, Redis and workers: an Autotask ticket
 * completed in the PSA (its signed ticket webhook, `POST /hooks/psa/:connection`) closes the hub
 * ticket, so the next firing of the alert opens a new one; the callout is verified on the raw
 * bytes, refused before any work when unsigned, oversized or for a connection without a secret,
 * applied once when replayed, and never echoed back to the PSA.
 */
const TOKEN = 'generic-source-token-0123456789';
const WEBHOOK_SECRET = 'autotask-webhook-secret-key-1';
let h: TestHub;
let db: Knex;
let connectionId: string;

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
const postAlert = (body: unknown) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));

async function settled(): Promise<void> {
  await waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return Number(r.n) === 0;
  }, 20_000, 'all receipts processed');
}

const callout = (id: number, status: number, seq: number, over: Record<string, unknown> = {}) =>
  JSON.stringify({ Action: 'Update', Guid: '6a1c3f0e-2b0c-4d3e-9f1a-1b2c3d4e5f60', EntityType: 'Ticket', Id: id, Fields: { status }, EventTime: '2026-03-10T10:30:00Z', SequenceNumber: seq, PersonID: 29682885, ...over });
const postCallout = (connection: string, raw: string, signature: string | null = autotaskSignature(WEBHOOK_SECRET, Buffer.from(raw))) => {
  const r = request(h.url).post(`/hooks/psa/${connection}`).set('Content-Type', 'application/json');
  if (signature !== null) r.set('X-Hook-Signature', signature);
  return r.send(raw);
};

beforeAll(async () => {
  h = await startTestHub();
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  const at = { username: 'api@example.com', secret: 's3cret', integrationCode: 'INTCODE', baseUrl: 'http://127.0.0.1:9/atservicesrest' };
  connectionId = await insertPsaConnection(db, h.config.HUB_SECRET_KEYS, { name: 'at', type: 'autotask', config: { ...at, webhookSecret: WEBHOOK_SECRET } });
  await insertPsaConnection(db, h.config.HUB_SECRET_KEYS, { name: 'at-nosecret', type: 'autotask', config: at });
});
afterAll(async () => h.close());

describe('status back: Autotask ticket webhook (R-PSA-3)', () => {
  it('R-PSA-3, R-ALR-4: completed in Autotask closes the hub ticket; the next firing opens a new ticket; a replay does nothing', async () => {
    await postAlert(alert());
    await settled();
    const [t1] = await db('tickets').orderBy('id');
    const deliveryId = await insertDeliveredTicket(db, String(t1.id), connectionId, '5001');

    // Still open in Autotask (status 8 = In Progress): nothing changes, repeats still count on the ticket.
    const inProgress = await postCallout('at', callout(5001, 8, 1));
    expect(inProgress.status).toBe(200);
    expect(inProgress.body).toEqual({ outcome: 'still-open-in-psa', ticketId: String(t1.id) });
    await postAlert(alert({ occurredAt: '2026-03-10T10:10:00+01:00' }));
    await settled();
    expect(await db('tickets').count({ n: '*' }).first()).toEqual({ n: '1' });

    // Complete (5): the hub ticket is closed, audited as the PSA's doing, and not echoed back.
    const raw = callout(5001, 5, 2);
    const done = await postCallout('at', raw);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ outcome: 'closed', ticketId: String(t1.id) });
    expect(await db('tickets').where({ id: t1.id }).first()).toMatchObject({ status: 'closed' });
    expect(await db('audit_log').where({ entity_type: 'ticket', entity_id: String(t1.id), action: 'ticket.status' }).first()).toMatchObject({ actor: 'psa:at' });
    const d = await db('psa_deliveries').where({ id: deliveryId }).first();
    // Nothing to update or close in Autotask (every change counts as sent); the repeat's note may still be pending.
    expect(d).toMatchObject({ closed_in_psa: true });
    expect(d.sent_seq).toBe(d.change_seq);

    // The same callout again (Autotask's re-send, or a replay of the captured body): once only.
    const replay = await postCallout('at', raw);
    expect(replay.status).toBe(200);
    expect(replay.body.outcome).toBe('duplicate');
    expect(await db('psa_status_events').where({ connection_id: connectionId }).count({ n: '*' }).first()).toEqual({ n: '2' });

    // R-ALR-4: the next firing opens a new ticket.
    await postAlert(alert({ occurredAt: '2026-03-10T11:00:00+01:00' }));
    await settled();
    const all = await db('tickets').orderBy('id');
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: 'new', occurrences: 1 });
  });

  it('refuses a wrong or missing signature, an unknown connection and a connection without webhookSecret alike (401), before any work', async () => {
    const raw = callout(5001, 5, 99);
    expect((await postCallout('at', raw, 'sha1=' + Buffer.alloc(20).toString('base64'))).status).toBe(401);
    expect((await postCallout('at', raw, null)).status).toBe(401);
    expect((await postCallout('at', raw, autotaskSignature('another-secret', Buffer.from(raw)))).status).toBe(401);
    // Signed over other bytes (re-serialized JSON with different spacing): refused.
    expect((await postCallout('at', JSON.stringify(JSON.parse(raw), null, 2), autotaskSignature(WEBHOOK_SECRET, Buffer.from(raw)))).status).toBe(401);
    const unknown = await postCallout('nope', raw);
    const noSecret = await postCallout('at-nosecret', raw, autotaskSignature('', Buffer.from(raw)));
    expect([unknown.status, noSecret.status]).toEqual([401, 401]);
    expect(unknown.body).toEqual(noSecret.body);
    expect(await db('psa_status_events').where('event_key', 'like', '%:99').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('413 for an oversized body and 400 for a signed but invalid payload; other entities are ignored', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
    expect((await postCallout('at', big)).status).toBe(413);
    const notJson = 'not json';
    expect((await postCallout('at', notJson)).status).toBe(400);
    const noId = JSON.stringify({ Action: 'Update', Guid: 'g', EntityType: 'Ticket', Fields: {} });
    const bad = await postCallout('at', noId);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^Id/);
    const company = await postCallout('at', callout(77, 5, 3, { EntityType: 'Company' }));
    expect(company.status).toBe(200);
    expect(company.body.outcome).toBe('ignored');
  });

  it('a PSA ticket the hub did not create, and a ticket deleted in the PSA, change nothing', async () => {
    expect((await postCallout('at', callout(999999, 5, 4))).body).toEqual({ outcome: 'not-a-hub-ticket', ticketId: null });
    await postAlert(alert({ alertId: 'other', device: { id: 'dev-printer', hostname: 'printer-3og', site: 'acme-hq' } }));
    await settled();
    const t = await db('tickets').where({ status: 'new' }).orderBy('id', 'desc').first();
    await insertDeliveredTicket(db, String(t.id), connectionId, '6001');
    const deleted = await postCallout('at', callout(6001, 5, 5, { Action: 'Delete' }));
    expect(deleted.body).toEqual({ outcome: 'deleted-in-psa', ticketId: String(t.id) });
    expect((await db('tickets').where({ id: t.id }).first()).status).toBe('new');
  });
});
