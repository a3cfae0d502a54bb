import type { Knex } from 'knex';
import { applyReceiptJob } from '../../../app/alerts/apply-job';
import { createConnection } from '../../../app/psa/connections';
import type { PipelineDeps } from '../../../app/alerts/deps';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createDb } from '../../../db/connection';
import { storeDeliveries } from '../../../db/queries/inbox';
import { loadDeliveryWorks } from '../../../db/queries/psa-deliveries';
import { createLogger } from '../../../lib/logger';
import { normalizeGeneric } from '../../../plugins/generic/normalize';
import { decide } from '../../../rules/engine/decide';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, seedWorld } from '../../helpers/seed';
import { defaultRuleset } from '../maintenance/maintenance-helpers';

/**
 * Issue 19: the intake's store and the worker's batch statements are named (db/prepared.ts), so
 * Postgres parses and plans them once per connection. One connection here, so what it prepared
 * can be read back from pg_prepared_statements — and a migration adding columns to the tables they
 * read and write must not break them on a connection that already prepared them (a statement
 * returning `*` of a table would fail with "cached plan must not change result type").
 */

let t: TestDatabase;
let one: Knex;
let sourceId: string;
const NOW = new Date('2026-03-10T10:05:00Z');
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  sourceId = (await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } })).id;
  await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  // An enabled PSA connection the seeded companies have refs for: every new ticket also records its
  // delivery (app/psa/outbox.ts), so the outbox's statements are prepared and run here too.
  await t.db.transaction((trx) =>
    createConnection(
      trx,
      { name: 'prep-autotask', type: 'autotask', enabled: true, config: { username: 'prep@example.com', secret: 'prep-secret', integrationCode: 'PREPCODE', baseUrl: 'http://127.0.0.1:9/atservicesrest' } },
      [process.env.HUB_SECRET_KEY ?? ''],
    ),
  );
  await t.db('companies').update({ psa_refs: JSON.stringify({ 'prep-autotask': '174' }) });
  one = createDb(t.url, 1);
});
afterAll(async () => {
  await one.destroy();
  await t.drop();
});

