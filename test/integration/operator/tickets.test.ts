import { createTestApp, type TestApp } from '../../helpers/app';
import { seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { insertAlert, insertCompany, insertSource, insertTicket } from './operator-fixtures';

/**
 * SPEC §8 ticket read API, status changes with SLA pauses, time entries (R-LINK-6) and
 * `GET /alerts/:id`, on a real Postgres. Every answer is checked against the OpenAPI document.
 */
describe('operator API: tickets, alerts, time entries', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let otherCompany: string;
  let now = new Date('2026-03-02T09:00:00Z');

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => now } });
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    otherCompany = await insertCompany(t.db, 'Other Ltd');
  });
  afterAll(async () => t.close());

  const ticketFor = (over: Record<string, unknown> = {}) =>
    insertTicket(t.db, {
      company_id: w.company.id,
      device_id: w.mailServer.id,
      contract_id: w.mailContract.id,
      service_id: w.serviceMail.id,
      sla_id: w.sla24x7.id,
      ...over,
    });

  describe('GET /tickets', () => {
    let ids: string[];
    let printerTicket: string;
    let otherTicket: string;
    let orphan: string;

    beforeAll(async () => {
      ids = [];
      for (let i = 0; i < 4; i++) ids.push((await ticketFor({ title: `mail ${i}`, status: i === 3 ? 'resolved' : 'new' })).id);
      printerTicket = (await ticketFor({ device_id: w.printer.id, contract_id: w.printerContract.id, service_id: w.servicePrint.id, sla_id: w.slaOffice.id, status: 'in_progress' })).id;
      otherTicket = (await insertTicket(t.db, { company_id: otherCompany })).id;
      orphan = (await insertTicket(t.db, { company_id: null, needs_triage: true })).id;
    });

    it('SPEC §8: lists tickets newest first with contract, service, SLA, priority, due dates and the decision', async () => {
      const res = await api.get(`/tickets?deviceId=${w.mailServer.id}`);
      expect(res.status).toBe(200);
      const items = res.body.items as Array<Record<string, unknown>>;
      expect(items.map((x) => x.id)).toEqual([...ids].reverse());
      expect(items[0]).toMatchObject({
        companyId: String(w.company.id),
        deviceId: String(w.mailServer.id),
        contractId: String(w.mailContract.id),
        serviceId: String(w.serviceMail.id),
        slaId: String(w.sla24x7.id),
        priority: 'high',
        occurrences: 1,
        rulesetVersion: 3,
        decision: { rulesFired: [{ name: 'default-contract' }], rulesetVersion: 3 },
      });
    });

    it('filters by contract, company, status (one or several) and needsTriage', async () => {
      const ofContract = await api.get(`/tickets?contractId=${w.printerContract.id}`);
      expect(ofContract.body.items.map((x: { id: string }) => x.id)).toEqual([printerTicket]);
      const ofCompany = await api.get(`/tickets?companyId=${otherCompany}`);
      expect(ofCompany.body.items.map((x: { id: string }) => x.id)).toEqual([otherTicket]);
      const resolved = await api.get(`/tickets?status=resolved&deviceId=${w.mailServer.id}`);
      expect(resolved.body.items.map((x: { id: string }) => x.id)).toEqual([ids[3]]);
      const several = await api.get(`/tickets?status=resolved,in_progress&companyId=${w.company.id}`);
      expect(several.body.items.map((x: { id: string }) => x.id)).toEqual([printerTicket, ids[3]]);
      const triage = await api.get('/tickets?needsTriage=true');
      expect(triage.body.items.map((x: { id: string }) => x.id)).toEqual([orphan]);
    });

    it('pages with limit and nextCursor, without repeats or gaps', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await api.get(`/tickets?deviceId=${w.mailServer.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.items.map((x: { id: string }) => x.id));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('refuses an unknown status or filter, naming it', async () => {
      const bad = await api.get('/tickets?status=open');
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^query\.status: unknown status "open"/);
      const unknown = await api.get('/tickets?colour=red');
      expect(unknown.status).toBe(400);
    });

    it('a company-scoped token sees only its companies’ tickets; others and ones without company are 404', async () => {
      const scoped = await tokenFor(t, 'viewer', [otherCompany]);
      const list = await api.get('/tickets', scoped);
      expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([otherTicket]);
      expect((await api.get(`/tickets/${otherTicket}`, scoped)).status).toBe(200);
      expect((await api.get(`/tickets/${ids[0]}`, scoped)).status).toBe(404);
      expect((await api.get(`/tickets/${orphan}`, scoped)).status).toBe(404);
      expect((await api.get(`/tickets/${orphan}`)).status).toBe(200);
    });

    it('GET /tickets/:id: 404 for a missing or malformed id', async () => {
      expect((await api.get('/tickets/99999999')).status).toBe(404);
      expect((await api.get('/tickets/abc')).status).toBe(404);
    });

    it('needs a token', async () => {
      expect((await api.get('/tickets', null)).status).toBe(401);
    });
  });

  describe('PATCH /tickets/:id (status, SLA pause)', () => {
    it('SPEC §8: waiting for the customer pauses the SLA clock; the open due dates move by the paused business time', async () => {
      // Office SLA (Europe/Berlin, Mon–Fri 08:00–17:00; CET = UTC+1 in March).
      // Due dates: first response 2026-03-02 09:30 local (already missed when the pause starts),
      // resolution plan Mon 15:00 local, resolution Wed 04 March 11:00 local.
      const { id } = await ticketFor({
        sla_id: w.slaOffice.id,
        first_response_due_at: new Date('2026-03-02T08:30:00Z'),
        resolution_plan_due_at: new Date('2026-03-02T14:00:00Z'),
        resolution_due_at: new Date('2026-03-04T10:00:00Z'),
      });
      now = new Date('2026-03-02T08:45:00Z');
      const started = await api.patch(`/tickets/${id}`, { status: 'in_progress' });
      expect(started.status).toBe(200);
      expect(started.body).toMatchObject({ status: 'in_progress', slaPausedAt: null });

      // Paused Mon 10:00 local, resumed Mon 16:00 local: 360 business minutes.
      now = new Date('2026-03-02T09:00:00Z');
      const paused = await api.patch(`/tickets/${id}`, { status: 'waiting_customer', note: 'asked for the admin password' });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({ status: 'waiting_customer', slaPausedAt: '2026-03-02T09:00:00.000Z' });
      expect(paused.body.slaPauses).toEqual([{ pausedAt: '2026-03-02T09:00:00.000Z', resumedAt: null }]);

      now = new Date('2026-03-02T15:00:00Z');
      const resumed = await api.patch(`/tickets/${id}`, { status: 'in_progress' });
      expect(resumed.status).toBe(200);
      expect(resumed.body).toMatchObject({
        status: 'in_progress',
        slaPausedAt: null,
        // Missed before the pause: stays missed.
        firstResponseDueAt: '2026-03-02T08:30:00.000Z',
        // Mon 15:00 local + 360 business min: 120 min to 17:00, 240 min from Tue 08:00 → Tue 12:00 local.
        resolutionPlanDueAt: '2026-03-03T11:00:00.000Z',
        // Wed 11:00 local + 360 business min → Wed 17:00 local (the end of business hours).
        resolutionDueAt: '2026-03-04T16:00:00.000Z',
      });
      expect(resumed.body.slaPauses).toEqual([{ pausedAt: '2026-03-02T09:00:00.000Z', resumedAt: '2026-03-02T15:00:00.000Z' }]);
      expect(resumed.body.notes.map((n: { kind: string; body: string }) => [n.kind, n.body])).toEqual([
        ['status', 'new → in_progress'],
        ['status', 'in_progress → waiting_customer: asked for the admin password'],
        ['status', 'waiting_customer → in_progress'],
      ]);
      const audit = await t.db('audit_log').where({ entity_type: 'ticket', entity_id: id, action: 'ticket.status' }).orderBy('id');
      expect(audit).toHaveLength(3);
      expect(audit[2].after).toMatchObject({ status: 'in_progress', pausedBusinessMinutes: 360 });
    });

    it('a pause over a night and a weekend counts only business minutes', async () => {
      // 24x7 SLA would count everything; the office SLA counts Fri 16:00 → Mon 09:00 local as 120 minutes.
      const { id } = await ticketFor({ sla_id: w.slaOffice.id, status: 'in_progress', resolution_due_at: new Date('2026-03-09T10:00:00Z') });
      now = new Date('2026-03-06T15:00:00Z'); // Fri 16:00 local
      await api.patch(`/tickets/${id}`, { status: 'waiting_customer' });
      now = new Date('2026-03-09T08:00:00Z'); // Mon 09:00 local
      const res = await api.patch(`/tickets/${id}`, { status: 'in_progress' });
      // Mon 11:00 local + 120 → Mon 13:00 local.
      expect(res.body.resolutionDueAt).toBe('2026-03-09T12:00:00.000Z');
    });

    it('resolved sets resolvedAt (by hand), closed sets closedAt, and a closed ticket is never reopened (409)', async () => {
      const { id } = await ticketFor();
      now = new Date('2026-03-05T10:00:00Z');
      const resolved = await api.patch(`/tickets/${id}`, { status: 'resolved' });
      expect(resolved.body).toMatchObject({ status: 'resolved', resolvedAt: '2026-03-05T10:00:00.000Z', resolvedAutomatically: false, closedAt: null });
      now = new Date('2026-03-05T11:00:00Z');
      const closed = await api.patch(`/tickets/${id}`, { status: 'closed' });
      expect(closed.body).toMatchObject({ status: 'closed', resolvedAt: '2026-03-05T10:00:00.000Z', closedAt: '2026-03-05T11:00:00.000Z' });
      const reopen = await api.patch(`/tickets/${id}`, { status: 'in_progress' });
      expect(reopen.status).toBe(409);
      expect(reopen.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('closed') });
      expect((await t.db('tickets').where({ id }).first()).status).toBe('closed');
    });

    it('leaving waiting_customer for resolved also ends the pause', async () => {
      const { id } = await ticketFor({ status: 'in_progress' });
      now = new Date('2026-03-05T10:00:00Z');
      await api.patch(`/tickets/${id}`, { status: 'waiting_customer' });
      now = new Date('2026-03-05T10:30:00Z');
      const res = await api.patch(`/tickets/${id}`, { status: 'resolved' });
      expect(res.body).toMatchObject({ status: 'resolved', slaPausedAt: null });
      expect(res.body.slaPauses).toEqual([{ pausedAt: '2026-03-05T10:00:00.000Z', resumedAt: '2026-03-05T10:30:00.000Z' }]);
    });

    it('a resolved ticket goes back to work, unless a newer ticket is open for the same alert (409)', async () => {
      const a = await ticketFor({ status: 'resolved', resolved_at: new Date('2026-03-01T00:00:00Z'), dedup_key: 'same-key' });
      const back = await api.patch(`/tickets/${a.id}`, { status: 'in_progress' });
      expect(back.body).toMatchObject({ status: 'in_progress', resolvedAt: null });
      await api.patch(`/tickets/${a.id}`, { status: 'resolved' });
      const b = await ticketFor({ dedup_key: 'same-key' });
      const conflict = await api.patch(`/tickets/${a.id}`, { status: 'in_progress' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.message).toContain(`ticket ${b.id} is already open`);
    });

    it('the same status again changes nothing', async () => {
      const { id } = await ticketFor({ status: 'in_progress' });
      const before = await t.db('tickets').where({ id }).first();
      const res = await api.patch(`/tickets/${id}`, { status: 'in_progress' });
      expect(res.status).toBe(200);
      expect((await t.db('tickets').where({ id }).first()).updated_at).toEqual(before.updated_at);
    });

    it('refuses status "new", unknown keys and an empty body, naming the field', async () => {
      const { id } = await ticketFor();
      const asNew = await api.patch(`/tickets/${id}`, { status: 'new' });
      expect(asNew.status).toBe(400);
      expect(asNew.body.error.message).toMatch(/^body\.status: /);
      // priority became a field of PATCH with triage (R-TKT-1; without a reason it is a 422): an unknown key is still a 400.
      expect((await api.patch(`/tickets/${id}`, { status: 'resolved', colour: 'red' })).status).toBe(400);
      expect((await api.patch(`/tickets/${id}`, {})).status).toBe(400);
    });

    it('operators may change status; viewers may not (403); a scoped operator of another company gets 404', async () => {
      const { id } = await ticketFor();
      expect((await api.patch(`/tickets/${id}`, { status: 'in_progress' }, await tokenFor(t, 'viewer'))).status).toBe(403);
      expect((await api.patch(`/tickets/${id}`, { status: 'in_progress' }, await tokenFor(t, 'operator', [otherCompany]))).status).toBe(404);
      expect((await api.patch(`/tickets/${id}`, { status: 'in_progress' }, await tokenFor(t, 'operator', [String(w.company.id)]))).status).toBe(200);
    });
  });

  describe('time entries (R-LINK-6)', () => {
    it('R-LINK-6: labour on a ticket is booked on the ticket’s contract and service', async () => {
      const { id } = await ticketFor();
      const operator = await tokenFor(t, 'operator');
      const res = await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 1.5, costRate: '42.5', description: 'replaced disk' }, operator);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        ticketId: id,
        contractId: String(w.mailContract.id),
        contractName: 'Mail server contract',
        serviceId: String(w.serviceMail.id),
        serviceName: 'Mail server management',
        workDate: '2026-03-02',
        hours: 1.5,
        costRate: 42.5,
        description: 'replaced disk',
      });
      const row = await t.db('time_entries').where({ id: res.body.id }).first();
      expect(row).toMatchObject({ contract_id: String(w.mailContract.id), service_id: String(w.serviceMail.id), hours: '1.50', cost_rate: '42.5000' });
      await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-01', hours: '0.25' }, operator);
      const list = await api.get(`/tickets/${id}/time-entries`);
      expect(list.body.items.map((e: { workDate: string; hours: number; costRate: number | null }) => [e.workDate, e.hours, e.costRate])).toEqual([
        ['2026-03-01', 0.25, null],
        ['2026-03-02', 1.5, 42.5],
      ]);
      expect(await t.db('audit_log').where({ entity_type: 'time_entry', entity_id: res.body.id }).first()).toBeTruthy();
    });

    it('R-LINK-6: a ticket without a contract gets an entry without a contract', async () => {
      const { id } = await insertTicket(t.db, { company_id: w.company.id });
      const res = await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 2 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ contractId: null, serviceId: null });
    });

    it.each([
      [{ workDate: '2026-02-30', hours: 1 }, /^body\.workDate: /],
      [{ workDate: '2026-03-02', hours: 25 }, /^body\.hours: must be more than 0 and at most 24/],
      [{ workDate: '2026-03-02', hours: 0 }, /^body\.hours: /],
      [{ workDate: '2026-03-02', hours: 1.234 }, /^body\.hours: .*2 decimals/],
      [{ workDate: '2026-03-02', hours: 1, costRate: -3 }, /^body\.costRate/],
      [{ workDate: '2026-03-02', hours: 1, ticketId: '1' }, /ticketId/],
    ])('refuses %j naming the field', async (body, message) => {
      const { id } = await ticketFor();
      const res = await api.post(`/tickets/${id}/time-entries`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    });

    it('viewers cannot record time; a ticket out of scope is 404', async () => {
      const { id } = await ticketFor();
      expect((await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 1 }, await tokenFor(t, 'viewer'))).status).toBe(403);
      expect((await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 1 }, await tokenFor(t, 'operator', [otherCompany]))).status).toBe(404);
    });
  });

  describe('GET /alerts/:id', () => {
    it('returns the stored alert: normalized fields, raw payload, processing state, ticket and receipts', async () => {
      const source = await insertSource(t.db, 'datto');
      const ticket = await ticketFor();
      const { alertId, receiptIds } = await insertAlert(t.db, source, { ticketId: ticket.id, deliveries: 2 });
      const res = await api.get(`/alerts/${alertId}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: alertId,
        source: 'datto',
        state: 'firing',
        severity: 'high',
        title: 'Disk almost full',
        device: { id: 'DEV-1', hostname: 'mail01', site: 'site-1' },
        labels: { env: 'prod' },
        raw: { anything: [1, 2] },
        status: 'processed',
        outcome: 'ticket_created',
        ticketId: ticket.id,
        rulesetVersion: 3,
        receiptCount: 2,
      });
      expect(res.body.receipts.map((r: { id: string; outcome: string; ticketId: string }) => [r.id, r.outcome, r.ticketId])).toEqual([
        [receiptIds[0], 'ticket_created', ticket.id],
        [receiptIds[1], 'occurrence', ticket.id],
      ]);

      // Scope: the alert belongs to its ticket's company; one without a ticket only to unscoped tokens.
      expect((await api.get(`/alerts/${alertId}`, await tokenFor(t, 'viewer', [otherCompany]))).status).toBe(404);
      expect((await api.get(`/alerts/${alertId}`, await tokenFor(t, 'viewer', [String(w.company.id)]))).status).toBe(200);
      const suppressed = await insertAlert(t.db, source, { ticketId: null, outcome: 'suppressed', status: 'suppressed' });
      expect((await api.get(`/alerts/${suppressed.alertId}`, await tokenFor(t, 'viewer', [String(w.company.id)]))).status).toBe(404);
      expect((await api.get(`/alerts/${suppressed.alertId}`)).body).toMatchObject({ status: 'suppressed', outcome: 'suppressed', ticketId: null });
      expect((await api.get('/alerts/424242')).status).toBe(404);
    });
  });
});
