import { recordReceiptFailure } from '../../../db/queries/alert-processing';
import { storeDelivery } from '../../../db/queries/inbox';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource } from '../../helpers/seed';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

const alert = (id: string) => ({
  sourceAlertId: id,
  dedupKey: `rmm:${id}`,
  state: 'firing' as const,
  severity: 'high' as const,
  category: null,
  title: id,
  message: null,
  device: { sourceDeviceId: null, hostname: 'h1', site: null },
  occurredAt: '2026-05-01T00:00:00Z',
  labels: {},
  raw: {},
});

it('R-ALR-3: a failed job records an attempt on each of its receipts; a permanent failure also marks the alert failed', async () => {
  const source = await createSource(t.db, 'test-secret-key-test-secret-key-0123456789', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'token-0123456789' } });
  const stored = await storeDelivery(t.db, { sourceId: source.id, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: [alert('a'), alert('b')] });
  await recordReceiptFailure(t.db, stored.receiptIds, 'connection lost', false);
  const receipts = await t.db('alert_receipts').whereIn('id', stored.receiptIds).orderBy('id');
  expect(receipts.map((r) => [r.attempts, r.error])).toEqual([
    [1, 'connection lost'],
    [1, 'connection lost'],
  ]);
  expect((await t.db('alerts').where({ status: 'failed' })).length).toBe(0);
  await recordReceiptFailure(t.db, [stored.receiptIds[0]!], 'bad data', true);
  const failed = await t.db('alerts').where({ status: 'failed' });
  expect(failed.map((a) => [a.source_alert_id, a.error])).toEqual([['a', 'bad data']]);
});
