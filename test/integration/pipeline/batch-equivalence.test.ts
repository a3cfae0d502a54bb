import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { orderReceipts } from '../../../db/queries/alert-processing';
import { storeDelivery } from '../../../db/queries/inbox';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { getPlugin, normalizeDelivery } from '../../../plugins';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { processReceipt, processReceipts, type PipelineDeps } from '../../../app/alerts/apply-receipts';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, insertRow, seedWorld } from '../../helpers/seed';

/**
 * The worker applies a job's receipts set-based (processReceipts): one statement per step for the
 * whole batch, receipts of one dedup key in rounds. It must have exactly the effect of applying
 * the same receipts one after the other (R-ALR-3, R-ALR-4, R-LINK-3/4/7). Random alert streams —
 * repeats, resolves, flaps, suppression, annotate-on-resolve, rule-named contracts, hosts without
 * a source id, source ids shared between hosts, unknown sites, a device of another company — go
 * through both paths on two identical databases; every row they write is compared.
 */

const SOURCE = 'rmm';
const extraRules = {
  rules: [
    { name: 'flappy-reopens', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'flappy' }] }, event: { type: 'assign', params: { reopenWindowMinutes: 30 } } },
    { name: 'noise-suppressed', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'noise' }] }, event: { type: 'suppress', params: { reason: 'lab noise' } } },
    { name: 'resolve-annotates', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'note-only' }] }, event: { type: 'assign', params: { resolveAction: 'annotate' } } },
    { name: 'blips-wait', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'blip' }] }, event: { type: 'assign', params: { holdOffSeconds: 1 } } },
    {
      name: 'backup-to-desk',
      priority: 5,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'backup' }] },
      event: { type: 'assign', params: { contract: 'C-DESK', service: 'DESK', sla: 'PREMIUM', queue: 'backup' } },
    },
  ],
};

interface Side {
  t: TestDatabase;
  deps: PipelineDeps;
}

let batch: Side;
let single: Side;
let store: RulesetStore;
let rulesDir: string;
const NOW = new Date('2026-05-04T12:30:00Z');

async function prepare(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: SOURCE, plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } });
  await seedWorld(t.db, { source: SOURCE, site: 'acme-hq' });
  // A second company, its own site, and a device of it that other sites' alerts name by source id.
  const other = await insertRow(t.db, 'companies', { name: 'Beta AG', code: 'BETA' });
  await insertRow(t.db, 'company_source_sites', { company_id: other.id, source: SOURCE, site_id: 'beta-1' });
  const nas = await insertRow(t.db, 'devices', { company_id: other.id, hostname: 'nas01', site: 'beta-1' });
  await insertRow(t.db, 'device_source_refs', { device_id: nas.id, source: SOURCE, source_device_id: 'dev-nas' });
  return t;
}
const side = (t: TestDatabase): Side => ({ t, deps: { db: t.db, logger: createLogger('silent'), now: () => NOW, rules: store, slas: new SlaCache() } });

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-eq-'));
  for (const f of fs.readdirSync(path.join(__dirname, '../../../rules')).filter((n) => n.endsWith('.json'))) {
    fs.copyFileSync(path.join(__dirname, '../../../rules', f), path.join(rulesDir, f));
  }
  fs.writeFileSync(path.join(rulesDir, '50-extra.json'), JSON.stringify(extraRules));
  const [a, b] = [await prepare(), await prepare()];
  // Rule refs (C-DESK, DESK, PREMIUM) resolve to the same rows in both databases.
  store = new RulesetStore({ db: a.db, dir: rulesDir, logger: createLogger('silent') });
  const loaded = await store.loadFromDir(rulesDir, 'test');
  if (!loaded.ok) throw new Error(`rules did not load: ${JSON.stringify(loaded)}`);
  batch = side(a);
  single = side(b);
}, 60_000);

afterAll(async () => {
  await store?.close();
  for (const s of [batch, single]) await s?.t.drop();
  fs.rmSync(rulesDir, { recursive: true, force: true });
}, 30_000);

const arbAlert = fc.record({
  key: fc.integer({ min: 0, max: 5 }),
  state: fc.constantFrom('firing', 'firing', 'resolved'),
  severity: fc.constantFrom('critical', 'high', 'medium', 'low', 'info'),
  category: fc.constantFrom('disk', 'flappy', 'noise', 'note-only', 'backup', 'blip'),
  host: fc.constantFrom('mail01', 'printer-3og', 'new-a', 'NEW-A', 'new-b', null),
  ref: fc.constantFrom('dev-a', 'dev-b', 'dev-nas', null, null),
  site: fc.constantFrom('acme-hq', 'acme-hq', 'beta-1', 'nowhere', null),
}).filter((a) => a.host !== null || a.ref !== null); // the generic plugin needs one of them

type TestAlert = typeof arbAlert extends fc.Arbitrary<infer T> ? T : never;

