import request from 'supertest';
import { ADMIN } from '../../helpers/hub';
import { startPausedHub, type PausedHub } from './paused-hub';

/**
 * Issue 16 item 3, with paused-no-jobs.test.ts: a connection disabled while its queue is paused gets
 * no jobs when the pause ends — the enqueue at the pause's end is for running connections only, as
 * the sweep is (before, the pause's timer filled the disabled connection's queue with jobs nobody runs).
 */
let p: PausedHub;

beforeAll(async () => {
  // A short sweep: the disabling is seen within half a second.
  p = await startPausedHub({ sweepMs: 500 });
}, 30_000);
afterAll(async () => p?.close());

it('a connection disabled during its pause gets no jobs when the pause ends', async () => {
  const { db, fake, h } = p;
  await p.pauseWith429('first', 3);
  const pausedAt = Date.now();
  await p.post('second');
  const second = await p.deliveryOf('second');
  expect((await p.idsWithJobs()).has(String(second.id))).toBe(false);

  expect((await request(h.url).patch('/api/v1/psa-connections/autotask').set('Authorization', ADMIN).send({ enabled: false })).status).toBe(200);
  // Past the pause's end (3 s) and a sweep: still no job for it, nothing sent.
  await new Promise((r) => setTimeout(r, Math.max(0, pausedAt + 4_000 - Date.now())));
  expect((await p.idsWithJobs()).has(String(second.id))).toBe(false);
  expect((await db('psa_deliveries').where({ id: second.id }).first()).state).toBe('pending');
  expect(fake.tickets.filter((x) => x.fields.externalID === String(second.ticket_id))).toHaveLength(0);
}, 40_000);
