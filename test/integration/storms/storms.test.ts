import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Knex } from 'knex';
import { registry } from '../../../lib/metrics';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { testQueuePrefix } from '../../helpers/harness';
import { createSource, insertRow, seedWorld, type World } from '../../helpers/seed';

/**
 * R-STORM-1 (issue 18) end to end, on the real Postgres, Redis and BullMQ: alerts posted to the
 * webhook, applied by two worker processes on one queue; the tickets read back over the admin API.
 */

const storms = {
  inhibit: [
    {
      name: 'gateway-down-mutes-site',
      source: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'network' }, { fact: 'alert', path: '$.title', operator: 'containsText', value: 'gateway' }] },
      target: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'offline' }] },
      equal: ['alert.site'],
    },
  ],
  group: [
    {
      name: 'site-outage',
      match: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'outage' }] },
      by: ['alert.site'],
      moreThan: 5,
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
let second: TestHub;
let db: Knex;
let world: World;
let rulesDir: string;

const post = (body: unknown) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const alert = (alertId: string, category: string, site: string, over: Record<string, unknown> = {}) => ({
  alertId,
  state: 'firing',
  severity: 'high',
  category,
  title: `${alertId} offline`,
  device: { id: `dev-${alertId}`, hostname: alertId, site },
  occurredAt: '2026-04-01T10:00:00Z',
  ...over,
});
const settled = () =>
  waitFor(
    async () => {
      const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
      return r.n === '0';
    },
    120_000,
    'receipts processed',
  );
/** Posts many deliveries, a few at a time (like an RMM flushing its queue). */
async function postAll(bodies: unknown[], parallel = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await post(body);
        expect(res.status).toBe(202);
      }
    }),
  );
}
const metric = async (name: string): Promise<number> => {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((n, v) => n + Number(v.value), 0);
};

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-storms-'));
  for (const f of fs.readdirSync(path.join(__dirname, '../../../rules')).filter((n) => n.endsWith('.json'))) {
    fs.copyFileSync(path.join(__dirname, '../../../rules', f), path.join(rulesDir, f));
  }
  const env = { RULES_DIR: rulesDir, HUB_QUEUE_PREFIX: testQueuePrefix() };
  h = await startTestHub({ env });
  db = h.t.db;
  // A second worker process on the same database and queue: two workers take the same storm.
  second = await startTestHub({ env, api: false, worker: true, t: h.t });
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  for (const site of ['branch', 's1', 's2', 's3', 's4']) await insertRow(db, 'company_source_sites', { company_id: world.company.id, source: 'rmm', site_id: site });
  fs.writeFileSync(path.join(rulesDir, '60-storms.json'), JSON.stringify(storms));
  expect(await h.hub.rules.store.loadFromDir(rulesDir, 'test')).toMatchObject({ ok: true });
  await second.hub.rules.store.syncFromDb();
}, 60_000);
afterAll(async () => {
  await second?.close();
  await h?.close();
  fs.rmSync(rulesDir, { recursive: true, force: true });
}, 60_000);

