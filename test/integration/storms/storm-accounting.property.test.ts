import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { processReceipts, type PipelineDeps } from '../../../app/alerts/apply-receipts';
import { isPgError } from '../../../db/pg-errors';
import { storeDelivery } from '../../../db/queries/inbox';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { getPlugin, normalizeDelivery } from '../../../plugins';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, insertRow, seedWorld } from '../../helpers/seed';

/**
 * R-STORM-1, the accounting property: for random storms (sites with or without a gateway alert,
 * devices whose alerts are muted by it or grouped), delivered in random orders, duplicated, cut
 * into random jobs and applied by two concurrent workers (two transactions at a time, retried on
 * deadlock like the queue retries a job), every alert still firing at the end is on exactly one of:
 * its own open ticket, a related alert of an open (firing) source ticket, or a child of exactly
 * one open parent — never nowhere, never twice. Resolved alerts leave nothing open behind.
 */

const SOURCE = 'rmm';
const SITES = ['s1', 's2', 's3'];
const storms = {
  rules: [],
  inhibit: [
    {
      name: 'gateway-mutes-site',
      source: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'network' }] },
      target: { all: [{ fact: 'alert', path: '$.category', operator: 'in', value: ['offline', 'outage'] }] },
      equal: ['alert.site'],
    },
  ],
  group: [
    {
      name: 'site-outage',
      match: { all: [{ fact: 'alert', path: '$.category', operator: 'in', value: ['outage', 'network'] }] },
      by: ['alert.site'],
      moreThan: 2,
      withinSeconds: 600,
      title: '{count} at {alert.site}',
    },
  ],
};

let t: TestDatabase;
let store: RulesetStore;
let deps: PipelineDeps;
let rulesDir: string;
const NOW = new Date('2026-05-04T12:30:00Z');

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-storm-prop-'));
  fs.copyFileSync(path.join(__dirname, '../../../rules/00-default.json'), path.join(rulesDir, '00-default.json'));
  fs.writeFileSync(path.join(rulesDir, '60-storms.json'), JSON.stringify(storms));
  t = await createTestDatabase();
  await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: SOURCE, plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } });
  const world = await seedWorld(t.db, { source: SOURCE, site: 'acme-hq' });
  for (const site of SITES) await insertRow(t.db, 'company_source_sites', { company_id: world.company.id, source: SOURCE, site_id: site });
  store = new RulesetStore({ db: t.db, dir: rulesDir, logger: createLogger('silent') });
  const loaded = await store.loadFromDir(rulesDir, 'test');
  if (!loaded.ok) throw new Error(`rules did not load: ${JSON.stringify(loaded)}`);
  deps = { db: t.db, logger: createLogger('silent'), now: () => NOW, rules: store, slas: new SlaCache() };
}, 60_000);

afterAll(async () => {
  await store?.close();
  await t?.drop();
  fs.rmSync(rulesDir, { recursive: true, force: true });
}, 30_000);

interface Ev {
  key: string;
  category: string;
  site: string;
  state: 'firing' | 'resolved';
  /** Order within its phase (random). */
  order: number;
}

const arbSite = fc.record({
  gateway: fc.boolean(),
  gatewayResolves: fc.boolean(),
  devices: fc.array(fc.record({ category: fc.constantFrom('offline', 'outage'), resolves: fc.boolean() }), { minLength: 0, maxLength: 6 }),
});
const arbStorm = fc.record({
  sites: fc.array(arbSite, { minLength: 1, maxLength: 3 }),
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 30, maxLength: 30 }),
  orders: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 120, maxLength: 120 }),
  cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 60, maxLength: 60 }),
});

async function stored(db: Knex, events: Ev[]): Promise<string[]> {
  const plugin = getPlugin('generic')!;
  const source = (await db('sources').where({ name: SOURCE }).first('id')) as { id: string };
  const ids: string[] = [];
  for (const [i, e] of events.entries()) {
    const payload = {
      alertId: e.key,
      state: e.state,
      severity: 'high',
      category: e.category,
      title: `${e.key} ${e.category}`,
      device: { id: `dev-${e.key}`, hostname: e.key, site: e.site },
      occurredAt: new Date(Date.UTC(2026, 4, 4, 12, 0, e.state === 'firing' ? 0 : 30)).toISOString(),
    };
    const res = normalizeDelivery(plugin, payload, { sourceName: SOURCE, receivedAt: NOW, config: {}, siteField: null });
    if (res.kind !== 'alerts') throw new Error('not normalized');
    const s = await storeDelivery(db, { sourceId: source.id, deliveryKey: null, bodySha256: `b${i}-${Math.random()}`, bodyBytes: 1, remoteAddr: null, alerts: res.alerts });
    ids.push(...s.receiptIds);
  }
  return ids;
}

/** One job, retried like the queue retries it when two workers deadlock or race on a unique key. */
async function runJob(ids: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.db.transaction((trx) => processReceipts(deps, ids, trx));
      return;
    } catch (e) {
      if (attempt < 8 && isPgError(e) && ['40P01', '40001', '23505'].includes(e.code)) continue;
      throw e;
    }
  }
}

