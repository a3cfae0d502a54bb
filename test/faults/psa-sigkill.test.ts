import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../helpers/fake-autotask';
import { FakeConnectWise } from '../helpers/fake-connectwise';
import { startTestHub, waitFor, type TestHub } from '../helpers/hub';
import { hubEnv, startHubProcess, stopAllHubProcesses, type HubChild } from '../helpers/processes';
import { createSource, seedWorld } from '../helpers/seed';
import { insertPsaConnection } from '../integration/psa/psa-fixtures';
import { alert, deleteQueueKeys, post, SOURCE, TOKEN } from './fault-helpers';

/**
 * Issue 16 "exactly once": the worker process SIGKILLed between the PSA's create and our commit.
 * The fake Autotask and the fake ConnectWise create the ticket and never answer (the request hangs);
 * the test kills the worker the moment the PSA holds the ticket, so the hub never learns its id.
 * A new worker takes the delivery again (BullMQ's stalled check after HUB_JOB_LOCK_SECONDS=2, or
 * the delivery sweep once the Postgres lease — 6 × HUB_PSA_TIMEOUT_MS = 12 s here — ran out), sees
 * an earlier attempt, looks the ticket up by our id (Autotask `externalID`, ConnectWise
 * `externalXRef` marker) and adopts it: exactly one PSA ticket per connection.
 */
describe('fault: PSA worker SIGKILLed between the PSA create and our commit', () => {
  let h: TestHub;
  let db: Knex;
  let at: FakeAutotask;
  let cw: FakeConnectWise;

  beforeAll(async () => {
    at = await startFakeAutotask();
    cw = await new FakeConnectWise().start();
    cw.companies = [{ id: 250, identifier: 'Acme', name: 'Acme GmbH', deletedFlag: false }];
    h = await startTestHub({ api: true, worker: false });
    db = h.t.db;
    await createSource(db, h.config.HUB_SECRET_KEY, { name: SOURCE, plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    const world = await seedWorld(db, { source: SOURCE, site: 'acme-hq' });
    await insertPsaConnection(db, h.config.HUB_SECRET_KEYS, { name: 'autotask', type: 'autotask', config: at.credentials });
    await insertPsaConnection(db, h.config.HUB_SECRET_KEYS, { name: 'cw', type: 'connectwise', config: cw.config() });
    await db('companies').where({ id: world.company.id }).update({ psa_refs: JSON.stringify({ autotask: '29683', cw: '250' }) });
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await deleteQueueKeys(h.config.REDIS_URL, h.config.HUB_QUEUE_PREFIX);
    await h.close();
    await at.close();
    await cw.stop();
  }, 30_000);

  const worker = (): Promise<HubChild> =>
    startHubProcess({
      role: 'worker',
      env: hubEnv({
        databaseUrl: h.t.url,
        redisUrl: h.config.REDIS_URL,
        prefix: h.config.HUB_QUEUE_PREFIX,
        extra: {
          HUB_JOB_LOCK_SECONDS: '2',
          HUB_AUTOTASK_ZONE_LOOKUP_URL: at.baseUrl,
          HUB_PSA_TIMEOUT_MS: '2000',
          HUB_PSA_SWEEP_MS: '500',
          HUB_PSA_BACKOFF_MS: '50',
        },
      }),
    });

  it('R-PSA-2: after a new worker starts, exactly one Autotask ticket and one ConnectWise ticket, adopted by our id', async () => {
    at.holdNextCreate();
    cw.inject({ kind: 'hold-response' }, { method: 'POST', path: /^\/service\/tickets$/ });
    const first = await worker();
    const res = await post(h.url, alert('psa-kill', { severity: 'critical' }));
    expect(res.status).toBe(202);

    // Both PSAs hold the ticket; neither answer reached the worker.
    await waitFor(async () => at.tickets.length === 1 && cw.tickets.size === 1, 30_000, 'both PSAs to create the ticket');
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const ticket = (await db('tickets').first()) as { id: string };
    const rows = (await db('psa_deliveries').where({ ticket_id: ticket.id })) as Array<{ external_id: string | null; state: string }>;
    expect(rows).toHaveLength(2);
    // The hub never learnt the PSA ids: this is the window the lookup protects.
    expect(rows.every((r) => r.external_id === null && r.state === 'pending')).toBe(true);

    const atCallsBefore = at.calls.length;
    const second = await worker();
    const done = await waitFor(
      async () => {
        const ds = (await db('psa_deliveries as d').join('psa_connections as c', 'c.id', 'd.connection_id').where('d.ticket_id', ticket.id).select('d.*', 'c.name')) as Array<{
          name: string;
          state: string;
          external_id: string | null;
          attempts: number;
        }>;
        return ds.every((d) => d.state === 'delivered') ? ds : undefined;
      },
      45_000,
      'both deliveries delivered by the second worker',
    );
    expect(at.tickets.filter((t) => t.fields.externalID === String(ticket.id))).toHaveLength(1);
    expect(at.tickets).toHaveLength(1);
    expect(cw.ticketByMarker(`hub:${ticket.id}`)).toHaveLength(1);
    expect(cw.tickets.size).toBe(1);
    const byName = new Map(done.map((d) => [d.name, d]));
    expect(byName.get('autotask')!.external_id).toBe(String(at.tickets[0]!.id));
    expect(byName.get('cw')!.external_id).toBe(String([...cw.tickets.values()][0]!.id));
    expect(done.every((d) => d.attempts >= 2)).toBe(true);
    // The second worker asked Autotask by externalID and never posted a second create.
    const after = at.calls.slice(atCallsBefore);
    expect(after.some((c) => c.method === 'POST' && c.path === '/Tickets/query')).toBe(true);
    expect(after.some((c) => c.method === 'POST' && c.path === '/Tickets')).toBe(false);
    expect(second.output()).not.toMatch(/"level":50/);
  }, 90_000);
});
