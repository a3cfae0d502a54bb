import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { insertCompany, insertTicket } from './operator-fixtures';

/**
 * R-TKT-1 (SPEC §9 "working a ticket"): PATCH /tickets/:id triages a ticket — company, device,
 * contract, service, priority, assignee, queue — validated, audited with its reason, the SLA and due
 * dates following the contract (from the ticket's creation, keeping paused time), booked labour
 * following it (R-LINK-6), optionally the device linked to it (R-LINK-8); and
 * GET /tickets/:id/options lists exactly what PATCH accepts. Over HTTP on the real Postgres.
 */
describe('R-TKT-1: triage and working a ticket', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let other: string;
  let otherContract: string;
  let otherDevice: string;
  let expiredContract: string;
  const created = new Date('2026-03-02T08:00:00Z');
  let now = new Date('2026-03-02T08:10:00Z');

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => now } });
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    other = await insertCompany(t.db, 'Other Ltd');
    otherContract = String(
      (await insertRow(t.db, 'contracts', { company_id: other, name: 'Other contract', type: 'recurring_service', period_type: 'yearly', start_date: '2026-01-01', end_date: '2026-12-31' })).id,
    );
    otherDevice = String((await insertRow(t.db, 'devices', { company_id: other, hostname: 'other01' })).id);
    expiredContract = String(
      (
        await insertRow(t.db, 'contracts', {
          company_id: w.company.id,
          name: 'Old mail contract',
          type: 'recurring_service',
          period_type: 'yearly',
          start_date: '2025-01-01',
          end_date: '2025-12-31',
          sla_id: w.sla24x7.id,
        })
      ).id,
    );
    await t.db('contract_services').insert({ contract_id: expiredContract, service_id: w.serviceMail.id, units: 1, unit_price: '100.00' });
  });
  afterAll(async () => t.close());

  /** A ticket the pipeline left for triage: company and device known, no contract. */
  const triageTicket = (over: Record<string, unknown> = {}) =>
    insertTicket(t.db, { company_id: w.company.id, device_id: w.mailServer.id, needs_triage: true, created_at: created, first_occurred_at: created, ...over });

  it('R-TKT-1, R-LINK-4, R-LINK-6: a contract leaves triage; SLA and due dates follow it from the ticket’s creation; booked labour moves with it; audited with the reason', async () => {
    const { id } = await triageTicket();
    const booked = await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 1.5 });
    expect(booked.body).toMatchObject({ contractId: null, serviceId: null });

    const res = await api.patch(`/tickets/${id}`, { contractId: String(w.mailContract.id), serviceId: String(w.serviceMail.id), reason: 'mail server is covered' });
    expect(res.status).toBe(200);
    // Premium 24x7, priority high: 30 / 120 / 480 minutes from 08:00.
    expect(res.body).toMatchObject({
      contractId: String(w.mailContract.id),
      serviceId: String(w.serviceMail.id),
      slaId: String(w.sla24x7.id),
      needsTriage: false,
      triage: false,
      firstResponseDueAt: '2026-03-02T08:30:00.000Z',
      resolutionPlanDueAt: '2026-03-02T10:00:00.000Z',
      resolutionDueAt: '2026-03-02T16:00:00.000Z',
      sla: { state: 'onTrack', responseDueAt: '2026-03-02T08:30:00.000Z', resolutionDueAt: '2026-03-02T16:00:00.000Z', firstResponseAt: null, breaches: [] },
    });
    expect(res.body.notes.map((n: { kind: string; body: string }) => [n.kind, n.body])).toContainEqual([
      'triage',
      `contractId — → ${w.mailContract.id}; serviceId — → ${w.serviceMail.id}: mail server is covered`,
    ]);

    const entries = await api.get(`/tickets/${id}/time-entries`);
    expect(entries.body.items).toEqual([expect.objectContaining({ id: booked.body.id, contractId: String(w.mailContract.id), serviceId: String(w.serviceMail.id), contractName: 'Mail server contract' })]);

    const audit = await t.db('audit_log').where({ entity_type: 'ticket', entity_id: id, action: 'ticket.triage' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: expect.any(String) });
    expect(audit[0].before).toMatchObject({ contractId: null, serviceId: null, slaId: null, needsTriage: true, resolutionDueAt: null });
    expect(audit[0].after).toMatchObject({
      contractId: String(w.mailContract.id),
      slaId: String(w.sla24x7.id),
      needsTriage: false,
      reason: 'mail server is covered',
      changed: ['contractId', 'serviceId'],
      movedTimeEntries: 1,
    });

    const listed = await api.get('/tickets?triage=true');
    expect(listed.body.items.map((x: { id: string }) => x.id)).not.toContain(id);
  });

  it('R-TKT-1: a new priority recomputes the due dates from the creation, keeping the time spent paused', async () => {
    const { id } = await triageTicket({ contract_id: w.mailContract.id, service_id: w.serviceMail.id, sla_id: w.sla24x7.id, needs_triage: false });
    // Waiting for the customer 08:05–09:05 (60 minutes of a 24x7 calendar).
    now = new Date('2026-03-02T08:05:00Z');
    expect((await api.patch(`/tickets/${id}`, { status: 'waiting_customer' })).status).toBe(200);
    now = new Date('2026-03-02T09:05:00Z');
    expect((await api.patch(`/tickets/${id}`, { status: 'in_progress' })).status).toBe(200);

    const res = await api.patch(`/tickets/${id}`, { priority: 'critical', reason: 'CEO cannot send mail' });
    expect(res.status).toBe(200);
    // critical: 15 / 60 / 240 minutes from 08:00, each + the 60 paused minutes.
    expect(res.body).toMatchObject({
      priority: 'critical',
      firstResponseDueAt: '2026-03-02T09:15:00.000Z',
      resolutionPlanDueAt: '2026-03-02T10:00:00.000Z',
      resolutionDueAt: '2026-03-02T13:00:00.000Z',
    });
    now = new Date('2026-03-02T08:10:00Z');
  });

  it('R-TKT-1: moving to another contract takes its SLA (office hours) and keeps the service only if the new contract has it', async () => {
    const { id } = await triageTicket({ contract_id: w.mailContract.id, service_id: w.serviceMail.id, sla_id: w.sla24x7.id, needs_triage: false });
    const res = await api.patch(`/tickets/${id}`, { contractId: String(w.defaultContract.id), reason: 'not the mail service' });
    expect(res.status).toBe(200);
    // Standard (Mon–Fri 08:00–17:00 Berlin = 07:00–16:00 UTC in March), high: 120 / 480 / 1440 business minutes from
    // Mon 08:00 UTC: 10:00; Mon 16:00 (the 480 minutes left that day); Mon 480 + Tue 540 + Wed 420 = Wed 14:00.
    expect(res.body).toMatchObject({
      contractId: String(w.defaultContract.id),
      serviceId: null,
      slaId: String(w.slaOffice.id),
      firstResponseDueAt: '2026-03-02T10:00:00.000Z',
      resolutionPlanDueAt: '2026-03-02T16:00:00.000Z',
      resolutionDueAt: '2026-03-04T14:00:00.000Z',
    });
    const back = await api.patch(`/tickets/${id}`, { contractId: null, reason: 'wrong company contract after all' });
    expect(back.body).toMatchObject({ contractId: null, slaId: null, needsTriage: true, triage: true, firstResponseDueAt: null, resolutionDueAt: null, sla: { state: 'none' } });
  });

  it('R-TKT-1: assignee and queue need no reason; company, device, contract, service and priority do (422 naming reason)', async () => {
    const { id } = await triageTicket();
    const work = await api.patch(`/tickets/${id}`, { assignee: 'alice', queue: 'Level 2' });
    expect(work.status).toBe(200);
    expect(work.body).toMatchObject({ assignee: 'alice', queue: 'Level 2' });
    for (const body of [
      { priority: 'low' },
      { contractId: String(w.mailContract.id) },
      { deviceId: String(w.printer.id) },
      { companyId: other },
      { priority: 'low', reason: '   ' },
    ]) {
      const res = await api.patch(`/tickets/${id}`, body);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'UNPROCESSABLE', details: [{ field: 'reason' }] });
    }
    // Setting what the ticket already has is no change and needs no reason.
    expect((await api.patch(`/tickets/${id}`, { priority: 'high' })).status).toBe(200);
  });

  it.each([
    ['a contract of another company', () => ({ contractId: otherContract }), 'contractId', /belongs to company/],
    ['a contract not effective on the ticket’s date', () => ({ contractId: expiredContract }), 'contractId', /not effective on the ticket's date 2026-03-02/],
    ['a contract that does not exist', () => ({ contractId: '99999999' }), 'contractId', /does not exist/],
    ['a service not on the contract', () => ({ contractId: String(w.mailContract.id), serviceId: String(w.servicePrint.id) }), 'serviceId', /not on contract/],
    ['a service without a contract', () => ({ serviceId: String(w.serviceMail.id) }), 'serviceId', /needs a contract/],
    ['a device of another company', () => ({ deviceId: otherDevice }), 'deviceId', /belongs to company/],
    ['a company that does not exist', () => ({ companyId: '99999999' }), 'companyId', /does not exist/],
    ['linking without a contract', () => ({ linkDevice: { from: '2026-03-10' } }), 'linkDevice', /no contract/],
  ])('R-TKT-1: refuses %s with 422 naming the field, and changes nothing', async (_name, body, field, message) => {
    const { id } = await triageTicket();
    const res = await api.patch(`/tickets/${id}`, { ...body(), reason: 'test' });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field })]);
    expect(res.body.error.message).toMatch(message);
    const after = await api.get(`/tickets/${id}`);
    expect(after.body).toMatchObject({ contractId: null, serviceId: null, deviceId: String(w.mailServer.id), companyId: String(w.company.id), needsTriage: true });
    expect(await t.db('audit_log').where({ entity_type: 'ticket', entity_id: id })).toHaveLength(0);
  });

  it('R-TKT-1: a new company clears the device, contract and service it does not name; the device must be of that company', async () => {
    const { id } = await triageTicket({ contract_id: w.mailContract.id, service_id: w.serviceMail.id, sla_id: w.sla24x7.id, needs_triage: false });
    const res = await api.patch(`/tickets/${id}`, { companyId: other, deviceId: otherDevice, contractId: otherContract, reason: 'belongs to Other Ltd' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ companyId: other, deviceId: otherDevice, contractId: otherContract, serviceId: null, slaId: null, needsTriage: false });
    const moved = await api.patch(`/tickets/${id}`, { companyId: String(w.company.id), reason: 'back again' });
    expect(moved.body).toMatchObject({ companyId: String(w.company.id), deviceId: null, contractId: null, needsTriage: true });
  });

  it('R-TKT-1, R-LINK-8: linkDevice also links the ticket’s device to the new contract and service from that day', async () => {
    const { id } = await triageTicket({ device_id: w.printer.id });
    const res = await api.patch(`/tickets/${id}`, {
      contractId: String(w.mailContract.id),
      serviceId: String(w.serviceMail.id),
      reason: 'the printer relays mail now',
      linkDevice: { from: '2026-03-10' },
    });
    expect(res.status).toBe(200);
    const device = await api.get(`/devices/${w.printer.id}`);
    expect(device.body.links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ contractId: String(w.printerContract.id), from: '2026-01-01', to: '2026-03-09' }),
        expect.objectContaining({ contractId: String(w.mailContract.id), serviceId: String(w.serviceMail.id), from: '2026-03-10', to: null }),
      ]),
    );
    expect(await t.db('audit_log').where({ entity_type: 'device', entity_id: String(w.printer.id), action: 'device.link' })).toHaveLength(1);
    const audit = await t.db('audit_log').where({ entity_type: 'ticket', entity_id: id, action: 'ticket.triage' }).first();
    expect(audit.after.deviceLink).toMatchObject({ contract_id: String(w.mailContract.id), valid_from: '2026-03-10' });
    // The same link again is no change; a link into the ticket's past ending the current one is refused by the link use case.
    const again = await api.patch(`/tickets/${id}`, { linkDevice: { from: '2026-03-10' } });
    expect(again.status).toBe(200);
  });

  it('R-TKT-2: leaving new is the first response; a note marked as the response is one too', async () => {
    const a = await triageTicket();
    now = new Date('2026-03-02T08:20:00Z');
    const started = await api.patch(`/tickets/${a.id}`, { status: 'in_progress' });
    expect(started.body.sla.firstResponseAt).toBe('2026-03-02T08:20:00.000Z');
    now = new Date('2026-03-02T08:40:00Z');
    await api.patch(`/tickets/${a.id}`, { status: 'waiting_customer' });
    expect((await api.get(`/tickets/${a.id}`)).body.sla.firstResponseAt).toBe('2026-03-02T08:20:00.000Z');

    const b = await triageTicket();
    now = new Date('2026-03-02T08:25:00Z');
    const plain = await api.patch(`/tickets/${b.id}`, { note: 'looking into it (internal)' });
    expect(plain.body.sla.firstResponseAt).toBeNull();
    now = new Date('2026-03-02T08:26:00Z');
    const answered = await api.patch(`/tickets/${b.id}`, { note: 'We are on it.', noteIsResponse: true });
    expect(answered.body.status).toBe('new');
    expect(answered.body.sla.firstResponseAt).toBe('2026-03-02T08:26:00.000Z');
    expect(answered.body.notes.at(-1)).toMatchObject({ kind: 'response', body: 'We are on it.' });
    expect((await api.patch(`/tickets/${b.id}`, { noteIsResponse: true })).status).toBe(400);
    now = new Date('2026-03-02T08:10:00Z');
  });

  it('company scope: another company’s ticket is 404; a scoped operator cannot move a ticket to a company outside its scope', async () => {
    const { id } = await triageTicket();
    const otherOperator = await tokenFor(t, 'operator', [other]);
    expect((await api.patch(`/tickets/${id}`, { assignee: 'mallory' }, otherOperator)).status).toBe(404);
    expect((await api.get(`/tickets/${id}/options`, otherOperator)).status).toBe(404);
    const ownOperator = await tokenFor(t, 'operator', [String(w.company.id)]);
    const out = await api.patch(`/tickets/${id}`, { companyId: other, reason: 'x' }, ownOperator);
    expect(out.status).toBe(422);
    expect(out.body.error.details).toEqual([expect.objectContaining({ field: 'companyId' })]);
    const viewer = await tokenFor(t, 'viewer');
    expect((await api.patch(`/tickets/${id}`, { assignee: 'v' }, viewer)).status).toBe(403);
  });

  it('R-TKT-1, R-LINK-6: concurrent triage of one ticket is serialized (row lock): its labour always ends on the contract it ends on', async () => {
    for (let round = 0; round < 3; round++) {
      const { id } = await triageTicket();
      for (let i = 0; i < 3; i++) await api.post(`/tickets/${id}/time-entries`, { workDate: '2026-03-02', hours: 1 });
      const [a, b] = await Promise.all([
        api.patch(`/tickets/${id}`, { contractId: String(w.mailContract.id), serviceId: String(w.serviceMail.id), reason: 'a' }),
        api.patch(`/tickets/${id}`, { contractId: String(w.defaultContract.id), serviceId: String(w.serviceDesk.id), reason: 'b' }),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const final = (await api.get(`/tickets/${id}`)).body as { contractId: string; serviceId: string };
      const entries = (await api.get(`/tickets/${id}/time-entries`)).body.items as Array<{ contractId: string; serviceId: string }>;
      expect(entries).toHaveLength(3);
      for (const e of entries) expect([e.contractId, e.serviceId]).toEqual([final.contractId, final.serviceId]);
      expect(await t.db('audit_log').where({ entity_type: 'ticket', entity_id: id, action: 'ticket.triage' })).toHaveLength(2);
    }
  });

  describe('GET /tickets/:id/options', () => {
    it('R-TKT-1: companies in scope, the company’s devices, its contracts effective on the ticket’s date with their services', async () => {
      const { id } = await triageTicket();
      const res = await api.get(`/tickets/${id}/options`);
      expect(res.status).toBe(200);
      expect(res.body.date).toBe('2026-03-02');
      expect(res.body.companies).toEqual([
        { id: String(w.company.id), name: 'ACME GmbH' },
        { id: other, name: 'Other Ltd' },
      ]);
      expect(res.body.devices).toEqual([
        { id: String(w.mailServer.id), name: 'mail01' },
        { id: String(w.printer.id), name: 'printer-3og' },
      ]);
      expect(res.body.contracts).toEqual([
        { id: String(w.mailContract.id), name: 'Mail server contract', services: [{ id: String(w.serviceMail.id), name: 'Mail server management' }] },
        { id: String(w.printerContract.id), name: 'Printer contract', services: [{ id: String(w.servicePrint.id), name: 'Printer care' }] },
        { id: String(w.defaultContract.id), name: 'Service desk contract', services: [{ id: String(w.serviceDesk.id), name: 'Service desk' }] },
      ]);
      // Not the expired contract (not effective on 2026-03-02).
      expect(res.body.contracts.map((c: { id: string }) => c.id)).not.toContain(expiredContract);
    });

    it('companyId= lists that company’s devices and contracts; deviceId= names the device’s company only; a mismatch is 422', async () => {
      const { id } = await triageTicket();
      const ofOther = await api.get(`/tickets/${id}/options?companyId=${other}`);
      expect(ofOther.body.devices).toEqual([{ id: otherDevice, name: 'other01' }]);
      expect(ofOther.body.contracts).toEqual([{ id: otherContract, name: 'Other contract', services: [] }]);
      const byDevice = await api.get(`/tickets/${id}/options?deviceId=${otherDevice}`);
      expect(byDevice.body.companies).toEqual([{ id: other, name: 'Other Ltd' }]);
      expect(byDevice.body.contracts.map((c: { id: string }) => c.id)).toEqual([otherContract]);
      const mismatch = await api.get(`/tickets/${id}/options?deviceId=${otherDevice}&companyId=${w.company.id}`);
      expect(mismatch.status).toBe(422);
    });

    it('company scope: a scoped token sees only its companies and cannot ask for another company’s devices', async () => {
      const { id } = await triageTicket();
      const scoped = await tokenFor(t, 'viewer', [String(w.company.id)]);
      const res = await api.get(`/tickets/${id}/options`, scoped);
      expect(res.body.companies).toEqual([{ id: String(w.company.id), name: 'ACME GmbH' }]);
      expect((await api.get(`/tickets/${id}/options?companyId=${other}`, scoped)).status).toBe(422);
      expect((await api.get(`/tickets/${id}/options?deviceId=${otherDevice}`, scoped)).status).toBe(422);
    });

    it('every choice it lists is accepted by PATCH', async () => {
      const { id } = await triageTicket();
      const o = (await api.get(`/tickets/${id}/options`)).body as { contracts: Array<{ id: string; services: Array<{ id: string }> }> };
      for (const c of o.contracts) {
        for (const s of c.services) {
          const res = await api.patch(`/tickets/${id}`, { contractId: c.id, serviceId: s.id, reason: 'option check' });
          expect(res.status).toBe(200);
        }
      }
    });
  });
});
