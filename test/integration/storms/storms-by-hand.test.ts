import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Knex } from 'knex';
import { resolveStale } from '../../../app/tickets/stale-tickets';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { testQueuePrefix } from '../../helpers/harness';
import { createSource, insertRow, seedWorld } from '../../helpers/seed';

/**
 * R-STORM-1 (issue 18): "the parent resolves when its last child does" and "a target still firing
 * when the source resolves opens its own ticket" hold however the child or source ticket is
 * resolved — by its own alert's resolution, by hand (PATCH /tickets/:id status resolved or closed),
 * or by the stale-ticket upkeep — not only by a resolve event. Real Postgres, Redis and BullMQ.
 */

const storms = {
  inhibit: [
    {
      name: 'gateway-down-mutes-site',
      source: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'network' }] },
      target: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'offline' }] },
      equal: ['alert.site'],
    },
  ],
  group: [
    {
      name: 'site-outage',
      match: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'outage' }] },
      by: ['alert.site'],
      moreThan: 2,
      withinSeconds: 600,
      title: '{count} devices at {alert.site} offline',
      contract: 'C-DESK',
      sla: 'PREMIUM',
    },
  ],
  rules: [],
};

const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let rulesDir: string;

const post = (body: unknown) =>
  request(h.url)
    .post('/hooks/rmm')
    .set('Authorization', `Bearer ${TOKEN}`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));
const alert = (alertId: string, category: string, site: string, over: Record<string, unknown> = {}) => ({
  alertId,
  state: 'firing',
  severity: 'high',
  category,
  title: `${alertId} down`,
  device: { id: `dev-${alertId}`, hostname: alertId, site },
  occurredAt: '2026-04-01T10:00:00Z',
  ...over,
});
const settled = () =>
  waitFor(
    async () => {
      const r = (await db('alert_receipts')
        .whereNull('processed_at')
        .whereNull('not_before')
        .count({ n: '*' })
        .first()) as { n: string };
      return r.n === '0';
    },
    60_000,
    'receipts processed',
  );
const patch = (id: string, body: object) =>
  request(h.url).patch(`/api/v1/tickets/${id}`).set('Authorization', ADMIN).send(body);
const ticketOf = async (alertId: string) =>
  (await db('tickets').where('dedup_key', 'like', `%:${alertId}`).first()) as {
    id: string;
    status: string;
    parent_ticket_id: string | null;
  };

/** Three outage alerts at `site` (more than 2): one parent, three children. */
async function group(site: string): Promise<{ parentId: string; children: string[] }> {
  for (let i = 0; i < 3; i++) expect((await post(alert(`${site}-srv-${i}`, 'outage', site))).status).toBe(202);
  await settled();
  const children = await Promise.all([0, 1, 2].map((i) => ticketOf(`${site}-srv-${i}`)));
  const parentId = children[0]!.parent_ticket_id;
  expect(parentId).not.toBeNull();
  expect(children.every((c) => c.parent_ticket_id === parentId)).toBe(true);
  return { parentId: String(parentId), children: children.map((c) => String(c.id)) };
}
const status = async (id: string) => ((await db('tickets').where({ id }).first()) as { status: string }).status;

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-storms-hand-'));
  for (const f of fs.readdirSync(path.join(__dirname, '../../../rules')).filter((n) => n.endsWith('.json'))) {
    fs.copyFileSync(path.join(__dirname, '../../../rules', f), path.join(rulesDir, f));
  }
  h = await startTestHub({ env: { RULES_DIR: rulesDir, HUB_QUEUE_PREFIX: testQueuePrefix() } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, {
    name: 'rmm',
    plugin: 'generic',
    auth: { type: 'token', token: TOKEN },
  });
  const world = await seedWorld(db, { source: 'rmm', site: 'hq' });
  for (const site of ['a', 'b', 'c', 'd', 'e'])
    await insertRow(db, 'company_source_sites', { company_id: world.company.id, source: 'rmm', site_id: site });
  fs.writeFileSync(path.join(rulesDir, '60-storms.json'), JSON.stringify(storms));
  expect(await h.hub.rules.store.loadFromDir(rulesDir, 'test')).toMatchObject({ ok: true });
}, 60_000);
afterAll(async () => {
  await h?.close();
  fs.rmSync(rulesDir, { recursive: true, force: true });
}, 60_000);

