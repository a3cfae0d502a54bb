import { removeConnection } from '../../../app/psa/connections';
import { recordNewTickets } from '../../../app/psa/outbox';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';
import { insertPsaConnection } from './psa-fixtures';

/**
 * Issue 16, R-PSA-1 (a delivery never without its ticket and connection): `psa_deliveries.connection_id`
 * has no foreign key since migration 20261208040000 (its per-row check was most of an outbox row's
 * cost). What the key did is kept by the outbox's one lock per statement (`outboxTargets` locks the
 * enabled connections `FOR KEY SHARE`) and by triggers on `psa_connections` (a delete takes the
 * connection's deliveries along, a TRUNCATE … CASCADE the table). These tests hold both orders of an outbox
 * transaction racing a connection's delete: without the lock, each leaves a delivery of a connection
 * that no longer exists.
 */
let t: TestDatabase;
let companyId: string;
const KEYS = ['connection-delete-test-key-0123456789abcdef'];
const CONFIG = { username: 'u@example.com', secret: 's', integrationCode: 'C', baseUrl: 'http://127.0.0.1:9/atservicesrest' };

beforeAll(async () => {
  t = await createTestDatabase();
  companyId = String((await insertRow(t.db, 'companies', { name: 'ACME', psa_refs: JSON.stringify({ a: '1', b: '2' }) })).id);
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  await t.db.raw('TRUNCATE tickets RESTART IDENTITY CASCADE');
  await t.db('psa_connections').delete();
  await insertPsaConnection(t.db, KEYS, { name: 'a', type: 'autotask', config: CONFIG });
  await insertPsaConnection(t.db, KEYS, { name: 'b', type: 'autotask', config: CONFIG });
});

async function newTicket(title: string): Promise<string> {
  const row = await insertRow(t.db, 'tickets', { source: 'rmm', priority: 'high', status: 'new', dedup_key: title, company_id: companyId, title, first_occurred_at: new Date(), last_occurred_at: new Date() });
  return String(row.id);
}

const plan = (ticketId: string) => [{ ticketId, companyId, companyName: 'ACME', priority: 'high' as const, deliver: undefined }];

/** Deliveries by connection name; `(none)` for a delivery whose connection is gone. */
async function deliveriesByConnection(): Promise<Record<string, number>> {
  const { rows } = await t.db.raw<{ rows: Array<{ name: string; n: number }> }>(
    `SELECT coalesce(c.name, '(none)') AS name, count(*)::int AS n FROM psa_deliveries d LEFT JOIN psa_connections c ON c.id = d.connection_id GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

/** Settles within `ms`, or not: whether a statement is waiting for a lock. */
async function settlesWithin<T>(p: Promise<T>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

it('deleting a connection deletes its deliveries and no other', async () => {
  const ticketId = await newTicket('one');
  await t.db.transaction((trx) => recordNewTickets(trx, plan(ticketId)));
  expect(await deliveriesByConnection()).toEqual({ a: 1, b: 1 });
  await t.db.transaction((trx) => removeConnection(trx, 'a'));
  expect(await deliveriesByConnection()).toEqual({ b: 1 });
});

it('TRUNCATE psa_connections CASCADE still takes the deliveries along', async () => {
  await t.db.transaction(async (trx) => recordNewTickets(trx, plan(await newTicket('two'))));
  expect(await deliveriesByConnection()).toEqual({ a: 1, b: 1 });
  await t.db.raw('TRUNCATE psa_connections CASCADE');
  expect(await deliveriesByConnection()).toEqual({});
});

it('a delete waits for an outbox transaction that read the connection, then deletes what it wrote', async () => {
  const ticketId = await newTicket('three');
  const outbox = await t.db.transaction();
  try {
    const refs = await recordNewTickets(outbox, plan(ticketId));
    expect(refs.map((r) => r.connectionName).sort()).toEqual(['a', 'b']);
    const deleting = t.db.transaction((trx) => removeConnection(trx, 'a'));
    expect(await settlesWithin(deleting, 300)).toBe(false);
    await outbox.commit();
    await deleting;
  } finally {
    if (!outbox.isCompleted()) await outbox.rollback();
  }
  expect(await deliveriesByConnection()).toEqual({ b: 1 });
});

it('an outbox transaction after an uncommitted delete waits for it and writes nothing for that connection', async () => {
  const ticketId = await newTicket('four');
  const deleting = await t.db.transaction();
  try {
    await removeConnection(deleting, 'a');
    const recording = t.db.transaction((trx) => recordNewTickets(trx, plan(ticketId)));
    expect(await settlesWithin(recording, 300)).toBe(false);
    await deleting.commit();
    const refs = await recording;
    expect(refs.map((r) => r.connectionName)).toEqual(['b']);
  } finally {
    if (!deleting.isCompleted()) await deleting.rollback();
  }
  expect(await deliveriesByConnection()).toEqual({ b: 1 });
});