/** Two workers: the jobs dealt out alternately, each worker applying its jobs one after the other. */
async function twoWorkers(ids: string[], cuts: number[]): Promise<void> {
  const jobs: string[][] = [];
  let i = 0;
  let c = 0;
  while (i < ids.length) {
    const n = cuts[c++ % cuts.length]!;
    jobs.push(ids.slice(i, i + n));
    i += n;
  }
  const lanes: string[][][] = [[], []];
  jobs.forEach((j, k) => lanes[k % 2]!.push(j));
  await Promise.all(
    lanes.map(async (lane) => {
      for (const job of lane) await runJob(job);
    }),
  );
}

describe('R-STORM-1: every firing alert is accounted for exactly once', () => {
  it('random storms, delivery orders, duplicates and two workers', async () => {
    await fc.assert(
      fc.asyncProperty(arbStorm, async (storm) => {
        await t.db.raw('TRUNCATE tickets, ticket_notes, ticket_sla_pauses, alerts, alert_receipts, deliveries, storm_groups RESTART IDENTITY CASCADE');
        const firing: Ev[] = [];
        const resolving: Ev[] = [];
        const finalFiring = new Set<string>();
        let n = 0;
        storm.sites.forEach((s, si) => {
          const site = SITES[si]!;
          const add = (key: string, category: string, resolves: boolean) => {
            const copies = storm.copies[n % storm.copies.length]!;
            for (let c = 0; c < copies; c++) firing.push({ key, category, site, state: 'firing', order: storm.orders[n++ % storm.orders.length]! });
            if (resolves) resolving.push({ key, category, site, state: 'resolved', order: storm.orders[n++ % storm.orders.length]! });
            else finalFiring.add(key);
          };
          if (s.gateway) add(`gw-${site}`, 'network', s.gatewayResolves);
          s.devices.forEach((d, di) => add(`pc-${site}-${di}`, d.category, d.resolves));
        });
        const byOrder = (a: Ev, b: Ev) => a.order - b.order;
        // Phase 1: every firing (duplicated, any order); phase 2: the resolves (any order).
        await twoWorkers(await stored(t.db, firing.sort(byOrder)), storm.cuts);
        await twoWorkers(await stored(t.db, resolving.sort(byOrder)), storm.cuts.slice().reverse());

        const unprocessed = (await t.db('alert_receipts').whereNull('processed_at').count({ n: '*' }).first()) as { n: string };
        expect(unprocessed.n).toBe('0');
        const tickets = (await t.db('tickets').select('id', 'dedup_key', 'status', 'parent_ticket_id', 'storm_parent')) as Array<{
          id: string;
          dedup_key: string;
          status: string;
          parent_ticket_id: string | null;
          storm_parent: boolean;
        }>;
        const related = (await t.db('storm_related_alerts').where({ state: 'firing' }).select('dedup_key', 'ticket_id')) as Array<{ dedup_key: string; ticket_id: string }>;
        const isOpen = (s: string) => s !== 'resolved' && s !== 'closed';
        const byId = new Map(tickets.map((x) => [String(x.id), x]));
        const keyOf = (dedup: string) => dedup.replace(/^.*:/, '');
        const places = new Map<string, string[]>();
        const place = (key: string, where: string) => places.set(key, [...(places.get(key) ?? []), where]);
        for (const x of tickets) {
          if (x.storm_parent || !isOpen(x.status)) continue;
          if (x.parent_ticket_id === null) place(keyOf(x.dedup_key), `own #${x.id}`);
          else if (isOpen(byId.get(String(x.parent_ticket_id))!.status)) place(keyOf(x.dedup_key), `child of #${x.parent_ticket_id}`);
          else place(keyOf(x.dedup_key), `child of RESOLVED parent #${x.parent_ticket_id}`);
        }
        for (const r of related) {
          const source = byId.get(String(r.ticket_id))!;
          place(keyOf(r.dedup_key), isOpen(source.status) ? `related to #${r.ticket_id}` : `related to RESOLVED #${r.ticket_id}`);
        }
        const expected = new Map<string, string[]>();
        const actual = new Map<string, string[]>();
        const all = new Set([...finalFiring, ...places.keys()]);
        for (const key of all) {
          const where = places.get(key) ?? [];
          // Firing: exactly one valid place. Resolved: nothing open left behind.
          const ok = finalFiring.has(key) ? where.length === 1 && !where[0]!.includes('RESOLVED') : where.length === 0;
          expected.set(key, ['ok']);
          actual.set(key, ok ? ['ok'] : [finalFiring.has(key) ? 'firing' : 'resolved', ...where]);
        }
        expect(actual).toEqual(expected);
        // Exactly one open parent per site at most, and only with an open child.
        const openParents = tickets.filter((x) => x.storm_parent && isOpen(x.status));
        for (const p of openParents) expect(tickets.some((c) => String(c.parent_ticket_id) === String(p.id) && isOpen(c.status))).toBe(true);
        const parentKeys = openParents.map((p) => p.dedup_key);
        expect(new Set(parentKeys).size).toBe(parentKeys.length);
      }),
      { numRuns: 25 },
    );
  }, 600_000);
});
