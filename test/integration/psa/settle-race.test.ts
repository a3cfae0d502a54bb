import { recordDeliveryChanges, settleDeliveries } from '../../../db/queries/psa-deliveries';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';
import { insertPsaConnection } from './psa-fixtures';

/**
 * Issue 16, R-PSA-2 (nothing lost): a run settles what it sent while the pipeline records more
 * repeats of the same ticket. When the repeats' transaction holds the row and commits while the
 * settle waits for it, the settle must see them: the row stays pending with exactly those
 * repeats, never "delivered" with repeats that no job will send. CI saw the latter once
 * (psa-repeat-storm: state delivered, pending 300) when the settle decided from its snapshot.
 */
let t: TestDatabase;
let connectionId: string;
let companyId: string;
const KEYS = ['settle-race-test-key-0123456789abcdef01234'];
const TOKEN = 'run-1';

beforeAll(async () => {
  t = await createTestDatabase();
  connectionId = await insertPsaConnection(t.db, KEYS, { name: 'autotask', type: 'autotask', config: { username: 'u@example.com', secret: 's', integrationCode: 'C', baseUrl: 'http://127.0.0.1:9/atservicesrest' } });
  companyId = (await insertRow(t.db, 'companies', { name: 'ACME', psa_refs: JSON.stringify({ autotask: '29683' }) })).id;
});
afterAll(async () => {
  await t?.drop();
});

/** A created PSA ticket with `pending` repeats, claimed by this run. */
async function claimedWithRepeats(title: string, pending: number, externalId: string): Promise<{ ticketId: string; deliveryId: string }> {
  const ticket = await insertRow(t.db, 'tickets', { source: 'rmm', priority: 'high', status: 'new', dedup_key: title, company_id: companyId, title, first_occurred_at: new Date(), last_occurred_at: new Date() });
  const d = await insertRow(t.db, 'psa_deliveries', {
    ticket_id: ticket.id,
    connection_id: connectionId,
    state: 'pending',
    external_id: externalId,
    external_number: 'T20260101.0001',
    pending_occurrences: pending,
    occurrences_since: new Date(),
    pending_since: new Date(),
    claimed_by: TOKEN,
    claimed_until: new Date(Date.now() + 60_000),
  });
  return { ticketId: String(ticket.id), deliveryId: String(d.id) };
}

const row = async (id: string) => (await t.db('psa_deliveries').where({ id }).first()) as { state: string; pending_occurrences: number; claimed_by: string | null; pending_since: Date | null };

it('repeats committed while the settle waits for the row keep it pending with exactly those repeats', async () => {
  const { ticketId, deliveryId } = await claimedWithRepeats('race', 40, '5001');
  const trx = await t.db.transaction();
  let settled = false;
  try {
    // The pipeline's transaction records 300 more repeats and holds the row.
    await recordDeliveryChanges(trx, [{ ticketId, occurrences: 300, since: new Date() }]);
    // The run settles the 40 it sent: it waits for the row.
    const settle = settleDeliveries(t.db, TOKEN, [{ id: deliveryId, occurrences: 40, notes: 0, sentSeq: null, closed: false }]).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await trx.commit();
    const [after] = await settle;
    expect(after).toMatchObject({ state: 'pending', pending_occurrences: 300, claimed_by: null });
  } finally {
    if (!trx.isCompleted()) await trx.rollback();
  }
  const d = await row(deliveryId);
  expect(d).toMatchObject({ state: 'pending', pending_occurrences: 300, claimed_by: null });
  expect(d.pending_since).not.toBeNull();
});

it('without a concurrent change the settle marks the row delivered', async () => {
  const { deliveryId } = await claimedWithRepeats('calm', 40, '5002');
  const [after] = await settleDeliveries(t.db, TOKEN, [{ id: deliveryId, occurrences: 40, notes: 0, sentSeq: null, closed: false }]);
  expect(after).toMatchObject({ state: 'delivered', pending_occurrences: 0, claimed_by: null });
  expect((await row(deliveryId)).pending_since).toBeNull();
});
