import { recordSlaBreachesNow } from '../../../app/tickets/record-sla-breaches';
import { createLogger } from '../../../lib/logger';
import { registry } from '../../../lib/metrics';
import { createTestApp, type TestApp } from '../../helpers/app';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { insertCompany, insertTicket } from './operator-fixtures';

/**
 * R-TKT-2: SLA attainment is tracked — first response and resolution recorded, breaches marked
 * when they happen (by the upkeep job, not on read), the SLA state on every ticket, the list's
 * `slaState=` filter and `sort=nextDue`, and attainment per contract in the profitability report.
 * Over HTTP on the real Postgres; the scheduled job on the real Redis/BullMQ.
 */
const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);

async function breachCount(target: string, priority: string): Promise<number> {
  const m = await registry.getSingleMetric('hub_sla_breaches_total')?.get();
  return m?.values.find((v) => v.labels.target === target && v.labels.priority === priority)?.value ?? 0;
}

describe('R-TKT-2: SLA tracking', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let other: string;
  let now = at('10:00');
  const ids: Record<string, string> = {};
  const logger = createLogger('silent');

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => now } });
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    other = await insertCompany(t.db, 'Other Ltd');
    const mail = { company_id: w.company.id, device_id: w.mailServer.id, contract_id: w.mailContract.id, service_id: w.serviceMail.id, sla_id: w.sla24x7.id };
    const make = async (name: string, over: Record<string, unknown>) => {
      ids[name] = (await insertTicket(t.db, { ...mail, created_at: at('08:00'), first_occurred_at: at('08:00'), ...over })).id;
    };
    // At 10:00:
    await make('none', { contract_id: null, service_id: null, sla_id: null });
    await make('onTrack', { created_at: at('09:00'), first_response_due_at: at('12:00'), resolution_due_at: at('17:00') });
    await make('atRisk', { first_response_at: at('08:10'), status: 'in_progress', first_response_due_at: at('08:30'), resolution_due_at: at('10:20') });
    await make('late', { first_response_due_at: at('09:30'), resolution_due_at: at('16:00') });
    await make('met', { first_response_at: at('08:10'), resolved_at: at('09:00'), status: 'resolved', first_response_due_at: at('08:30'), resolution_due_at: at('16:00') });
    await make('resolvedLate', { created_at: at('06:00'), first_response_at: at('06:05'), resolved_at: at('09:00'), status: 'resolved', resolution_due_at: at('07:00') });
    // Waiting for the customer since 08:20: the clock stands there (10 of 30 minutes left), not at 10:00.
    await make('paused', { status: 'waiting_customer', sla_paused_at: at('08:20'), first_response_due_at: at('08:30'), resolution_due_at: at('16:00') });
    await make('otherCompany', { company_id: other, device_id: null, contract_id: null, service_id: null, first_response_due_at: at('09:00'), resolution_due_at: at('12:00') });
  });
  afterAll(async () => t.close());

  const expected: Record<string, string> = {
    none: 'none',
    onTrack: 'onTrack',
    atRisk: 'atRisk',
    late: 'breached',
    met: 'met',
    resolvedLate: 'breached',
    paused: 'onTrack',
    otherCompany: 'breached',
  };

  it('R-TKT-2: every ticket (detail and list) has triage and sla { state, due dates, firstResponseAt, resolvedAt, breaches }', async () => {
    for (const [name, state] of Object.entries(expected)) {
      const res = await api.get(`/tickets/${ids[name]}`);
      expect({ name, state: res.body.sla.state }).toEqual({ name, state });
      expect(typeof res.body.triage).toBe('boolean');
    }
    const met = await api.get(`/tickets/${ids.met}`);
    expect(met.body.sla).toEqual({
      state: 'met',
      responseDueAt: '2026-03-02T08:30:00.000Z',
      resolutionDueAt: '2026-03-02T16:00:00.000Z',
      firstResponseAt: '2026-03-02T08:10:00.000Z',
      resolvedAt: '2026-03-02T09:00:00.000Z',
      breaches: [],
    });
    const list = await api.get(`/tickets?limit=100`);
    const byId = new Map(list.body.items.map((x: { id: string; sla: { state: string } }) => [x.id, x.sla.state]));
    for (const [name, state] of Object.entries(expected)) expect({ name, state: byId.get(ids[name]!) }).toEqual({ name, state });
  });

  it('R-TKT-2: slaState= lists exactly the tickets whose sla.state it names (the SQL filter and core agree)', async () => {
    const all = (await api.get('/tickets?limit=100')).body.items as Array<{ id: string; sla: { state: string } }>;
    for (const state of ['onTrack', 'atRisk', 'breached', 'met', 'none']) {
      const res = await api.get(`/tickets?limit=100&slaState=${state}`);
      expect(res.status).toBe(200);
      const got = (res.body.items as Array<{ id: string }>).map((x) => x.id).sort();
      expect({ state, got }).toEqual({ state, got: all.filter((x) => x.sla.state === state).map((x) => x.id).sort() });
    }
    const atRisk = await api.get('/tickets?slaState=atRisk');
    expect(atRisk.body.items.map((x: { id: string }) => x.id)).toEqual([ids.atRisk]);
    const breached = await api.get('/tickets?slaState=breached');
    expect(breached.body.items.map((x: { id: string }) => x.id).sort()).toEqual([ids.late, ids.resolvedLate, ids.otherCompany].sort());
    expect((await api.get('/tickets?slaState=late')).status).toBe(400);
  });

  it('R-TKT-2: time moves the states: at 11:30 the onTrack ticket is at risk, past its due date breached', async () => {
    now = at('11:30'); // onTrack: response window 09:00–12:00, 30 of 180 minutes left (< 25 %)
    expect((await api.get(`/tickets/${ids.onTrack}`)).body.sla.state).toBe('atRisk');
    now = at('12:01');
    expect((await api.get(`/tickets/${ids.onTrack}`)).body.sla.state).toBe('breached');
    now = at('10:00');
  });

  it('R-TKT-2: sort=nextDue orders by the earliest open due date (nothing due last) and pages without repeats or gaps', async () => {
    const res = await api.get(`/tickets?sort=nextDue&companyId=${w.company.id}&limit=100`);
    expect(res.status).toBe(200);
    // paused 08:30 (response), late 09:30, atRisk 10:20 (resolution), onTrack 12:00; then none, met, resolvedLate (nothing open) by id.
    const order = ['paused', 'late', 'atRisk', 'onTrack', 'none', 'met', 'resolvedLate'].map((n) => ids[n]);
    expect(res.body.items.map((x: { id: string }) => x.id)).toEqual(order);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.get(`/tickets?sort=nextDue&companyId=${w.company.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((x: { id: string }) => x.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual(order);
    const both = await api.get(`/tickets?sort=nextDue&slaState=breached&companyId=${w.company.id}`);
    expect(both.body.items.map((x: { id: string }) => x.id)).toEqual([ids.late, ids.resolvedLate]);
  });

  it('R-TKT-2: triage=true lists tickets marked for triage; a scoped token filters within its companies only', async () => {
    const triaged = (await insertTicket(t.db, { company_id: w.company.id, needs_triage: true, created_at: at('08:00') })).id;
    const res = await api.get('/tickets?triage=true');
    expect(res.body.items.map((x: { id: string }) => x.id)).toEqual([triaged]);
    expect(res.body.items[0].triage).toBe(true);
    const scoped = await tokenFor(t, 'viewer', [other]);
    const breached = await api.get('/tickets?slaState=breached', scoped);
    expect(breached.body.items.map((x: { id: string }) => x.id)).toEqual([ids.otherCompany]);
    const nextDue = await api.get('/tickets?sort=nextDue', scoped);
    expect(nextDue.body.items.map((x: { id: string }) => x.id)).toEqual([ids.otherCompany]);
    await t.db('tickets').where('id', triaged).delete();
  });

  it('R-TKT-2: the breach job marks each missed target once — ticket event, metric — and never on read', async () => {
    // Reading did not record anything.
    expect(await t.db('ticket_sla_breaches').count('* as n').first()).toEqual({ n: '0' });
    const before = { response: await breachCount('response', 'high'), resolution: await breachCount('resolution', 'high') };
    const first = await recordSlaBreachesNow({ db: t.db, logger, now: at('10:00') });
    expect(first.map((b) => [b.ticket_id, b.target]).sort()).toEqual(
      [
        [ids.late, 'response'],
        [ids.resolvedLate, 'resolution'],
        [ids.otherCompany, 'response'],
      ].sort(),
    );
    expect(await recordSlaBreachesNow({ db: t.db, logger, now: at('10:00') })).toEqual([]);
    expect(await breachCount('response', 'high')).toBe(before.response + 2);
    expect(await breachCount('resolution', 'high')).toBe(before.resolution + 1);

    const late = await api.get(`/tickets/${ids.late}`);
    expect(late.body.sla).toMatchObject({ state: 'breached', breaches: [{ target: 'response', at: '2026-03-02T09:30:00.000Z' }] });
    expect(late.body.notes.filter((n: { kind: string }) => n.kind === 'sla-breach')).toEqual([
      expect.objectContaining({ body: 'SLA breached: the response was due at 2026-03-02T09:30:00Z.', author: 'hub' }),
    ]);
    // The paused ticket is not breached while its clock stands at 08:20.
    expect((await api.get(`/tickets/${ids.paused}`)).body.sla.breaches).toEqual([]);

    // Concurrent runs (at-least-once, several workers) record the next breach exactly once.
    const concurrent = await Promise.all([1, 2, 3].map(() => recordSlaBreachesNow({ db: t.db, logger, now: at('16:30') })));
    const recorded = concurrent.flat().map((b) => `${b.ticket_id}:${b.target}`).sort();
    // By 16:30: late's resolution (16:00), onTrack's response (12:00; its resolution is due 17:00), atRisk's resolution (10:20), otherCompany's (12:00).
    expect(recorded).toEqual([`${ids.late}:resolution`, `${ids.onTrack}:response`, `${ids.atRisk}:resolution`, `${ids.otherCompany}:resolution`].sort());
    expect(await t.db('ticket_sla_breaches').where('ticket_id', ids.late)).toHaveLength(2);
    // A breach once recorded stays: the list filter still names the ticket after it is resolved.
    await t.db('tickets').where('id', ids.late).update({ status: 'resolved', resolved_at: at('16:40') });
    const breached = await api.get('/tickets?slaState=breached&limit=100');
    expect(breached.body.items.map((x: { id: string }) => x.id)).toContain(ids.late);
  });

  it('R-TKT-2: the profitability report gives SLA attainment per contract (met / breached, %)', async () => {
    const res = await api.get('/reports/profitability?from=2026-03-01&to=2026-03-31');
    expect(res.status).toBe(200);
    const mail = res.body.contracts.find((c: { contractId: string }) => c.contractId === String(w.mailContract.id));
    // Of the mail contract's tickets: met 1 (met); breached 4 (late, resolvedLate, and onTrack and atRisk, whose breaches
    // were recorded above); paused is still in time and none has no due dates: not counted.
    expect(mail.sla).toEqual({ met: 1, breached: 4, attainmentPercent: 20 });
    const desk = res.body.contracts.find((c: { contractId: string }) => c.contractId === String(w.defaultContract.id));
    expect(desk.sla).toEqual({ met: 0, breached: 0, attainmentPercent: null });
  });
});

describe('R-TKT-2: the breach job is scheduled on the upkeep queue', () => {
  let h: TestHub;
  beforeAll(async () => {
    h = await startTestHub({ api: false, worker: true, env: { HUB_UPKEEP_INTERVAL_SECONDS: '1' } });
  });
  afterAll(async () => h.close());

  it('R-TKT-2: a ticket whose response is overdue gets its breach from the scheduled upkeep run, without anyone reading it', async () => {
    const schedulers = (await h.hub.queues.upkeep.getJobSchedulers()).map((s) => s.key);
    expect(schedulers).toContain('upkeep-sla-breaches');
    const created = new Date(Date.now() - 3_600_000);
    const { id } = await insertTicket(h.t.db, { created_at: created, first_response_due_at: new Date(Date.now() - 60_000), resolution_due_at: new Date(Date.now() + 3_600_000) });
    const row = await waitFor(async () => h.t.db('ticket_sla_breaches').where('ticket_id', id).first(), 15_000, 'the scheduled breach run');
    expect(row).toMatchObject({ target: 'response', priority: 'high' });
    expect(await h.t.db('ticket_notes').where({ ticket_id: id, kind: 'sla-breach' })).toHaveLength(1);
  });
});
