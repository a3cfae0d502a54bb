import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, seedWorld } from '../../helpers/seed';

/**
 * Issue 18 item 3 through issue 16's outbox, on the real Postgres, Redis and BullMQ against the
 * fake Autotask: a storm's parent ticket reaches the PSA once; its children go as notes on it.
 * Tickets that were ordinary before the parent opened (candidates) keep the PSA tickets they had;
 * a ticket that becomes a child in the round that creates it is not sent on its own.
 */
const storms = {
  inhibit: [],
  group: [
    {
      name: 'site-outage',
      match: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'outage' }] },
      by: ['alert.site'],
      moreThan: 3,
      withinSeconds: 600,
      title: '{count} devices at {alert.site} offline',
      contract: 'C-DESK',
      sla: 'PREMIUM',
      priority: 'critical',
    },
  ],
  rules: [],
};
const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let fake: FakeAutotask;
let rulesDir: string;

const post = (body: unknown) => request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const outage = (n: number) => ({
  alertId: `sw-${n}`,
  state: 'firing',
  severity: 'high',
  category: 'outage',
  title: `sw-${n} offline`,
  device: { id: `dev-sw-${n}`, hostname: `sw-${n}`, site: 'acme-hq' },
  occurredAt: new Date(Date.now() - 60_000 + n * 1000).toISOString(),
});
const settled = () =>
  waitFor(async () => ((await db('alert_receipts').whereNull('processed_at').count({ n: '*' }).first()) as { n: string }).n === '0', 60_000, 'receipts processed');
const allDelivered = () =>
  waitFor(async () => {
    const rows = (await db('psa_deliveries').select('state')) as Array<{ state: string }>;
    return rows.length > 0 && rows.every((r) => r.state === 'delivered');
  }, 30_000, 'deliveries delivered');
const childNotesOf = (externalId: string) => {
  const t = fake.tickets.find((x) => x.fields.externalID === externalId);
  return (t?.notes ?? []).map((n) => String(n.description)).join('\n').match(/Child ticket #\d+/g) ?? [];
};

beforeAll(async () => {
  fake = await startFakeAutotask();
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-psa-storm-'));
  for (const f of fs.readdirSync(path.join(__dirname, '../../../rules')).filter((n) => n.endsWith('.json'))) fs.copyFileSync(path.join(__dirname, '../../../rules', f), path.join(rulesDir, f));
  fs.writeFileSync(path.join(rulesDir, '60-storms.json'), JSON.stringify(storms));
  h = await startTestHub({ env: { RULES_DIR: rulesDir, HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '300', HUB_PSA_SWEEP_MS: '500' } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  const world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  expect(await h.hub.rules.store.loadFromDir(rulesDir, 'test')).toMatchObject({ ok: true });
  expect((await request(h.url).post('/api/v1/psa-connections').set('Authorization', ADMIN).send({ name: 'autotask', type: 'autotask', config: fake.credentials, rateLimitPerHour: 360_000 })).status).toBe(201);
  await db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683' }) });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
  fs.rmSync(rulesDir, { recursive: true, force: true });
}, 30_000);

describe('storm parents to the PSA (issue 18 item 3)', () => {
  it('one PSA ticket for the parent, every child a note on it; children of the round that opens the parent get no PSA ticket of their own', async () => {
    // Three candidates: ordinary tickets, each delivered.
    for (let n = 1; n <= 3; n++) {
      expect((await post(outage(n))).status).toBe(202);
      await settled();
    }
    await allDelivered();
    expect(fake.tickets).toHaveLength(3);

    // Five more in one delivery: the group exceeds 3, the parent opens, everything joins it.
    expect((await post([4, 5, 6, 7, 8].map(outage))).status).toBe(202);
    await settled();
    const parent = (await db('tickets').where({ storm_parent: true }).first()) as { id: string; priority: string } | undefined;
    expect(parent).toBeDefined();
    const children = (await db('tickets').where({ parent_ticket_id: parent!.id }).select('id')) as Array<{ id: string }>;
    expect(children).toHaveLength(8);
    await waitFor(async () => childNotesOf(String(parent!.id)).length === 8, 30_000, 'eight child notes on the parent').catch(async (e: unknown) => {
      throw new Error(`${String(e)}: notes ${JSON.stringify(childNotesOf(String(parent!.id)))}, deliveries ${JSON.stringify(await db('psa_deliveries').select('ticket_id', 'state', 'pending_notes', 'last_error'))}`);
    });
    await allDelivered();
    // The PSA: the three candidates and the parent; nothing else.
    expect(fake.tickets).toHaveLength(4);
    const psaParent = fake.tickets.find((x) => x.fields.externalID === String(parent!.id))!;
    expect(psaParent.fields).toMatchObject({ companyID: 29683, priority: 4 });
    expect(new Set(childNotesOf(String(parent!.id)))).toEqual(new Set(children.map((c) => `Child ticket #${c.id}`)));
    // Folded: far fewer notes than children.
    expect(psaParent.notes.length).toBeLessThanOrEqual(3);
    const delivered = (await db('psa_deliveries').select('ticket_id')) as Array<{ ticket_id: string }>;
    expect(delivered.map((d) => String(d.ticket_id)).sort()).toEqual([...fake.tickets.map((t) => String(t.fields.externalID))].sort());

    // A later child: one more note on the parent, no PSA ticket.
    expect((await post(outage(9))).status).toBe(202);
    await settled();
    await waitFor(async () => childNotesOf(String(parent!.id)).length === 9, 30_000, 'ninth child note');
    expect(fake.tickets).toHaveLength(4);
  }, 120_000);

  it('the parent resolved with its last child (children resolved by their alerts, the last one by hand): its PSA ticket is completed', async () => {
    const parent = (await db('tickets').where({ storm_parent: true }).first()) as { id: string };
    const children = (await db('tickets').where({ parent_ticket_id: parent.id }).orderBy('id').select('id', 'dedup_key')) as Array<{ id: string }>;
    expect(children).toHaveLength(9);
    // Eight children resolve through their alerts' resolutions…
    expect((await post([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ ...outage(n), state: 'resolved', occurredAt: new Date().toISOString() })))).status).toBe(202);
    await settled();
    expect((await db('tickets').where({ id: parent.id }).first()).status).not.toBe('resolved');
    // …the last one by hand (PATCH): the parent resolves in that transaction and its PSA ticket is told.
    const open = (await db('tickets').where({ parent_ticket_id: parent.id }).whereNotIn('status', ['resolved', 'closed']).select('id')) as Array<{ id: string }>;
    expect(open).toHaveLength(1);
    const res = await request(h.url).patch(`/api/v1/tickets/${open[0]!.id}`).set('Authorization', ADMIN).send({ status: 'resolved', note: 'fixed the switch' });
    expect(res.status).toBe(200);
    expect((await db('tickets').where({ id: parent.id }).first()).status).toBe('resolved');
    const psaParent = fake.tickets.find((x) => x.fields.externalID === String(parent.id))!;
    // Autotask's Complete (statusComplete, default 5) reaches the parent's PSA ticket.
    await waitFor(async () => psaParent.patches.some((p) => p.status === 5), 30_000, "the parent's PSA ticket completed");
    await allDelivered();
    expect(fake.tickets).toHaveLength(4);
  }, 120_000);
});