describe('inhibition (R-STORM-1)', () => {
  it('a site outage of 50 devices plus its gateway alert is one ticket with 50 related alerts', async () => {
    const inhibitedBefore = await metric('hub_alerts_inhibited_total');
    await post(alert('gw-hq', 'network', 'acme-hq', { title: 'HQ gateway unreachable', severity: 'critical' }));
    await settled();
    const devices = Array.from({ length: 50 }, (_, i) => alert(`pc-${i}`, 'offline', 'acme-hq'));
    await postAll(devices);
    await settled();

    const tickets = await db('tickets').where('dedup_key', 'like', '%pc-%').orWhere('dedup_key', 'like', '%gw-hq%');
    expect(tickets).toHaveLength(1);
    const gateway = tickets[0];
    const res = await request(h.url).get(`/api/v1/tickets/${gateway.id}`).set('Authorization', ADMIN);
    expect(res.status).toBe(200);
    expect(res.body.relatedAlerts).toHaveLength(50);
    expect(res.body.relatedAlertCount).toBe(50);
    expect(res.body.children).toEqual([]);
    expect(res.body.parentTicketId).toBeNull();
    expect(new Set(res.body.relatedAlerts.map((r: { dedupKey: string }) => r.dedupKey)).size).toBe(50);
    const outcomes = await db('alerts').where('dedup_key', 'like', '%pc-%').select('outcome', 'ticket_id');
    expect(outcomes.every((a) => a.outcome === 'inhibited' && String(a.ticket_id) === String(gateway.id))).toBe(true);
    // Both worker processes count in the same registry (one Node process in this test).
    expect((await metric('hub_alerts_inhibited_total')) - inhibitedBefore).toBe(50);

    // A repeat of a muted alert is counted on its attachment, still no ticket.
    await post(alert('pc-0', 'offline', 'acme-hq', { occurredAt: '2026-04-01T10:05:00Z' }));
    await settled();
    expect(await db('tickets').where('dedup_key', 'like', '%pc-%')).toHaveLength(0);
    expect(await db('storm_related_alerts').where('dedup_key', 'like', '%pc-0').first()).toMatchObject({ occurrences: 2, state: 'firing' });
  }, 120_000);

  it('the gateway resolves while 3 devices still fire: those 3 open their own tickets then', async () => {
    const resolved = Array.from({ length: 47 }, (_, i) => alert(`pc-${i + 3}`, 'offline', 'acme-hq', { state: 'resolved', occurredAt: '2026-04-01T10:10:00Z' }));
    await postAll(resolved);
    await settled();
    expect(await db('tickets').where('dedup_key', 'like', '%pc-%')).toHaveLength(0);
    await post(alert('gw-hq', 'network', 'acme-hq', { title: 'HQ gateway unreachable', state: 'resolved', occurredAt: '2026-04-01T10:20:00Z' }));
    await settled();

    const opened = await db('tickets').where('dedup_key', 'like', '%pc-%').orderBy('dedup_key');
    expect(opened.map((t) => t.dedup_key.replace(/^.*:/, ''))).toEqual(['pc-0', 'pc-1', 'pc-2']);
    expect(opened.every((t) => t.status === 'new')).toBe(true);
    const gateway = await db('tickets').where('dedup_key', 'like', '%gw-hq%').first();
    expect(gateway.status).toBe('resolved');
    const res = await request(h.url).get(`/api/v1/tickets/${gateway.id}`).set('Authorization', ADMIN);
    const states = res.body.relatedAlerts.map((r: { state: string }) => r.state);
    expect(states.filter((s: string) => s === 'released')).toHaveLength(3);
    expect(states.filter((s: string) => s === 'resolved')).toHaveLength(47);
    expect(res.body.relatedAlertCount).toBe(0);
    // Their next repeat counts on the ticket they opened.
    await post(alert('pc-1', 'offline', 'acme-hq', { occurredAt: '2026-04-01T10:25:00Z' }));
    await settled();
    expect((await db('tickets').where('dedup_key', 'like', '%pc-1')).map((t) => t.occurrences)).toEqual([2]);
  }, 120_000);

  it('an alert does not inhibit itself, and a target of another site is not muted', async () => {
    await post(alert('gw-branch', 'network', 'branch', { title: 'branch gateway down' }));
    await post(alert('pc-other', 'offline', 's1'));
    await settled();
    expect(await db('tickets').where('dedup_key', 'like', '%gw-branch')).toHaveLength(1);
    expect(await db('tickets').where('dedup_key', 'like', '%pc-other')).toHaveLength(1);
  }, 60_000);
});

describe('grouping (R-STORM-1)', () => {
  it('200 alerts from 4 sites, delivered 3 times each to two workers, make exactly 4 parents with 50 children each', async () => {
    const groupedBefore = await metric('hub_alerts_grouped_total');
    const bodies = [];
    for (let i = 0; i < 200; i++) {
      const site = `s${(i % 4) + 1}`;
      bodies.push(alert(`srv-${i}`, 'outage', site, { occurredAt: new Date(Date.UTC(2026, 3, 1, 11, 0, Math.floor(i / 20))).toISOString() }));
    }
    // Three duplicate deliveries of each alert, interleaved.
    await postAll([...bodies, ...bodies.slice().reverse(), ...bodies]);
    await settled();

    const parents = await db('tickets').where({ storm_parent: true }).orderBy('id');
    expect(parents).toHaveLength(4);
    const children = await db('tickets').where('dedup_key', 'like', '%srv-%');
    expect(children).toHaveLength(200);
    expect(children.every((c) => c.parent_ticket_id !== null)).toBe(true);
    for (const p of parents) {
      const res = await request(h.url).get(`/api/v1/tickets/${p.id}`).set('Authorization', ADMIN);
      expect(res.body.children).toHaveLength(50);
      expect(res.body.title).toMatch(/^50 devices at s[1-4] offline$/);
      expect(res.body).toMatchObject({ contractId: world.defaultContract.id, slaId: world.sla24x7.id, status: 'new', parentTicketId: null });
    }
    const child = await request(h.url).get(`/api/v1/tickets/${children[0].id}`).set('Authorization', ADMIN);
    expect(child.body.parentTicketId).toBe(String(children[0].parent_ticket_id));
    expect((await metric('hub_alerts_grouped_total')) - groupedBefore).toBe(200);

    // Each child keeps its own resolution; the parent resolves with its last child.
    const site1 = bodies.filter((b) => b.device.site === 's1');
    await postAll(site1.slice(1).map((b) => ({ ...b, state: 'resolved', occurredAt: '2026-04-01T12:00:00Z' })));
    await settled();
    const p1 = parents.find((p) => p.title.endsWith('s1 offline'))!;
    expect((await db('tickets').where({ id: p1.id }).first()).status).toBe('new');
    await post({ ...site1[0], state: 'resolved', occurredAt: '2026-04-01T12:01:00Z' });
    await settled();
    expect((await db('tickets').where({ id: p1.id }).first()).status).toBe('resolved');
    expect((await db('tickets').whereIn('dedup_key', children.filter((c) => c.parent_ticket_id === p1.id).map((c) => c.dedup_key))).every((c) => c.status === 'resolved')).toBe(true);
  }, 300_000);
});