describe('R-STORM-1: a parent resolves with its last child, however that child is resolved', () => {
  it('two children resolved by their alerts, the last by hand: the parent resolves then, not before', async () => {
    const { parentId, children } = await group('a');
    for (const i of [0, 1])
      await post(alert(`a-srv-${i}`, 'outage', 'a', { state: 'resolved', occurredAt: '2026-04-01T10:05:00Z' }));
    await settled();
    expect(await status(parentId)).toBe('new');
    const res = await patch(children[2]!, { status: 'resolved', note: 'fixed on site' });
    expect(res.status).toBe(200);
    expect(await status(parentId)).toBe('resolved');
    const notes = await db('ticket_notes').where({ ticket_id: parentId }).pluck('body');
    expect(notes).toContain('Resolved automatically: the last of its child tickets resolved.');
  }, 90_000);

  it('every child resolved or closed by hand: the parent stays open until the last one, then resolves', async () => {
    const { parentId, children } = await group('b');
    expect((await patch(children[0]!, { status: 'resolved' })).status).toBe(200);
    expect((await patch(children[1]!, { status: 'closed' })).status).toBe(200);
    expect(await status(parentId)).toBe('new');
    expect((await patch(children[2]!, { status: 'closed' })).status).toBe(200);
    expect(await status(parentId)).toBe('resolved');
  }, 90_000);

  it('a child waiting for the customer is still open: the parent does not resolve with the others', async () => {
    const { parentId, children } = await group('c');
    expect((await patch(children[0]!, { status: 'waiting_customer' })).status).toBe(200);
    expect((await patch(children[1]!, { status: 'resolved' })).status).toBe(200);
    expect((await patch(children[2]!, { status: 'resolved' })).status).toBe(200);
    expect(await status(parentId)).toBe('new');
    expect((await patch(children[0]!, { status: 'resolved' })).status).toBe(200);
    expect(await status(parentId)).toBe('resolved');
  }, 90_000);

  it('the last children resolved by the stale-ticket upkeep: the parent resolves in the same run', async () => {
    const { parentId, children } = await group('d');
    await db('tickets').whereIn('id', children).update({ stale_after_minutes: 60 });
    const r = await resolveStale(db, new Date('2026-04-01T12:00:00Z'));
    expect(r.resolved.sort()).toEqual([...children].sort());
    expect(r.parentsResolved).toBe(1);
    expect(await status(parentId)).toBe('resolved');
  }, 90_000);
});

describe('R-STORM-1: a source ticket resolved by hand releases the targets still firing', () => {
  it('the gateway ticket resolved by hand: the muted device still firing opens its own ticket, the one that resolved does not', async () => {
    await post(alert('e-gw', 'network', 'e'));
    await settled();
    await post(alert('e-pc-1', 'offline', 'e'));
    await post(alert('e-pc-2', 'offline', 'e'));
    await settled();
    expect(await db('tickets').where('dedup_key', 'like', '%e-pc-%')).toHaveLength(0);
    await post(alert('e-pc-2', 'offline', 'e', { state: 'resolved', occurredAt: '2026-04-01T10:05:00Z' }));
    await settled();

    const gw = await ticketOf('e-gw');
    expect((await patch(gw.id, { status: 'resolved', note: 'line restored' })).status).toBe(200);
    const opened = await db('tickets').where('dedup_key', 'like', '%e-pc-%');
    expect(opened.map((t: { dedup_key: string }) => t.dedup_key.replace(/^.*:/, ''))).toEqual(['e-pc-1']);
    const related = await request(h.url).get(`/api/v1/tickets/${gw.id}`).set('Authorization', ADMIN);
    expect(related.body.relatedAlerts.map((r: { state: string }) => r.state).sort()).toEqual(['released', 'resolved']);
  }, 90_000);
});