async function reset(db: Knex): Promise<void> {
  await db.raw('TRUNCATE tickets, ticket_notes, ticket_sla_pauses, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
  await db.raw("DELETE FROM device_source_refs WHERE source_device_id <> 'dev-nas'");
  await db.raw('DELETE FROM devices WHERE discovered');
}

/** Stores the alerts as one delivery each (in order) and returns the receipt ids. */
async function store_(db: Knex, alerts: TestAlert[]): Promise<string[]> {
  const plugin = getPlugin('generic')!;
  const source = (await db('sources').where({ name: SOURCE }).first('id')) as { id: string };
  const ids: string[] = [];
  for (const [i, a] of alerts.entries()) {
    const payload = {
      alertId: `cond-${a.key}`,
      state: a.state,
      severity: a.severity,
      category: a.category,
      title: `${a.category} on ${a.host ?? '?'}`,
      device: { ...(a.ref ? { id: a.ref } : {}), ...(a.host ? { hostname: a.host } : {}), ...(a.site ? { site: a.site } : {}) },
      occurredAt: new Date(Date.UTC(2026, 4, 4, 12, 0, i)).toISOString(),
    };
    const res = normalizeDelivery(plugin, payload, { sourceName: SOURCE, receivedAt: NOW, config: {}, siteField: null });
    if (res.kind !== 'alerts') throw new Error('not normalized');
    const stored = await storeDelivery(db, { sourceId: source.id, deliveryKey: null, bodySha256: `b${i}`, bodyBytes: 1, remoteAddr: null, alerts: res.alerts });
    ids.push(...stored.receiptIds);
  }
  return ids;
}

/** Everything the pipeline wrote, without surrogate ids (ticket ids differ with the insert order). */
async function snapshot(db: Knex): Promise<unknown> {
  const tickets = (await db.raw(`
    SELECT t.dedup_key, t.status, t.occurrences, t.flaps, t.priority, t.queue, t.needs_triage, t.resolved_automatically,
           t.resolve_action, t.reopen_window_minutes, t.title, t.description, t.first_response_due_at, t.resolution_due_at,
           c.code AS contract, s.code AS service, sla.code AS sla, d.hostname AS device, co.code AS company,
           t.decision - 'rulesetVersion' AS decision,
           (SELECT array_agg(n.kind || ':' || n.body ORDER BY n.kind, n.body) FROM ticket_notes n WHERE n.ticket_id = t.id) AS notes,
           (SELECT array_agg(p.resumed_at IS NULL) FROM ticket_sla_pauses p WHERE p.ticket_id = t.id) AS pauses
      FROM tickets t
      LEFT JOIN contracts c ON c.id = t.contract_id LEFT JOIN services s ON s.id = t.service_id LEFT JOIN slas sla ON sla.id = t.sla_id
      LEFT JOIN devices d ON d.id = t.device_id LEFT JOIN companies co ON co.id = t.company_id
     ORDER BY t.dedup_key, t.first_occurred_at, t.status`)) as { rows: unknown[] };
  const alerts = (await db.raw(`
    SELECT a.source_alert_id, a.status, a.outcome, a.decision - 'rulesetVersion' AS decision, t.dedup_key AS ticket_key, t.first_occurred_at AS ticket_first,
           r.outcome AS receipt_outcome, r.processed_at IS NOT NULL AS processed, r.not_before
      FROM alerts a JOIN alert_receipts r ON r.alert_id = a.id LEFT JOIN tickets t ON t.id = r.ticket_id
     ORDER BY a.source_alert_id, r.id`)) as { rows: unknown[] };
  const devices = await db('devices as d')
    .leftJoin('companies as c', 'c.id', 'd.company_id')
    .orderBy(['d.hostname', 'c.code'])
    .select('d.hostname', 'd.site', 'd.discovered', 'c.code as company');
  const refs = await db('device_source_refs as r').join('devices as d', 'd.id', 'r.device_id').orderBy('r.source_device_id').select('r.source_device_id', 'd.hostname');
  return { tickets: tickets.rows, alerts: alerts.rows, devices, refs };
}

describe('R-ALR-3, R-ALR-4: a batch has the effect of its receipts applied one at a time', () => {
  it('random alert streams: same tickets, notes, alert outcomes, devices and source refs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbAlert, { minLength: 1, maxLength: 40 }), async (alerts) => {
        await reset(batch.t.db);
        await reset(single.t.db);
        const batchIds = await store_(batch.t.db, alerts);
        const singleIds = await store_(single.t.db, alerts);
        expect(batchIds).toEqual(singleIds);

        const results = await batch.t.db.transaction((trx) => processReceipts(batch.deps, batchIds, trx));
        expect(results.map((r) => r.receiptId).sort()).toEqual([...batchIds].sort());

        // One at a time, in the order the batch applies them: by host, site, dedup key, arrival.
        for (const id of await orderReceipts(single.t.db, singleIds)) await processReceipt(single.deps, id);

        expect(await snapshot(batch.t.db)).toEqual(await snapshot(single.t.db));
        // Applying the batch again changes nothing (a job that runs twice).
        const again = await batch.t.db.transaction((trx) => processReceipts(batch.deps, batchIds, trx));
        expect(new Set(again.map((r) => r.outcome))).toEqual(new Set(['already_processed']));
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('ids that do not exist come back as missing, after the applied ones', async () => {
    await reset(batch.t.db);
    const ids = await store_(batch.t.db, [{ key: 1, state: 'firing', severity: 'high', category: 'disk', host: 'mail01', ref: null, site: 'acme-hq' }]);
    const results = await batch.t.db.transaction((trx) => processReceipts(batch.deps, ['999999', ...ids], trx));
    expect(results.map((r) => [r.receiptId, r.outcome])).toEqual([
      [ids[0], 'ticket_created'],
      ['999999', 'missing'],
    ]);
  });
});