describe('visible (R-STORM-1, R-RUL-4)', () => {
  it('the dry run says "would be inhibited by ticket #…" and "would join group …"', async () => {
    const gw = await db('tickets').where('dedup_key', 'like', '%gw-branch').first();
    const muted = await request(h.url)
      .post('/api/v1/rules/test')
      .set('Authorization', ADMIN)
      .send({ alert: { ...alert('pc-dry', 'offline', 'branch'), source: 'rmm' } });
    expect(muted.status).toBe(200);
    expect(muted.body.outcome).toBe('inhibited');
    expect(muted.body.storm.inhibitedBy).toEqual({ ticketId: String(gw.id), rule: 'gateway-down-mutes-site' });
    expect(muted.body.storm.says).toEqual([expect.stringMatching(new RegExp(`^would be inhibited by ticket #${gw.id} `))]);

    const grouped = await request(h.url)
      .post('/api/v1/rules/test')
      .set('Authorization', ADMIN)
      .send({ alert: { ...alert('srv-dry', 'outage', 's2', { occurredAt: '2026-04-01T11:00:05Z' }), source: 'rmm' } });
    const parent = await db('tickets').where({ storm_parent: true }).where('title', 'like', '%s2 offline').first();
    expect(grouped.body.outcome).toBe('ticket');
    expect(grouped.body.storm.group).toMatchObject({ rule: 'site-outage', by: { 'alert.site': 's2' }, openParentTicketId: String(parent.id), step: 'join' });
    expect(grouped.body.storm.says).toEqual([`would join group "site-outage" (alert.site = s2) as a child of parent ticket #${parent.id}`]);
    // Nothing was created by either.
    expect(await db('tickets').where('dedup_key', 'like', '%-dry')).toHaveLength(0);
  }, 60_000);

  it('a token of another company sees neither the parent nor its children', async () => {
    const other = await insertRow(db, 'companies', { name: 'Beta AG', code: 'BETA' });
    const created = await request(h.url).post('/api/v1/tokens').set('Authorization', ADMIN).send({ name: 'beta portal', role: 'viewer', companyIds: [other.id] });
    expect(created.status).toBe(201);
    const parent = await db('tickets').where({ storm_parent: true }).first();
    const seen = await request(h.url).get(`/api/v1/tickets/${parent.id}`).set('Authorization', `Bearer ${created.body.token}`);
    expect(seen.status).toBe(404);
    const child = await db('tickets').whereNotNull('parent_ticket_id').first();
    expect((await request(h.url).get(`/api/v1/tickets/${child.id}`).set('Authorization', `Bearer ${created.body.token}`)).status).toBe(404);
  }, 60_000);
});

describe('replay diff (R-STORM-1 with issue 8)', () => {
  it('a candidate that adds an inhibition shows the tickets it would have prevented', async () => {
    const defaults = JSON.parse(fs.readFileSync(path.join(rulesDir, '00-default.json'), 'utf8'));
    const candidate = {
      rules: [],
      inhibit: [
        {
          name: 'any-gateway-mutes-outages',
          source: { all: [{ fact: 'alert', path: '$.title', operator: 'containsText', value: 'gateway' }] },
          target: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'outage' }] },
          equal: ['company.code'],
        },
      ],
    };
    const res = await request(h.url)
      .post('/api/v1/rules/diff')
      .set('Authorization', ADMIN)
      .send({ candidate: { files: { '00-default.json': defaults, '60-storms.json': candidate } }, since: '1d' });
    expect(res.status).toBe(200);
    // Live: 50 offline devices muted by the HQ gateway, 47 resolved while muted, 3 released when it resolved.
    // Candidate: the branch gateway (still firing) mutes all 200 outage alerts (no longer the offline ones).
    expect(res.body.storms).toMatchObject({
      truncated: false,
      live: { muted: 50, ticketsPrevented: 47 },
      candidate: { muted: 200, ticketsPrevented: 200 },
      ticketsPrevented: 153,
    });
    expect(res.body.storms.examples).toHaveLength(5);
    const examples = await db('alerts').whereIn('id', res.body.storms.examples).select('category');
    expect(examples.every((a) => a.category === 'outage')).toBe(true);
  }, 120_000);
});
