import fc from 'fast-check';
import type { Knex } from 'knex';
import { storeDeliveries, storeDelivery, type NewDelivery } from '../../../db/queries/inbox';
import type { NormalizedAlert } from '../../../plugins/types';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource } from '../../helpers/seed';

/**
 * R-ALR-1: the intake stores the deliveries of concurrent requests in one statement
 * (storeDeliveries). That must store exactly what storing them one after the other stores: the
 * same alerts (the first delivery of an alert event wins its fields), the same receipts and
 * receipt counts, the same alert ids answered — also when deliveries in one call repeat an alert.
 */

let grouped: TestDatabase;
let single: TestDatabase;
const sources: string[] = [];

async function prepare(): Promise<TestDatabase> {
  const t = await createTestDatabase();
  for (const name of ['rmm', 'am']) {
    await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name, plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } });
  }
  return t;
}

beforeAll(async () => {
  grouped = await prepare();
  single = await prepare();
  for (const name of ['rmm', 'am']) sources.push(((await grouped.db('sources').where({ name }).first('id')) as { id: string }).id);
}, 60_000);
afterAll(async () => {
  await grouped?.drop();
  await single?.drop();
});

const arbAlert = fc.record({
  id: fc.integer({ min: 0, max: 6 }),
  title: fc.constantFrom('Disk full', 'CPU high', 'Ping lost'),
  host: fc.constantFrom('mail01', 'Mail01', 'web', null),
  site: fc.constantFrom('hq', null),
});
const arbDelivery = fc.record({ source: fc.integer({ min: 0, max: 1 }), alerts: fc.array(arbAlert, { minLength: 0, maxLength: 6 }) });

function toDelivery(d: { source: number; alerts: Array<{ id: number; title: string; host: string | null; site: string | null }> }, n: number): NewDelivery {
  const alerts: NormalizedAlert[] = d.alerts.map((a) => ({
    sourceAlertId: `a-${a.id}`,
    dedupKey: `k-${a.id % 3}`,
    state: 'firing',
    severity: 'high',
    category: null,
    title: a.title,
    message: null,
    device: { sourceDeviceId: null, hostname: a.host, site: a.site },
    occurredAt: '2026-05-04T12:00:00Z',
    labels: { n: String(n) },
    raw: { n },
  }));
  return { sourceId: sources[d.source]!, deliveryKey: null, bodySha256: `delivery-${n}`, bodyBytes: n, remoteAddr: null, alerts };
}

async function reset(db: Knex): Promise<void> {
  await db.raw('TRUNCATE alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
}

async function snapshot(db: Knex): Promise<unknown> {
  const alerts = (await db.raw(`
    SELECT s.name, a.source_alert_id, a.dedup_key, a.title, a.hostname, a.site, a.labels, a.raw, a.receipt_count, d.body_sha256 AS first_delivery,
           (SELECT array_agg(dr.body_sha256 ORDER BY dr.body_sha256) FROM alert_receipts r JOIN deliveries dr ON dr.id = r.delivery_id WHERE r.alert_id = a.id) AS receipts
      FROM alerts a JOIN sources s ON s.id = a.source_id JOIN deliveries d ON d.id = a.first_delivery_id
     ORDER BY s.name, a.source_alert_id`)) as { rows: unknown[] };
  const deliveries = await db('deliveries').orderBy('body_sha256').select('body_sha256', 'body_bytes', 'source_id');
  return { alerts: alerts.rows, deliveries };
}

describe('R-ALR-1: deliveries stored together = stored one after the other', () => {
  it('random deliveries with repeated alerts within and across them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbDelivery, { minLength: 1, maxLength: 8 }), async (raw) => {
        await reset(grouped.db);
        await reset(single.db);
        const deliveries = raw.map(toDelivery);
        const together = await storeDeliveries(grouped.db, deliveries);
        const oneByOne: Awaited<ReturnType<typeof storeDelivery>>[] = [];
        for (const d of deliveries) oneByOne.push(await storeDelivery(single.db, d));

        expect(await snapshot(grouped.db)).toEqual(await snapshot(single.db));
        // The answer of each request: one alert id per alert sent (a repeat answers the same id), one receipt per distinct alert.
        const shape = async (db: Knex, r: typeof together) =>
          Promise.all(
            r.map(async (x) => ({
              alerts: await Promise.all(x.alertIds.map(async (id) => ((await db('alerts').where({ id }).first('source_alert_id')) as { source_alert_id: string }).source_alert_id)),
              receipts: x.receiptIds.length,
              delivery: ((await db('deliveries').where({ id: x.deliveryId }).first('body_sha256')) as { body_sha256: string }).body_sha256,
            })),
          );
        expect(await shape(grouped.db, together)).toEqual(await shape(single.db, oneByOne));
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
