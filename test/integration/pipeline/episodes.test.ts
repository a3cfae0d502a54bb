import fc from 'fast-check';
import request from 'supertest';
import type { Knex } from 'knex';
import { createSource, seedWorld } from '../../helpers/seed';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';

/**
 * R-ALR-4, issue 15 item 7: duplicates that are not re-fires. Deliveries are retried late and arrive
 * out of order; a firing episode runs from a firing to the resolved event that ends it, both dated
 * by the sender. Over HTTP, on the real Postgres and Redis, with TWO worker processes on one queue.
 */

const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let second: TestHub;
let db: Knex;

const event = (alertId: string, state: 'firing' | 'resolved', occurredAt: string) => ({
  alertId,
  state,
  severity: 'critical',
  category: 'disk',
  title: 'Disk C: almost full',
  message: '95% used',
  device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
  occurredAt,
});
const post = (body: unknown) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
async function deliver(body: unknown): Promise<void> {
  const res = await post(body);
  expect(res.status).toBe(202);
}

async function settled(): Promise<void> {
  await waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return Number(r.n) === 0;
  }, 30_000, 'all receipts processed');
}
/** Delivers one event and waits until the workers applied it (the order of application is the order of delivery). */
async function deliverApplied(body: unknown): Promise<void> {
  await deliver(body);
  await settled();
}
const tickets = () => db('tickets').orderBy('id');
const at = (minute: number) => new Date(Date.UTC(2026, 2, 10, 9, minute)).toISOString();

beforeAll(async () => {
  h = await startTestHub();
  db = h.t.db;
  // A second worker process on the same database and queue: jobs of one key race between them.
  second = await startTestHub({ api: false, worker: true, t: h.t, env: { HUB_QUEUE_PREFIX: h.config.HUB_QUEUE_PREFIX } });
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
});
afterAll(async () => {
  await second?.close();
  await h?.close();
});
beforeEach(async () => {
  await db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
});

describe('R-ALR-4: duplicates that are not re-fires (issue 15 item 7)', () => {
  it('the very same firing retried late, after its ticket was resolved, opens no new ticket', async () => {
    await deliverApplied(event('e1', 'firing', at(0)));
    await deliverApplied(event('e1', 'resolved', at(5)));
    await deliverApplied(event('e1', 'firing', at(0)));
    const all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'resolved', occurrences: 1 });
    const outcomes = (await db('alert_receipts').orderBy('id').select('outcome')).map((r: { outcome: string }) => r.outcome);
    expect(outcomes).toEqual(['ticket_created', 'resolved', 'stale_firing']);
  });

  it('the very same firing retried after a person closed its ticket opens no new ticket', async () => {
    await deliverApplied(event('e2', 'firing', at(0)));
    const [t] = await tickets();
    const res = await request(h.url).patch(`/api/v1/tickets/${t.id}`).set('Authorization', ADMIN).send({ status: 'resolved', note: 'fixed by hand' });
    expect(res.status).toBe(200);
    await deliverApplied(event('e2', 'firing', at(0)));
    expect(await tickets()).toHaveLength(1);
  });

  it('a late retry of an old resolved event does not resolve the newer ticket', async () => {
    await deliverApplied(event('e3', 'firing', at(0)));
    await deliverApplied(event('e3', 'resolved', at(5)));
    await deliverApplied(event('e3', 'firing', at(10))); // a re-fire: newer than the last resolution
    await deliverApplied(event('e3', 'resolved', at(5))); // the old resolved event, retried late
    const all = await tickets();
    expect(all).toHaveLength(2);
    expect(all.map((t: { status: string }) => t.status)).toEqual(['resolved', 'new']);
    await deliverApplied(event('e3', 'resolved', at(15)));
    expect((await tickets()).map((t: { status: string }) => t.status)).toEqual(['resolved', 'resolved']);
  });

  it('a resolved event that arrives before its firing is remembered: the late older firing opens nothing', async () => {
    await deliverApplied(event('e4', 'resolved', at(5)));
    await deliverApplied(event('e4', 'firing', at(0)));
    expect(await tickets()).toHaveLength(0);
    // A re-fire is a firing newer than the last resolution.
    await deliverApplied(event('e4', 'firing', at(7)));
    expect(await tickets()).toHaveLength(1);
  });

  it('a late retry of a resolved event does not resolve a ticket its episode reopened (flapping)', async () => {
    await deliverApplied(event('e5', 'firing', at(0)));
    await deliverApplied(event('e5', 'resolved', at(5)));
    // Reopen within a window: simulated by the ticket's stored window (the rules' reopen window).
    await db('tickets').update({ reopen_window_minutes: 60 });
    await deliverApplied(event('e5', 'firing', at(10)));
    let all = await tickets();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'new', flaps: 1 });
    await deliverApplied(event('e5', 'resolved', at(5)));
    all = await tickets();
    expect(all[0]).toMatchObject({ status: 'new' });
  });

  it('property: retries in any order, concurrent on two workers, never change the ticket count — one per firing episode', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 2, maxLength: 10 }),
        async (episodes, lastOpen, picks) => {
          await db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
          const id = 'prop';
          const events: Array<ReturnType<typeof event>> = [];
          for (let e = 0; e < episodes; e++) {
            events.push(event(id, 'firing', at(e * 10)));
            if (!(lastOpen && e === episodes - 1)) events.push(event(id, 'resolved', at(e * 10 + 5)));
          }
          // The first delivery of each event, in order, each applied before the next.
          for (const ev of events) await deliverApplied(ev);
          // Then late retries of random events, all at once, racing on two workers.
          await Promise.all(picks.map((p) => deliver(events[p % events.length])));
          await settled();
          const all = await tickets();
          expect(all).toHaveLength(episodes);
          const open = all.filter((t: { status: string }) => t.status !== 'resolved');
          expect(open).toHaveLength(lastOpen ? 1 : 0);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('property: in any delivery order, on two workers, an episode never gets two tickets and no ticket outlives its resolution', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { minLength: 0, maxLength: 6 }), fc.nat(), async (episodes, extra, seed) => {
        await db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
        const events: Array<ReturnType<typeof event>> = [];
        for (let e = 0; e < episodes; e++) events.push(event('any', 'firing', at(e * 10)), event('any', 'resolved', at(e * 10 + 5)));
        const deliveries = [...events, ...extra.map((p) => events[p % events.length]!)];
        // A seeded shuffle: the delivery order.
        let s = seed;
        for (let i = deliveries.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) % 2 ** 31;
          const j = s % (i + 1);
          [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
        }
        await Promise.all(deliveries.map((d) => deliver(d)));
        await settled();
        const all = await tickets();
        expect(all.length).toBeLessThanOrEqual(episodes);
        // Every episode was resolved, so whatever opened a ticket was resolved with it.
        expect(all.filter((t: { status: string }) => t.status !== 'resolved')).toHaveLength(0);
        // One ticket per episode at most: the firings that opened them are distinct.
        const starts = all.map((t: { first_occurred_at: Date }) => new Date(t.first_occurred_at).toISOString());
        expect(new Set(starts).size).toBe(starts.length);
      }),
      { numRuns: 8 },
    );
  });
});
