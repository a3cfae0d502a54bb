import request from 'supertest';
import { contractPgError } from '../../../db/queries/contract-errors';
import { createTestApp, type TestApp } from '../../helpers/app';
import { expectConforms } from '../admin/admin-helpers';
import { countRows, createContract, seedCompany, seedDevice, seedService, seedTicket } from './fixtures';

/** SPEC §4 over HTTP: POST /contracts/:id/renewal/preview and POST /contracts/:id/renewal. "Today" is 2025-06-15. */
describe('contract renewal', () => {
  let t: TestApp;
  let companyId: string;
  let serviceA: string;
  let serviceB: string;
  let slaId: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-06-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
    serviceA = await seedService(t.db, '10');
    serviceB = await seedService(t.db, '99.99');
    const [sla] = (await t.db('slas').insert({ name: `sla-${process.pid}`, timezone: 'Europe/Berlin' }).returning('id')) as Array<{ id: string }>;
    slaId = String(sla?.id);
  });
  afterAll(async () => t.close());

  const renew = (id: string, body: Record<string, unknown> = {}) => request(t.app).post(`/api/v1/contracts/${id}/renewal`).set('Authorization', t.admin).send(body);
  const preview = (id: string, body: Record<string, unknown> = {}) =>
    request(t.app).post(`/api/v1/contracts/${id}/renewal/preview`).set('Authorization', t.admin).send(body);
  const get = async (id: string, asOf?: string) =>
    (await request(t.app).get(`/api/v1/contracts/${id}`).query(asOf ? { asOf } : {}).set('Authorization', t.admin)).body as Record<string, unknown> & {
      services: Array<Record<string, unknown>>;
    };
  const links = async (deviceId: string) =>
    (await request(t.app).get(`/api/v1/devices/${deviceId}/links`).set('Authorization', t.admin)).body.items as Array<Record<string, unknown>>;

  describe('the seed examples verbatim', () => {
    it('R-REN-6: a quarterly contract covering February (1 Feb – 30 Apr) renewed from 1 May ends on 31 July, not 28 July', async () => {
      const c = await createContract(t, { companyId, periodType: 'quarterly', startDate: '2025-02-01', endDate: '2025-04-30' });
      const res = await renew(c.id, { startDate: '2025-05-01' });
      expect(res.status).toBe(201);
      expect(res.body.renewal).toMatchObject({ startDate: '2025-05-01', endDate: '2025-07-31', renewalOfId: c.id, periodType: 'quarterly' });
      expectConforms('post', `/api/v1/contracts/${c.id}/renewal`, res);
    });

    it('R-REN-8: price raised from 10 to 20 on 2 March, contract renewed as of 1 March: the renewal price is 20', async () => {
      const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', services: [{ serviceId: serviceA, units: 5, unitPrice: 10 }] });
      const adj = await request(t.app)
        .post(`/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`)
        .set('Authorization', t.admin)
        .send({ effectiveDate: '2025-03-02', unitPrice: 20 });
      expect(adj.status).toBe(201);
      const res = await renew(c.id, { startDate: '2025-03-01' });
      expect(res.status).toBe(201);
      expect(res.body.renewal.services).toEqual([expect.objectContaining({ serviceId: serviceA, units: 5, unitPrice: 20 })]);
      expect(res.body.proposal.services[0]).toMatchObject({ originalUnitPrice: 20, unitPrice: 20 });
    });
  });

  it('R-REN-1: only recurring service contracts can be renewed (409 CONTRACT_NOT_RENEWABLE)', async () => {
    for (const type of ['time_and_materials', 'block_hours']) {
      const c = await createContract(t, { companyId, type, startDate: '2025-01-01', endDate: '2025-03-31' });
      const res = await renew(c.id);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONTRACT_NOT_RENEWABLE');
      expect((await preview(c.id)).body.error.code).toBe('CONTRACT_NOT_RENEWABLE');
    }
  });

  it('R-REN-2: a contract is renewed once (409 CONTRACT_ALREADY_RENEWED); the renewal can be renewed in turn', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const first = await renew(c.id);
    expect(first.status).toBe(201);
    const again = await renew(c.id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CONTRACT_ALREADY_RENEWED');
    expect((await get(c.id)).renewedById).toBe(first.body.renewal.id);
    const chain = await renew(first.body.renewal.id);
    expect(chain.status).toBe(201);
    expect(chain.body.renewal).toMatchObject({ startDate: '2025-07-01', endDate: '2025-09-30', renewalOfId: first.body.renewal.id });
  });

  it('R-REN-2: two concurrent renewals — exactly one succeeds, the other is CONTRACT_ALREADY_RENEWED', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', services: [{ serviceId: serviceA, units: 1 }] });
    const results = await Promise.all([renew(c.id, { name: 'A' }), renew(c.id, { name: 'B' }), renew(c.id, { name: 'C' })]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('CONTRACT_ALREADY_RENEWED');
    expect(await t.db('contracts').where('renewal_of_id', c.id)).toHaveLength(1);
    expect(await t.db('contract_notes').where({ contract_id: c.id, kind: 'renewal' })).toHaveLength(1);
  });

  it('R-REN-2: when two renewals slip past the lock, UNIQUE (renewal_of_id) decides and maps to CONTRACT_ALREADY_RENEWED', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const row = { company_id: companyId, name: 'r', type: 'recurring_service', period_type: 'quarterly', start_date: '2025-04-01', end_date: '2025-06-30', renewal_of_id: c.id };
    await t.db('contracts').insert(row);
    const err: unknown = await t.db('contracts').insert(row).catch((e: unknown) => e);
    expect(contractPgError(err)).toMatchObject({ code: 'CONTRACT_ALREADY_RENEWED', status: 409 });
  });

  it('R-REN-3: every field is copied except the name ("Renewal of <old name>") and the dates; company and period type cannot change', async () => {
    const c = await createContract(t, {
      companyId,
      name: 'Server care',
      code: 'SC-1',
      description: 'all servers',
      startDate: '2025-01-01',
      endDate: '2025-03-31',
      slaId,
      integratedBilling: true,
      purchaseOrder: 'PO-77',
      contactName: 'Jane Doe',
      autoRenew: true,
      autoRenewDaysBefore: 10,
    });
    const bodyCompany = await renew(c.id, { companyId: await seedCompany(t.db) });
    expect(bodyCompany.status).toBe(400);
    expect(bodyCompany.body.error.message).toMatch(/^companyId:/);
    const bodyPeriod = await renew(c.id, { periodType: 'yearly' });
    expect(bodyPeriod.status).toBe(400);
    expect(bodyPeriod.body.error.message).toMatch(/^periodType:/);
    expect((await preview(c.id, { periodType: 'quarterly' })).status).toBe(400);

    const res = await renew(c.id);
    expect(res.status).toBe(201);
    expect(res.body.renewal).toMatchObject({
      name: 'Renewal of Server care',
      code: null,
      companyId,
      type: 'recurring_service',
      periodType: 'quarterly',
      description: 'all servers',
      slaId,
      integratedBilling: true,
      purchaseOrder: 'PO-77',
      contactName: 'Jane Doe',
      autoRenew: true,
      autoRenewDaysBefore: 10,
      status: 'active',
    });
    const named = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    expect((await renew(named.id, { name: 'FY25 Q2' })).body.renewal.name).toBe('FY25 Q2');
  });

  it('R-REN-4: the start defaults to the day after the end; it can be edited (earlier, later, in the past)', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    expect((await preview(c.id)).body.proposal.contract).toMatchObject({ startDate: '2025-04-01', endDate: '2025-06-30' });
    expect((await preview(c.id, { startDate: '2025-05-01' })).body.proposal.contract).toMatchObject({ startDate: '2025-05-01', endDate: '2025-07-31' });
    expect((await preview(c.id, { startDate: '2025-02-01' })).body.proposal.contract).toMatchObject({ startDate: '2025-02-01', endDate: '2025-04-30' });
    const tooEarly = await preview(c.id, { startDate: '2025-01-01' });
    expect(tooEarly.status).toBe(400);
    expect(tooEarly.body.error.message).toMatch(/^startDate:/);
    const endBefore = await renew(c.id, { startDate: '2025-04-01', endDate: '2025-03-31' });
    expect(endBefore.status).toBe(400);
    expect(endBefore.body.error.message).toMatch(/^endDate:/);
  });

  it('R-REN-5: an original still active on the start date ends the day before and is deactivated', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const res = await renew(c.id, { startDate: '2025-06-01' });
    expect(res.status).toBe(201);
    expect(res.body.original).toMatchObject({ endDate: '2025-05-31', status: 'inactive', renewedById: res.body.renewal.id });
    expect(res.body.application).toMatchObject({ effectiveDate: '2025-06-01', scheduled: false, deactivatesOriginal: true });
  });

  it('R-REN-5: an original that had already expired keeps its end date (and its status)', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const res = await renew(c.id, { startDate: '2025-05-01' });
    expect(res.body.original).toMatchObject({ endDate: '2025-03-31', status: 'active' });
    expect(res.body.application).toMatchObject({ deactivatesOriginal: false });
  });

  it('R-REN-7: price uplift for all services and bundles, then per-service edits; out-of-range uplifts refused', async () => {
    const c = await createContract(t, {
      companyId,
      startDate: '2025-01-01',
      endDate: '2025-03-31',
      services: [
        { serviceId: serviceA, units: 2, unitPrice: '10.10' },
        { serviceId: serviceB, units: 1, unitPrice: '99.99' },
      ],
    });
    const p = await preview(c.id, { priceUpliftPercent: 10 });
    expect(p.body.proposal.services.map((s: { unitPrice: number }) => s.unitPrice)).toEqual([11.11, 109.99]);
    const empty = await preview(c.id, { priceUpliftPercent: '' });
    expect(empty.body.proposal.services.map((s: { unitPrice: number }) => s.unitPrice)).toEqual([10.1, 99.99]);
    for (const bad of [1000.01, -1, '5%']) {
      const res = await preview(c.id, { priceUpliftPercent: bad });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^priceUpliftPercent:/);
    }
    const unknown = await preview(c.id, { unitPrices: { '999999': 5 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/^unitPrices\.999999:/);
    const res = await renew(c.id, { priceUpliftPercent: '1000.00', unitPrices: { [serviceB]: 50 } });
    expect(res.status).toBe(201);
    expect(res.body.renewal.services).toEqual([
      expect.objectContaining({ serviceId: serviceA, unitPrice: 111.1 }),
      expect.objectContaining({ serviceId: serviceB, unitPrice: 50 }),
    ]);
  });

  it('R-REN-8: units are those on the start date; prices the latest adjusted', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-06-30', services: [{ serviceId: serviceA, units: 5, unitPrice: 10 }] });
    const adjust = (body: Record<string, unknown>) =>
      request(t.app).post(`/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`).set('Authorization', t.admin).send(body);
    await adjust({ effectiveDate: '2025-03-01', units: 8 });
    await adjust({ effectiveDate: '2025-08-01', units: 12, unitPrice: 14 });
    const res = await renew(c.id);
    expect(res.body.renewal.services[0]).toMatchObject({ units: 8, unitPrice: 14 });
  });

  it('R-REN-9: a note on the original says it was renewed, and by which contract', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const res = await renew(c.id, { name: 'Next quarter' });
    const original = await get(c.id);
    expect(original.notes).toEqual([expect.objectContaining({ kind: 'renewal', body: `Renewed by contract ${res.body.renewal.id} Next quarter` })]);
  });

  it('R-REN-10: devices move to the renewal on its start date; the original links end the day before', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31', services: [{ serviceId: serviceA, units: 3 }] });
    const [d1, d2, d3, d4] = [await seedDevice(t.db, companyId), await seedDevice(t.db, companyId), await seedDevice(t.db, companyId), await seedDevice(t.db, companyId)];
    const link = (device: string, body: Record<string, unknown>) => request(t.app).put(`/api/v1/devices/${device}/contract`).set('Authorization', t.admin).send(body);
    await link(d1, { contractId: c.id, serviceId: serviceA, from: '2025-01-01' });
    await link(d2, { contractId: c.id, from: '2025-01-01', to: '2025-08-31' });
    await link(d3, { contractId: c.id, from: '2025-01-01', to: '2025-02-28' });
    await link(d4, { contractId: c.id, from: '2025-09-01' });

    const res = await renew(c.id, { startDate: '2025-06-01' });
    expect(res.status).toBe(201);
    const r = res.body.renewal.id as string;
    expect(res.body.deviceLinks).toEqual({ moved: 2, rescheduled: 1 });
    expect(await links(d1)).toEqual([
      expect.objectContaining({ contractId: c.id, serviceId: serviceA, from: '2025-01-01', to: '2025-05-31' }),
      expect.objectContaining({ contractId: r, serviceId: serviceA, from: '2025-06-01', to: null }),
    ]);
    // A link that was to end before the original's end keeps that end on the renewal.
    expect(await links(d2)).toEqual([
      expect.objectContaining({ contractId: c.id, to: '2025-05-31' }),
      expect.objectContaining({ contractId: r, from: '2025-06-01', to: '2025-08-31' }),
    ]);
    expect(await links(d3)).toEqual([expect.objectContaining({ contractId: c.id, from: '2025-01-01', to: '2025-02-28' })]);
    expect(await links(d4)).toEqual([expect.objectContaining({ contractId: r, from: '2025-09-01', to: null })]);
  });

  it('R-REN-11: billing rules are copied inactive, from the renewal’s start date, without an end date', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', services: [{ serviceId: serviceA, units: 1 }] });
    await request(t.app)
      .post(`/api/v1/contracts/${c.id}/billing-rules`)
      .set('Authorization', t.admin)
      .send({ name: 'Fee', serviceId: serviceA, amount: 120, startDate: '2025-01-01', endDate: '2025-03-31' });
    const res = await renew(c.id);
    const rules = await request(t.app).get(`/api/v1/contracts/${res.body.renewal.id}/billing-rules`).set('Authorization', t.admin);
    expect(rules.body.items).toEqual([
      expect.objectContaining({ name: 'Fee', serviceId: serviceA, amount: 120, active: false, startDate: '2025-04-01', endDate: null }),
    ]);
  });

  describe('R-REN-12: default service-desk contract', () => {
    it('R-REN-12: the renewal of the default contract is the default too', async () => {
      const co = await seedCompany(t.db);
      const c = await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-06-30', isDefaultServiceDesk: true });
      const res = await renew(c.id, { startDate: '2025-06-01' });
      expect(res.status).toBe(201);
      expect(res.body.renewal.isDefaultServiceDesk).toBe(true);
      expect(res.body.original).toMatchObject({ isDefaultServiceDesk: true, endDate: '2025-05-31' });
    });

    it('R-REN-12: another default on the renewal’s dates → 409 DEFAULT_CONTRACT_CHOICE_REQUIRED listing the candidates; nothing written', async () => {
      const co = await seedCompany(t.db);
      const c = await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-03-31', isDefaultServiceDesk: true });
      const other = await createContract(t, { companyId: co, name: 'Interim desk', startDate: '2025-05-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
      const p = await preview(c.id);
      expect(p.body.proposal.defaultServiceDesk).toMatchObject({ choiceRequired: true, conflicts: [expect.objectContaining({ id: other.id })] });
      const before = await countRows(t.db, ['contracts', 'contract_notes', 'audit_log']);
      const res = await renew(c.id);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('DEFAULT_CONTRACT_CHOICE_REQUIRED');
      expect(res.body.error.details.candidates).toEqual([
        expect.objectContaining({ choice: 'renewal', contract: expect.objectContaining({ startDate: '2025-04-01', endDate: '2025-06-30' }) }),
        expect.objectContaining({ choice: 'existing', contract: expect.objectContaining({ id: other.id, name: 'Interim desk' }) }),
      ]);
      expect(await countRows(t.db, ['contracts', 'contract_notes', 'audit_log'])).toEqual(before);
    });

    it('R-REN-12: choosing "existing" keeps the other default; choosing "renewal" moves the flag to the renewal', async () => {
      const co = await seedCompany(t.db);
      const c1 = await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-03-31', isDefaultServiceDesk: true });
      const o1 = await createContract(t, { companyId: co, startDate: '2025-05-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
      const kept = await renew(c1.id, { defaultContract: 'existing' });
      expect(kept.status).toBe(201);
      expect(kept.body.renewal.isDefaultServiceDesk).toBe(false);
      expect((await get(o1.id)).isDefaultServiceDesk).toBe(true);

      const co2 = await seedCompany(t.db);
      const c2 = await createContract(t, { companyId: co2, startDate: '2025-01-01', endDate: '2025-03-31', isDefaultServiceDesk: true });
      const o2 = await createContract(t, { companyId: co2, startDate: '2025-05-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
      const moved = await renew(c2.id, { defaultContract: 'renewal' });
      expect(moved.status).toBe(201);
      expect(moved.body.renewal.isDefaultServiceDesk).toBe(true);
      expect((await get(o2.id)).isDefaultServiceDesk).toBe(false);
    });

    it('R-REN-12: a contract that is not the default is renewed without asking, and the renewal is not the default', async () => {
      const co = await seedCompany(t.db);
      const c = await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-03-31' });
      await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
      const res = await renew(c.id);
      expect(res.status).toBe(201);
      expect(res.body.renewal.isDefaultServiceDesk).toBe(false);
    });
  });

  it('R-REN-13: with integrated billing the service mapping is copied; without it, not', async () => {
    const mapped = async (integratedBilling: boolean) => {
      const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', integratedBilling, services: [{ serviceId: serviceA, units: 1 }] });
      await request(t.app).post(`/api/v1/contracts/${c.id}/service-mappings`).set('Authorization', t.admin).send({ moduleBillingType: 'backup-gb', serviceId: serviceA });
      const r = await renew(c.id);
      return (await request(t.app).get(`/api/v1/contracts/${r.body.renewal.id}/service-mappings`).set('Authorization', t.admin)).body.items;
    };
    expect(await mapped(true)).toEqual([expect.objectContaining({ moduleBillingType: 'backup-gb', serviceId: serviceA })]);
    expect(await mapped(false)).toEqual([]);
  });

  it('R-REN-14: a back-dated renewal reports open tickets and projects, charges and time entries left behind', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const open = await seedTicket(t.db, { companyId, contractId: c.id, status: 'in_progress', title: 'printer jam' });
    await seedTicket(t.db, { companyId, contractId: c.id, status: 'closed' });
    await t.db('projects').insert([
      { company_id: companyId, contract_id: c.id, name: 'Migration', status: 'open' },
      { company_id: companyId, contract_id: c.id, name: 'Done', status: 'closed' },
    ]);
    await t.db('contract_charges').insert([
      { contract_id: c.id, charge_date: '2025-04-15', description: 'before', amount: '10' },
      { contract_id: c.id, charge_date: '2025-05-05', description: 'after', amount: '25.5' },
    ]);
    await t.db('time_entries').insert([
      { contract_id: c.id, work_date: '2025-03-01', hours: '1' },
      { contract_id: c.id, work_date: '2025-05-20', hours: '2.5' },
      { contract_id: c.id, work_date: '2025-06-10', hours: '1.25' },
    ]);

    const p = await preview(c.id, { startDate: '2025-05-01' });
    expect(p.status).toBe(200);
    expectConforms('post', `/api/v1/contracts/${c.id}/renewal/preview`, p);
    const res = await renew(c.id, { startDate: '2025-05-01' });
    expect(res.status).toBe(201);
    expectConforms('post', `/api/v1/contracts/${c.id}/renewal`, res);
    for (const report of [p.body.leftBehind, res.body.leftBehind]) {
      expect(report).toMatchObject({
        originalEndDate: '2025-04-30',
        openTickets: { count: 1, items: [{ id: open, title: 'printer jam', status: 'in_progress' }] },
        openProjects: { count: 1, items: [expect.objectContaining({ name: 'Migration' })] },
        chargesAfterEnd: { count: 1, items: [expect.objectContaining({ chargeDate: '2025-05-05', amount: 25.5 })] },
        timeEntriesAfterEnd: { count: 2, items: [expect.objectContaining({ workDate: '2025-05-20', hours: 2.5 }), expect.objectContaining({ workDate: '2025-06-10' })] },
      });
    }
    // They stay on the original.
    expect(await t.db('tickets').where('contract_id', c.id)).toHaveLength(2);
    expect(await t.db('time_entries').where('contract_id', c.id)).toHaveLength(3);
  });

  it('R-REN-15: the preview fills in every default and writes nothing', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', services: [{ serviceId: serviceA, units: 4 }] });
    const device = await seedDevice(t.db, companyId);
    await request(t.app).put(`/api/v1/devices/${device}/contract`).set('Authorization', t.admin).send({ contractId: c.id, from: '2025-01-01' });
    const tables = ['contracts', 'contract_services', 'contract_bundles', 'billing_rules', 'service_mappings', 'contract_notes', 'device_contract_links', 'renewal_applications', 'audit_log'];
    const before = await countRows(t.db, tables);
    const contractBefore = await t.db('contracts').where('id', c.id).first();
    const res = await preview(c.id, { priceUpliftPercent: 5 });
    expect(res.status).toBe(200);
    expect(res.body.proposal).toMatchObject({
      contract: { name: `Renewal of ${String(c.name)}`, startDate: '2025-04-01', endDate: '2025-06-30', companyId, periodType: 'quarterly' },
      services: [expect.objectContaining({ serviceId: serviceA, units: 4, originalUnitPrice: 10, unitPrice: 10.5 })],
      original: { endsEarly: false, newEndDate: '2025-03-31' },
      deviceLinks: { moveOn: '2025-04-01', originalLinksEndOn: '2025-03-31' },
      schedule: { effectiveDate: '2025-04-01', scheduled: false },
    });
    expect(await countRows(t.db, tables)).toEqual(before);
    expect(await t.db('contracts').where('id', c.id).first()).toEqual(contractBefore);
  });

  it('R-REN-15: a renewal dated in the future is scheduled: dated links and end date now, deactivation on the date', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const device = await seedDevice(t.db, companyId);
    await request(t.app).put(`/api/v1/devices/${device}/contract`).set('Authorization', t.admin).send({ contractId: c.id, from: '2025-01-01' });
    const res = await renew(c.id, { startDate: '2025-09-01' });
    expect(res.status).toBe(201);
    expect(res.body.application).toMatchObject({ effectiveDate: '2025-09-01', scheduled: true, appliedAt: null, deactivatesOriginal: true });
    expect(res.body.original).toMatchObject({ status: 'active', endDate: '2025-08-31' });
    expect((await links(device)).map((l) => [l.contractId, l.from, l.to])).toEqual([
      [c.id, '2025-01-01', '2025-08-31'],
      [res.body.renewal.id, '2025-09-01', null],
    ]);
    expect(await t.db('audit_log').where({ action: 'contract.renew', entity_id: res.body.renewal.id })).toHaveLength(1);
  });

  it('renews a contract with 10,000 devices and 200 services set-based: the statements do not grow with the devices', async () => {
    const co = await seedCompany(t.db);
    const serviceIds = (
      (await t.db.raw(`INSERT INTO services (name, unit_price) SELECT 'perf-' || g || '-' || ?::text, 5 FROM generate_series(1, 200) g RETURNING id`, [co])) as {
        rows: Array<{ id: string }>;
      }
    ).rows.map((r) => String(r.id));
    const bigContract = async (n: number, devices: number) => {
      const c = await createContract(t, {
        companyId: co,
        startDate: '2025-01-01',
        endDate: '2025-12-31',
        services: serviceIds.map((serviceId) => ({ serviceId, units: 50 })),
      });
      await t.db.raw(
        `WITH d AS (INSERT INTO devices (company_id, hostname) SELECT ?, 'perf-' || ?::text || '-host-' || g FROM generate_series(1, ?::int) g RETURNING id)
         INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from) SELECT id, ?, ?, '2025-01-01' FROM d`,
        [co, String(n), devices, c.id, serviceIds[0] ?? null],
      );
      return c.id;
    };
    // The proof is the number of statements the renewal sends (the app under test shares this knex
    // instance), not a time: a query per device would send thousands more for 10,000 devices than for 10.
    // Speed itself is measured by `npm run bench` (renewal section), never by a timed test.
    const statementsFor = async (n: number, devices: number) => {
      const id = await bigContract(n, devices);
      let statements = 0;
      const onQuery = () => {
        statements += 1;
      };
      t.db.on('query', onQuery);
      let res;
      try {
        res = await renew(id, { startDate: '2025-07-01', priceUpliftPercent: 3 });
      } finally {
        t.db.off('query', onQuery);
      }
      expect(res.status).toBe(201);
      expect(res.body.deviceLinks.moved).toBe(devices);
      expect(res.body.renewal.services).toHaveLength(200);
      const moved = await t.db('device_contract_links').where({ contract_id: res.body.renewal.id, valid_from: '2025-07-01' }).count<{ count: string }[]>({ count: '*' });
      expect(Number(moved[0]?.count)).toBe(devices);
      return statements;
    };
    const small = await statementsFor(1, 10);
    const big = await statementsFor(2, 10000);
    expect(big).toBe(small);
    expect(big).toBeLessThan(1000);
  }, 60_000);
});
