import { deliverRun, DeliveryStopped } from '../../../app/psa/deliver';
import { connectorOf, PsaError, type PsaSession } from '../../../connectors';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';
import { insertPsaConnection } from './psa-fixtures';

/**
 * One delivery run over several deliveries (app/psa/deliver.ts) on the real Postgres against the fake
 * Autotask: most urgent first, more urgent new tickets of the connection taken along, and a run stopped
 * by the PSA settles what it sent and gives the rest back with their attempt not counted.
 */
let t: TestDatabase;
let fake: FakeAutotask;
let session: PsaSession;
let connectionId: string;
let companyId: string;
const KEYS = ['delivery-run-test-key-0123456789abcdef0123'];

async function newDelivery(title: string, priority: 'critical' | 'low'): Promise<string> {
  const ticket = await insertRow(t.db, 'tickets', { source: 'rmm', priority, status: 'new', dedup_key: title, company_id: companyId, title, first_occurred_at: new Date(), last_occurred_at: new Date() });
  const d = await insertRow(t.db, 'psa_deliveries', { ticket_id: ticket.id, connection_id: connectionId, rank: priority === 'critical' ? 1 : 4, state: 'pending', pending_since: new Date() });
  return String(d.id);
}
const rows = async (ids: string[]) =>
  (await t.db('psa_deliveries').whereIn('id', ids).orderBy('id')) as Array<{ id: string; state: string; attempts: number; external_id: string | null; external_number: string | null; claimed_by: string | null; last_error: string | null }>;
const run = (ids: string[], s: PsaSession = session) => deliverRun({ db: t.db, session: s, token: `test-${Math.random()}`, leaseMs: 60_000, pullUrgent: 25 }, ids, () => new Date());

beforeAll(async () => {
  t = await createTestDatabase();
  fake = await startFakeAutotask();
  connectionId = await insertPsaConnection(t.db, KEYS, { name: 'autotask', type: 'autotask', config: { ...fake.credentials, baseUrl: fake.baseUrl } });
  companyId = (await insertRow(t.db, 'companies', { name: 'ACME', psa_refs: JSON.stringify({ autotask: '29683' }) })).id;
  const connector = connectorOf('autotask');
  session = connector.open(connector.configSchema.parse({ ...fake.credentials, baseUrl: fake.baseUrl }), { connectionName: 'autotask', now: () => new Date() });
});
afterAll(async () => {
  await session?.close?.();
  await fake?.close();
  await t?.drop();
});
// The fake is not reset between tests: its ids would start again and collide with the PSA ids already stored.
const callsFrom = (n: number) => fake.calls.slice(n).map((c) => `${c.method} ${c.path}`);
const psaTicket = (title: string) => fake.tickets.filter((x) => x.fields.title === title);

it('a job of low tickets takes along the critical ones waiting without a job of their own, and sends them first', async () => {
  const lows = [await newDelivery('low-a', 'low'), await newDelivery('low-b', 'low')];
  const crits = [await newDelivery('crit-a', 'critical'), await newDelivery('crit-b', 'critical')];
  const r = await run(lows);
  expect(r.kind).toBe('done');
  expect(fake.tickets.map((x) => x.fields.title)).toEqual(['crit-a', 'crit-b', 'low-a', 'low-b']);
  // One number read for the run's four creates.
  expect(callsFrom(0)).toEqual(['POST /Tickets', 'POST /Tickets', 'POST /Tickets', 'POST /Tickets', 'POST /Tickets/query']);
  for (const d of await rows([...lows, ...crits])) {
    expect(d.state).toBe('delivered');
    expect(d.external_number).toBe(fake.tickets.find((x) => String(x.id) === d.external_id)!.ticketNumber);
  }
});

it('stopped by the PSA at the second ticket: the first keeps its PSA id, the second its attempt and error, the third is given back untouched', async () => {
  const before = fake.calls.length;
  const ids = [await newDelivery('one', 'low'), await newDelivery('two', 'low'), await newDelivery('three', 'low')];
  // The PSA refuses the second create for now (503): the session's other calls are the real ones.
  let creates = 0;
  const flaky: PsaSession = {
    ...session,
    createTicket: async (ticket) => {
      if (++creates === 2) throw new PsaError('transient', 'POST /Tickets: 503 try later', { status: 503 });
      return session.createTicket(ticket);
    },
  };
  const first = run(ids, flaky);
  await expect(first).rejects.toBeInstanceOf(DeliveryStopped);
  const [one, two, three] = await rows(ids);
  expect(callsFrom(before)).toEqual(['POST /Tickets']);
  expect(psaTicket('one')).toHaveLength(1);
  // The first: its PSA id kept; its number not read (the PSA was down), so it waits, pending, for a later run.
  expect(one).toMatchObject({ state: 'pending', external_id: String(psaTicket('one')[0]!.id), claimed_by: null, attempts: 1 });
  expect(two).toMatchObject({ state: 'pending', external_id: null, claimed_by: null, attempts: 1, last_error: expect.stringContaining('503') });
  expect(three).toMatchObject({ state: 'pending', external_id: null, claimed_by: null, attempts: 0 });

  // The next run: the first's number read, the second looked up before its create (it may have been made), the third created.
  const again = fake.calls.length;
  await run(ids);
  expect((await rows(ids)).map((d) => d.state)).toEqual(['delivered', 'delivered', 'delivered']);
  for (const title of ['one', 'two', 'three']) expect(psaTicket(title)).toHaveLength(1);
  expect((await rows(ids)).every((d) => d.external_number !== null)).toBe(true);
  expect(callsFrom(again)).toEqual(['POST /Tickets/query', 'POST /Tickets', 'POST /Tickets', 'POST /Tickets/query']);
});
