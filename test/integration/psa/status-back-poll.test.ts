import request from 'supertest';
import type { Knex } from 'knex';
import { pollPsaStatus } from '../../../app/psa/poll-status';
import { createRedis } from '../../../lib/redis';
import { SlidingCallBudget, waitingCallBudget } from '../../../workers/psa-rate-limit';
import { connectWiseConnector } from '../../../connectors/connectwise';
import { createLogger } from '../../../lib/logger';
import { SCHEDULES, UPKEEP_JOBS } from '../../../workers/catalog';
import { FakeConnectWise } from '../../helpers/fake-connectwise';
import { createSource, seedWorld } from '../../helpers/seed';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { insertDeliveredTicket, insertPsaConnection } from './psa-fixtures';

/**
 * R-PSA-3 and R-ALR-4 by polling (ConnectWise; the fallback for any PSA without webhooks): a ticket
 * closed in ConnectWise closes the hub ticket at the next poll, so the next firing opens a new
 * ticket; the poll's cursor moves forward, a failing connection is reported and the next poll
 * catches up. Real Postgres, Redis and workers; the fake ConnectWise stands in for the PSA.
 */
const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let cw: FakeConnectWise;
let connectionId: string;

const alert = (over: Record<string, unknown> = {}) => ({
  alertId: 'disk-mail01',
  state: 'firing',
  severity: 'critical',
  category: 'disk',
  title: 'Disk C: almost full',
  message: '95% used',
  device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00+01:00',
  ...over,
});
const postAlert = (body: unknown) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
async function settled(): Promise<void> {
  await waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return Number(r.n) === 0;
  }, 20_000, 'all receipts processed');
}
const poll = () => pollPsaStatus({ db, logger: createLogger('silent'), now: () => new Date(), secretKeys: h.config.HUB_SECRET_KEYS });

beforeAll(async () => {
  cw = await new FakeConnectWise().start();
  cw.companies = [{ id: 250, identifier: 'ACME', name: 'ACME GmbH', deletedFlag: false }];
  h = await startTestHub();
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  connectionId = await insertPsaConnection(db, h.config.HUB_SECRET_KEYS, { name: 'cw', type: 'connectwise', config: cw.config() });
});
afterAll(async () => {
  await h.close();
  await cw.stop();
});

