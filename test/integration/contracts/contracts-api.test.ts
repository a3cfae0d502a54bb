import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { expectConforms } from '../admin/admin-helpers';
import { createContract, scopedToken, seedBundle, seedCompany, seedService } from './fixtures';

/** SPEC §8 contracts API: create, get as of a date, list, update, lines, adjustments and the rest. */
describe('contracts API', () => {
  let t: TestApp;
  let companyId: string;
  let otherCompanyId: string;
  let serviceA: string;
  let serviceB: string;
  let bundle: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-03-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
    otherCompanyId = await seedCompany(t.db);
    serviceA = await seedService(t.db, '10');
    serviceB = await seedService(t.db, '7.5');
    bundle = await seedBundle(t.db, '40', [serviceA]);
  });
  afterAll(async () => t.close());

  const api = () => request(t.app);

  it('creates a contract with services and bundles; prices default to the catalogue; money is answered as numbers', async () => {
    const res = await api()
      .post('/api/v1/contracts')
      .set('Authorization', t.admin)
      .send({
        companyId,
        name: 'Managed desktops',
        type: 'recurring_service',
        periodType: 'monthly',
        startDate: '2025-01-01',
        endDate: '2025-12-31',
        services: [
          { serviceId: serviceA, units: 5, unitPrice: '12.50' },
          { serviceId: Number(serviceB), units: '2.5' },
        ],
        serviceBundles: [{ bundleId: bundle, units: 1, unitPrice: 39.9 }],
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      companyId,
      name: 'Managed desktops',
      status: 'active',
      startDate: '2025-01-01',
      endDate: '2025-12-31',
      isDefaultServiceDesk: false,
      renewalOfId: null,
      renewedById: null,
      asOf: '2025-03-15',
    });
    expect(res.body.services).toEqual([
      expect.objectContaining({ serviceId: serviceA, units: 5, unitPrice: 12.5 }),
      expect.objectContaining({ serviceId: serviceB, units: 2.5, unitPrice: 7.5 }),
    ]);
    expect(res.body.serviceBundles).toEqual([expect.objectContaining({ bundleId: bundle, units: 1, unitPrice: 39.9 })]);
    expectConforms('post', '/api/v1/contracts', res);
    expectConforms('get', `/api/v1/contracts/${res.body.id}`, await api().get(`/api/v1/contracts/${res.body.id}`).set('Authorization', t.admin));
    const audit = await t.db('audit_log').where({ entity_type: 'contract', entity_id: res.body.id, action: 'create' });
    expect(audit).toHaveLength(1);
  });

  it.each([
    [{ endDate: '2024-12-31' }, 'body.endDate'],
    [{ type: 'subscription' }, 'body.type'],
    [{ startDate: '2025-02-30' }, 'body.startDate'],
    [{ services: [{ serviceId: '1', units: -1 }] }, 'body.services.0.units'],
    [{ services: [{ serviceId: '1', units: 1, unitPrice: '1.23456' }] }, 'body.services.0.unitPrice'],
    [{ colour: 'red' }, 'body'],
  ])('refuses an invalid body %j naming %s', async (patch, field) => {
    const res = await api()
      .post('/api/v1/contracts')
      .set('Authorization', t.admin)
      .send({ companyId, name: 'x', type: 'recurring_service', periodType: 'monthly', startDate: '2025-01-01', endDate: '2025-12-31', ...patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.error)).toContain(field);
  });

  it('an unknown company is a 400 naming companyId (foreign key); an unknown service names its entry', async () => {
    const base = { name: 'x', type: 'recurring_service', periodType: 'monthly', startDate: '2025-01-01', endDate: '2025-12-31' };
    const noCompany = await api().post('/api/v1/contracts').set('Authorization', t.admin).send({ ...base, companyId: '999999' });
    expect(noCompany.status).toBe(400);
    expect(noCompany.body.error.message).toMatch(/^companyId:/);
    const noService = await api()
      .post('/api/v1/contracts')
      .set('Authorization', t.admin)
      .send({ ...base, companyId, services: [{ serviceId: '999999', units: 1 }] });
    expect(noService.status).toBe(400);
    expect(noService.body.error.message).toMatch(/^services\.0\.serviceId:/);
  });

  it('a duplicate code is a 409 naming code (unique violation)', async () => {
    await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31', code: 'C-DUP' });
    const res = await api()
      .post('/api/v1/contracts')
      .set('Authorization', t.admin)
      .send({ companyId, name: 'dup', type: 'recurring_service', periodType: 'quarterly', startDate: '2025-01-01', endDate: '2025-03-31', code: 'C-DUP' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'DUPLICATE', message: expect.stringMatching(/^code:/) });
  });

  it('R-LINK-4: two default service-desk contracts of a company may not overlap (409 naming isDefaultServiceDesk)', async () => {
    const co = await seedCompany(t.db);
    await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-06-30', isDefaultServiceDesk: true });
    const res = await api()
      .post('/api/v1/contracts')
      .set('Authorization', t.admin)
      .send({ companyId: co, name: 'second', type: 'recurring_service', periodType: 'monthly', startDate: '2025-06-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/^isDefaultServiceDesk:/);
    const after = await createContract(t, { companyId: co, startDate: '2025-07-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
    expect(after.isDefaultServiceDesk).toBe(true);
  });

  it('GET shows units and prices as of a date (default today); adjustments are dated; the latest adjusted price is shown too', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31', services: [{ serviceId: serviceA, units: 5, unitPrice: 10 }] });
    const adj = await api()
      .post(`/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`)
      .set('Authorization', t.admin)
      .send({ effectiveDate: '2025-04-01', units: 8, unitPrice: '11.25' });
    expect(adj.status).toBe(201);
    expect(adj.body.adjustment).toMatchObject({ effectiveDate: '2025-04-01', units: 8, unitPrice: 11.25 });
    expect(adj.body.service).toMatchObject({ units: 8, unitPrice: 11.25 });
    expectConforms('post', `/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`, adj);
    await api().post(`/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`).set('Authorization', t.admin).send({ effectiveDate: '2025-06-01', units: 9 });

    const today = await api().get(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin);
    expect(today.status).toBe(200);
    expect(today.body.asOf).toBe('2025-03-15');
    expect(today.body.services[0]).toMatchObject({ units: 5, unitPrice: 10, baseUnits: 5, latestUnitPrice: 11.25 });
    const may = await api().get(`/api/v1/contracts/${c.id}?asOf=2025-05-01`).set('Authorization', t.admin);
    expect(may.body.services[0]).toMatchObject({ units: 8, unitPrice: 11.25 });
    const july = await api().get(`/api/v1/contracts/${c.id}`).query({ asOf: '2025-07-01' }).set('Authorization', t.admin);
    expect(july.body.services[0]).toMatchObject({ units: 9, unitPrice: 11.25 });
    expect(july.body.services[0].adjustments).toHaveLength(2);

    const empty = await api().post(`/api/v1/contracts/${c.id}/services/${serviceA}/adjustments`).set('Authorization', t.admin).send({ effectiveDate: '2025-04-01' });
    expect(empty.status).toBe(400);
    const badAsOf = await api().get(`/api/v1/contracts/${c.id}?asOf=tomorrow`).set('Authorization', t.admin);
    expect(badAsOf.status).toBe(400);
  });

  it('adds, updates and removes services and bundles; a service twice is a 409', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const add = await api().post(`/api/v1/contracts/${c.id}/services`).set('Authorization', t.admin).send({ serviceId: serviceB, units: 3 });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ serviceId: serviceB, units: 3, unitPrice: 7.5 });
    const again = await api().post(`/api/v1/contracts/${c.id}/services`).set('Authorization', t.admin).send({ serviceId: serviceB, units: 3 });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/^serviceId:/);
    const patch = await api().patch(`/api/v1/contracts/${c.id}/services/${serviceB}`).set('Authorization', t.admin).send({ unitPrice: 8 });
    expect(patch.body).toMatchObject({ units: 3, unitPrice: 8 });
    const bundleAdd = await api().post(`/api/v1/contracts/${c.id}/service-bundles`).set('Authorization', t.admin).send({ bundleId: bundle, units: 2 });
    expect(bundleAdd.status).toBe(201);
    const bundleAdj = await api()
      .post(`/api/v1/contracts/${c.id}/service-bundles/${bundle}/adjustments`)
      .set('Authorization', t.admin)
      .send({ effectiveDate: '2025-02-01', unitPrice: 45 });
    expect(bundleAdj.status).toBe(201);
    expect(bundleAdj.body.serviceBundle).toMatchObject({ bundleId: bundle, units: 2, unitPrice: 45 });
    const list = await api().get(`/api/v1/contracts/${c.id}/service-bundles`).set('Authorization', t.admin);
    expect(list.body.items).toEqual([expect.objectContaining({ bundleId: bundle, unitPrice: 45 })]);
    expect((await api().delete(`/api/v1/contracts/${c.id}/services/${serviceB}`).set('Authorization', t.admin)).status).toBe(204);
    expect((await api().get(`/api/v1/contracts/${c.id}/services`).set('Authorization', t.admin)).body.items).toEqual([]);
    expect((await api().delete(`/api/v1/contracts/${c.id}/services/${serviceB}`).set('Authorization', t.admin)).status).toBe(404);
  });

  it('PATCH changes fields, but company and period type cannot change (400 naming the field)', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const ok = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({ name: 'Renamed', autoRenew: true, autoRenewDaysBefore: 30 });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ name: 'Renamed', autoRenew: true, autoRenewDaysBefore: 30 });
    const company = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({ companyId: otherCompanyId });
    expect(company.status).toBe(400);
    expect(company.body.error.message).toMatch(/^companyId:/);
    const period = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({ periodType: 'yearly' });
    expect(period.status).toBe(400);
    expect(period.body.error.message).toMatch(/^periodType:/);
    const same = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({ periodType: 'quarterly', name: 'Same period' });
    expect(same.status).toBe(200);
    const dates = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({ endDate: '2024-12-31' });
    expect(dates.status).toBe(400);
    expect(dates.body.error.message).toMatch(/^endDate:/);
    const empty = await api().patch(`/api/v1/contracts/${c.id}`).set('Authorization', t.admin).send({});
    expect(empty.status).toBe(400);
  });

  it('lists with filters and pagination (limit capped at 200, cursor and offset)', async () => {
    const co = await seedCompany(t.db);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-03-31', type: i === 4 ? 'retainer' : 'recurring_service' })).id);
    const first = await api().get('/api/v1/contracts').query({ companyId: co, limit: 2 }).set('Authorization', t.admin);
    expect(first.status).toBe(200);
    expect(first.body.items.map((c: { id: string }) => c.id)).toEqual(ids.slice(0, 2));
    const second = await api().get('/api/v1/contracts').query({ companyId: co, limit: 2, cursor: first.body.nextCursor }).set('Authorization', t.admin);
    expect(second.body.items.map((c: { id: string }) => c.id)).toEqual(ids.slice(2, 4));
    const offset = await api().get('/api/v1/contracts').query({ companyId: co, limit: 2, offset: 4 }).set('Authorization', t.admin);
    expect(offset.body.items.map((c: { id: string }) => c.id)).toEqual([ids[4]]);
    expect(offset.body.nextCursor).toBeNull();
    const retainers = await api().get('/api/v1/contracts').query({ companyId: co, type: 'retainer' }).set('Authorization', t.admin);
    expect(retainers.body.items.map((c: { id: string }) => c.id)).toEqual([ids[4]]);
    expect((await api().get('/api/v1/contracts').query({ limit: 201 }).set('Authorization', t.admin)).status).toBe(400);
    expect((await api().get('/api/v1/contracts').query({ status: 'gone' }).set('Authorization', t.admin)).status).toBe(400);
  });

  it('billing rules, notes, service mappings and charges have their own routes', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31', services: [{ serviceId: serviceA, units: 1 }] });
    const base = `/api/v1/contracts/${c.id}`;
    const rule = await api().post(`${base}/billing-rules`).set('Authorization', t.admin).send({ name: 'Monthly fee', serviceId: serviceA, amount: 99.5, startDate: '2025-01-01' });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ name: 'Monthly fee', amount: 99.5, active: true, frequency: 'monthly', endDate: null });
    const rulePatch = await api().patch(`${base}/billing-rules/${rule.body.id}`).set('Authorization', t.admin).send({ active: false });
    expect(rulePatch.body.active).toBe(false);
    expect((await api().get(`${base}/billing-rules`).set('Authorization', t.admin)).body.items).toHaveLength(1);

    const note = await api().post(`${base}/notes`).set('Authorization', t.admin).send({ body: 'Customer asked for a quote' });
    expect(note.status).toBe(201);
    expect(note.body).toMatchObject({ kind: 'note', body: 'Customer asked for a quote', author: 'bootstrap-admin' });

    const mapping = await api().post(`${base}/service-mappings`).set('Authorization', t.admin).send({ moduleBillingType: 'backup-gb', serviceId: serviceA });
    expect(mapping.status).toBe(201);
    const dupMapping = await api().post(`${base}/service-mappings`).set('Authorization', t.admin).send({ moduleBillingType: 'backup-gb', serviceId: serviceB });
    expect(dupMapping.status).toBe(409);
    expect(dupMapping.body.error.message).toMatch(/^moduleBillingType:/);
    const badService = await api().post(`${base}/service-mappings`).set('Authorization', t.admin).send({ moduleBillingType: 'x', serviceId: '999999' });
    expect(badService.status).toBe(400);
    expect(badService.body.error.message).toMatch(/^serviceId:/);

    const charge = await api().post(`${base}/charges`).set('Authorization', t.admin).send({ chargeDate: '2025-02-10', description: 'Credit', amount: '-25.5' });
    expect(charge.status).toBe(201);
    expect(charge.body).toMatchObject({ amount: -25.5, billed: false });
    const charges = await api().get(`${base}/charges?from=2025-02-01&to=2025-02-28`).set('Authorization', t.admin);
    expectConforms('get', `${base}/charges`, charges);
    expectConforms('post', `${base}/billing-rules`, rule);
    expectConforms('post', `${base}/service-mappings`, mapping);
    expect(charges.body.items).toHaveLength(1);
    expect((await api().delete(`${base}/charges/${charge.body.id}`).set('Authorization', t.admin)).status).toBe(204);

    const detail = await api().get(base).set('Authorization', t.admin);
    expect(detail.body.notes).toEqual([expect.objectContaining({ body: 'Customer asked for a quote' })]);
  });

  it('a scoped token sees only its companies: another company’s contract is a 404', async () => {
    const mine = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const theirs = await createContract(t, { companyId: otherCompanyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const token = await scopedToken(t.db, [companyId]);
    expect((await api().get(`/api/v1/contracts/${mine.id}`).set('Authorization', token)).status).toBe(200);
    for (const path of ['', '/services', '/notes', '/billing-rules', '/charges', '/service-mappings', '/device-links']) {
      expect((await api().get(`/api/v1/contracts/${theirs.id}${path}`).set('Authorization', token)).status).toBe(404);
    }
    expect((await api().patch(`/api/v1/contracts/${theirs.id}`).set('Authorization', token).send({ name: 'x' })).status).toBe(404);
    expect((await api().post(`/api/v1/contracts/${theirs.id}/renewal/preview`).set('Authorization', token).send({})).status).toBe(404);
    expect((await api().post(`/api/v1/contracts/${theirs.id}/renewal`).set('Authorization', token).send({})).status).toBe(404);
    const list = await api().get('/api/v1/contracts').set('Authorization', token);
    expect(list.body.items.every((c: { companyId: string }) => c.companyId === companyId)).toBe(true);
    const create = await api()
      .post('/api/v1/contracts')
      .set('Authorization', token)
      .send({ companyId: otherCompanyId, name: 'x', type: 'recurring_service', periodType: 'monthly', startDate: '2025-01-01', endDate: '2025-01-31' });
    expect(create.status).toBe(400);
    expect(create.body.error.message).toMatch(/^companyId:/);
  });

  it('reads need viewer, writes need admin', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-03-31' });
    const viewer = await scopedToken(t.db, [companyId], 'viewer');
    expect((await api().get(`/api/v1/contracts/${c.id}`).set('Authorization', viewer)).status).toBe(200);
    expect((await api().post(`/api/v1/contracts/${c.id}/notes`).set('Authorization', viewer).send({ body: 'x' })).status).toBe(403);
    expect((await api().get(`/api/v1/contracts/${c.id}`)).status).toBe(401);
  });

  it('unknown ids are 404, never 500', async () => {
    expect((await api().get('/api/v1/contracts/999999').set('Authorization', t.admin)).status).toBe(404);
    expect((await api().get('/api/v1/contracts/abc').set('Authorization', t.admin)).status).toBe(404);
    expect((await api().post('/api/v1/contracts/99999999999999999999/renewal').set('Authorization', t.admin).send({})).status).toBe(404);
  });
});
