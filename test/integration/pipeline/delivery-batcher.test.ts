import { DeliveryBatcher } from '../../../api/webhooks/delivery-batcher';
import type { NewDelivery } from '../../../db/queries/inbox';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource } from '../../helpers/seed';

/**
 * R-ALR-1: the intake's group commit. Concurrent requests' deliveries share a statement (one
 * transaction: the rows have one xmin), each request gets its own ids, and a delivery that fails
 * fails alone.
 */
let t: TestDatabase;
let sourceId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } });
  sourceId = ((await t.db('sources').where({ name: 'rmm' }).first('id')) as { id: string }).id;
}, 30_000);
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  await t.db.raw('TRUNCATE alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
});

const delivery = (n: number, over: Partial<NewDelivery> = {}): NewDelivery => ({
  sourceId,
  deliveryKey: null,
  bodySha256: `body-${n}`,
  bodyBytes: 10,
  remoteAddr: null,
  alerts: [
    {
      sourceAlertId: `alert-${n}`,
      dedupKey: `key-${n}`,
      state: 'firing',
      severity: 'high',
      category: null,
      title: `Alert ${n}`,
      message: null,
      device: { sourceDeviceId: null, hostname: `host-${n}`, site: null },
      occurredAt: '2026-05-04T12:00:00Z',
      labels: {},
      raw: { n },
    },
  ],
  ...over,
});

describe('R-ALR-1: DeliveryBatcher', () => {
  it('stores concurrent deliveries in few statements, each answered with its own ids', async () => {
    const batcher = new DeliveryBatcher(t.db, { maxInFlight: 1 });
    const stored = await Promise.all(Array.from({ length: 20 }, (_, n) => batcher.store(delivery(n))));
    // The first goes alone (nothing was running), the other 19 wait for it and go together.
    const r = (await t.db.raw('SELECT count(DISTINCT xmin::text)::int AS n FROM deliveries')) as { rows: Array<{ n: number }> };
    expect(r.rows[0]!.n).toBe(2);
    for (const [n, s] of stored.entries()) {
      const a = (await t.db('alerts').where({ id: s.alertIds[0] }).first('source_alert_id')) as { source_alert_id: string };
      expect(a.source_alert_id).toBe(`alert-${n}`);
      const d = (await t.db('deliveries').where({ id: s.deliveryId }).first('body_sha256')) as { body_sha256: string };
      expect(d.body_sha256).toBe(`body-${n}`);
      expect(s.receiptIds).toHaveLength(1);
    }
  });

  it('a delivery that fails its group fails alone; the others are stored', async () => {
    const batcher = new DeliveryBatcher(t.db, { maxInFlight: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, n) => batcher.store(n === 3 ? delivery(n, { sourceId: '999999' }) : delivery(n))),
    );
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    expect(((await t.db('deliveries').count({ n: '*' }).first()) as { n: string }).n).toBe('5');
    expect(((await t.db('alerts').whereNotIn('source_alert_id', ['alert-3']).count({ n: '*' }).first()) as { n: string }).n).toBe('5');
  });

  it('a group holds at most maxAlerts alerts', async () => {
    const batcher = new DeliveryBatcher(t.db, { maxInFlight: 1, maxAlerts: 3 });
    const stored = await Promise.all(Array.from({ length: 7 }, (_, n) => batcher.store(delivery(n))));
    expect(stored).toHaveLength(7);
    // 1 alone, then groups of at most 3 alerts: 3 + 3.
    const r = (await t.db.raw('SELECT count(*)::int AS n FROM deliveries GROUP BY xmin::text ORDER BY min(id)')) as { rows: Array<{ n: number }> };
    expect(r.rows.map((x) => x.n)).toEqual([1, 3, 3]);
  });
});