describe('status back by polling (R-PSA-3)', () => {
  it('is a periodic upkeep job of the catalog, every HUB_PSA_POLL_INTERVAL_SECONDS', () => {
    const s = SCHEDULES.upkeep.find((x) => x.name === 'psa-status-poll');
    expect(s).toMatchObject({ id: 'upkeep-psa-status-poll', data: { v: 1, kind: 'psa-status-poll' } });
    expect(s!.repeat({ HUB_UPKEEP_INTERVAL_SECONDS: 60, HUB_PSA_POLL_INTERVAL_SECONDS: 120, HUB_RETENTION_INTERVAL_SECONDS: 3600 })).toEqual({ every: 120_000 });
    expect(UPKEEP_JOBS['psa-status-poll'].everySeconds(h.config)).toBe(300);
  });

  it('R-PSA-3, R-ALR-4: closed in ConnectWise → the hub ticket is closed at the next poll; the next firing opens a new ticket', async () => {
    await postAlert(alert());
    await settled();
    const [t1] = await db('tickets').orderBy('id');
    // The ticket in ConnectWise, as the delivery made it (marker = the hub ticket id).
    const session = connectWiseConnector.open(connectWiseConnector.configSchema.parse(cw.config()), { connectionName: 'cw', now: () => new Date() });
    const { externalId } = await session.createTicket({
      hubTicketId: String(t1.id),
      title: t1.title,
      description: 'x',
      priority: 'critical',
      status: 'new',
      queue: null,
      dueAt: null,
      occurrences: 1,
      firstOccurredAt: new Date().toISOString(),
      refs: { company: '250', contract: null, device: null, service: null, sla: null },
      names: { company: null, contract: null, device: null, service: null, sla: null },
    });
    await session.close?.();
    await insertDeliveredTicket(db, String(t1.id), connectionId, externalId);

    // Open in ConnectWise: the poll changes nothing.
    expect(await poll()).toEqual([expect.objectContaining({ connection: 'cw', polled: true, reports: 0, closed: 0, error: null })]);
    await cw.setStatus(Number(externalId), 'Completed');
    const [r] = await poll();
    expect(r).toMatchObject({ polled: true, reports: 1, closed: 1, results: [{ externalId, ticketId: String(t1.id), outcome: 'closed' }] });
    expect(await db('tickets').where({ id: t1.id }).first()).toMatchObject({ status: 'closed' });
    expect(await db('psa_deliveries').where({ ticket_id: t1.id }).first()).toMatchObject({ closed_in_psa: true });
    const status = await db('psa_status_back').where({ connection_id: connectionId }).first();
    expect(status.polled_until).toBeInstanceOf(Date);
    expect(status.last_poll_error).toBeNull();
    // Nothing echoed back: ConnectWise got no PATCH or note for the close.
    expect(cw.requests.filter((q) => q.method !== 'GET' && q.path.startsWith(`/service/tickets/${externalId}`))).toEqual([]);

    // Polled again (the overlap re-reads the change): already closed, nothing happens twice.
    const [again] = await poll();
    expect(again!.results.map((x) => x.outcome)).toEqual(['already-closed']);

    await postAlert(alert({ occurredAt: '2026-03-10T11:00:00+01:00' }));
    await settled();
    const all = await db('tickets').orderBy('id');
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ status: 'new', occurrences: 1 });
  });

  it('a PSA that fails the poll is reported and recorded; the cursor stays so the next poll catches up', async () => {
    const before = (await db('psa_status_back').where({ connection_id: connectionId }).first()).polled_until as Date;
    cw.inject({ kind: 'status', status: 500 }, { method: 'GET', path: /^\/service\/tickets$/ });
    const [failed] = await poll();
    expect(failed).toMatchObject({ polled: false, error: expect.stringContaining('500') });
    const row = await db('psa_status_back').where({ connection_id: connectionId }).first();
    expect(row.last_poll_error).toContain('500');
    expect(row.polled_until.getTime()).toBe(before.getTime());
    const [ok] = await poll();
    expect(ok!.error).toBeNull();
    expect((await db('psa_status_back').where({ connection_id: connectionId }).first()).last_poll_error).toBeNull();
  });
});

describe('the poll and the rate limit (psafix item 1)', () => {
  it("takes its calls from the connection's budget, shared with the deliveries: spent for longer than the poll may wait, it gives up with the reason and sends nothing", async () => {
    const redis = createRedis(h.config.REDIS_URL);
    try {
      const prefix = `test-poll-budget-${Date.now()}`;
      // The deliveries spent the minute's one call.
      expect(await new SlidingCallBudget(redis, { prefix, limit: 1 }).take('cw')).toBe(0);
      const before = cw.requests.length;
      const [r] = await pollPsaStatus(
        { db, logger: createLogger('silent'), now: () => new Date(), secretKeys: h.config.HUB_SECRET_KEYS, psaCallBudget: (row) => waitingCallBudget(redis, prefix, row.name, 1, 300) },
        { connection: 'cw' },
      );
      expect(r).toMatchObject({ connection: 'cw', polled: false });
      expect(r!.error).toMatch(/^PSA rate limit: no call left for cw/);
      expect(cw.requests.length).toBe(before);
      // A budget with room: the poll goes out and its call is counted in it.
      const roomy = `${prefix}-roomy`;
      const [ok] = await pollPsaStatus(
        { db, logger: createLogger('silent'), now: () => new Date(), secretKeys: h.config.HUB_SECRET_KEYS, psaCallBudget: (row) => waitingCallBudget(redis, roomy, row.name, 2, 300) },
        { connection: 'cw' },
      );
      expect(ok).toMatchObject({ polled: true, error: null });
      expect(await redis.zcard(`${roomy}:psa-calls:{cw}`)).toBe(cw.requests.length - before);
    } finally {
      await redis.quit();
    }
  });
});