/** Two deliveries of one alert each (new ids every call), stored in one statement and applied in one job. */
async function storeAndApply(db: Knex): Promise<string[]> {
  const deliveries = [0, 1].map((i) => {
    seq += 1;
    const r = normalizeGeneric(
      { alertId: `disk-${seq}`, state: 'firing', severity: 'high', title: `Disk full ${seq}`, device: { id: `dev-${i}`, hostname: `host-${i}`, site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' },
      { config: {}, sourceName: 'rmm', receivedAt: NOW },
    );
    if (r.kind !== 'alerts') throw new Error('ignored');
    return { sourceId, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: r.alerts };
  });
  const stored = await storeDeliveries(db, deliveries);
  const ruleset = await defaultRuleset();
  const deps: PipelineDeps = { db, logger: createLogger('silent'), now: () => NOW, rules: { decide: (facts) => decide(ruleset, facts) }, slas: new SlaCache() };
  const { results, permanent } = await applyReceiptJob(
    deps,
    stored.flatMap((s) => s.receiptIds),
  );
  expect(permanent).toEqual([]);
  return results.map((r) => r.outcome);
}

const preparedNames = async (db: Knex): Promise<string[]> =>
  ((await db.raw(`SELECT name FROM pg_prepared_statements ORDER BY name`)) as { rows: Array<{ name: string }> }).rows.map((r) => r.name);

it('prepares the intake store and the worker batch statements once per connection', async () => {
  expect(await storeAndApply(one)).toEqual(['ticket_created', 'ticket_created']);
  expect(await preparedNames(one)).toEqual(
    expect.arrayContaining([
      'hub_store_deliveries',
      'hub_lock_receipts',
      'hub_companies_for_sites',
      'hub_devices_by_source_refs',
      'hub_devices_by_hostnames',
      'hub_lock_dedup_keys',
      'hub_lock_tickets_for_keys',
      'hub_active_default_contracts',
      'hub_insert_tickets_or_count',
      'hub_finish_receipts',
      // The PSA outbox's connections and company refs, read for every round with new tickets.
      'hub_outbox_targets',
      'hub_insert_deliveries',
    ]),
  );
});

it('keeps working on the same connection after a migration adds columns to the tables they touch', async () => {
  // Prepared and run often enough for Postgres to settle on a generic plan first.
  for (let i = 0; i < 6; i++) await storeAndApply(one);
  for (const table of ['deliveries', 'alerts', 'alert_receipts', 'tickets', 'contracts', 'slas', 'sources', 'devices', 'companies', 'psa_connections', 'psa_deliveries']) {
    await t.db.raw(`ALTER TABLE ${table} ADD COLUMN percost_probe text`);
  }
  expect(await storeAndApply(one)).toEqual(['ticket_created', 'ticket_created']);
  expect(await one('tickets').count<Array<{ count: string }>>('* as count')).toEqual([{ count: String(2 * 8) }]);
  // Each of them with its pending delivery, written by the prepared insert after psa_deliveries grew a column.
  expect(await one('psa_deliveries').where({ state: 'pending' }).count<Array<{ count: string }>>('* as count')).toEqual([{ count: String(2 * 8) }]);
});

it('prepares the repeat and the resolve of an open ticket too (after the added columns as well)', async () => {
  const at = (minute: number) => `2026-03-10T10:${String(minute).padStart(2, '0')}:00Z`;
  const apply = async (state: 'firing' | 'resolved', minute: number) => {
    const r = normalizeGeneric(
      { alertId: 'cpu-host-9', state, severity: 'high', title: 'CPU high', device: { id: 'dev-9', hostname: 'host-9', site: 'acme-hq' }, occurredAt: at(minute) },
      { config: {}, sourceName: 'rmm', receivedAt: NOW },
    );
    if (r.kind !== 'alerts') throw new Error('ignored');
    const [stored] = await storeDeliveries(one, [{ sourceId, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: r.alerts }]);
    const ruleset = await defaultRuleset();
    const deps: PipelineDeps = { db: one, logger: createLogger('silent'), now: () => NOW, rules: { decide: (facts) => decide(ruleset, facts) }, slas: new SlaCache() };
    return (await applyReceiptJob(deps, stored!.receiptIds)).results.map((x) => x.outcome);
  };
  expect(await apply('firing', 1)).toEqual(['ticket_created']);
  expect(await apply('firing', 2)).toEqual(['occurrence']);
  expect(await apply('resolved', 3)).toEqual(['resolved']);
  expect(await preparedNames(one)).toEqual(expect.arrayContaining(['hub_count_occurrences', 'hub_resolve_tickets']));
});

it("prepares the delivery run's load of its deliveries, which keeps working after columns are added to its tables", async () => {
  const ids = ((await one('psa_deliveries').select('id').orderBy('id').limit(3)) as Array<{ id: string }>).map((r) => String(r.id));
  expect(ids).toHaveLength(3);
  // Six times: Postgres settles on a generic plan after five custom ones.
  for (let i = 0; i < 6; i++) expect((await loadDeliveryWorks(one, ids)).map((w) => w.delivery.id)).toEqual(ids);
  expect(await preparedNames(one)).toEqual(expect.arrayContaining(['hub_load_delivery_works']));
  for (const table of ['psa_deliveries', 'tickets', 'companies', 'devices']) await t.db.raw(`ALTER TABLE ${table} ADD COLUMN load_probe text`);
  const works = await loadDeliveryWorks(one, ids);
  expect(works.map((w) => w.delivery.id)).toEqual(ids);
  expect(works.every((w) => w.connectionName === 'prep-autotask' && w.refs.company !== null)).toBe(true);
});
