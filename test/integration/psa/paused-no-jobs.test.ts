import { waitFor } from '../../helpers/hub';
import { startPausedHub, type PausedHub } from './paused-hub';

/**
 * Issue 16 item 3 (the outbox's cost at the rate limit): while a connection's queue is paused — its
 * call budget spent, a `Retry-After`, the breaker open — the tickets made meanwhile get their delivery
 * rows but no BullMQ job each (every such job could only wait, and adding it was the largest cost of
 * recording a delivery after the row). When the pause ends, the worker that paused enqueues the
 * connection's pending deliveries, and they are delivered once each.
 *
 * The pause here is the PSA's `429` with `Retry-After: 2`. The sweep is set to 10 minutes, so only the
 * enqueue at the pause's end can deliver the tickets posted during it: with the same priority as the
 * paused run's, that run does not take them along. Before this change each of them had a job in the
 * queue (the first assertion fails).
 */
let p: PausedHub;

beforeAll(async () => {
  p = await startPausedHub({ sweepMs: 600_000 });
}, 30_000);
afterAll(async () => p?.close());

it('tickets made while the queue is paused get no job; the end of the pause enqueues and delivers them once each', async () => {
  const { db, fake } = p;
  // The 429 pauses the queue for 2 s.
  const first = await p.pauseWith429('first', 2);
  const pausedAt = Date.now();

  const later = ['second', 'third', 'fourth'];
  for (const id of later) expect((await p.post(id)).status).toBe(202);
  const rows = await Promise.all(later.map(p.deliveryOf));
  // Still inside the pause (the assertions below are about it).
  expect(Date.now() - pausedAt).toBeLessThan(1_800);
  expect(rows.map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
  const withJobs = await p.idsWithJobs();
  expect(withJobs.has(String(first.id))).toBe(true);
  for (const r of rows) expect(withJobs.has(String(r.id))).toBe(false);

  // After the pause: all four delivered, one PSA ticket each.
  await waitFor(async () => (await db('psa_deliveries').whereIn('id', [first.id, ...rows.map((r) => r.id)]).where({ state: 'delivered' })).length === 4, 20_000, 'all four delivered');
  for (const d of [first, ...rows]) expect(fake.tickets.filter((t) => t.fields.externalID === String(d.ticket_id))).toHaveLength(1);
}, 40_000);
