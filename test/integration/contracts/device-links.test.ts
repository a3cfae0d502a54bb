import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { expectConforms } from '../admin/admin-helpers';
import { createContract, scopedToken, seedBundle, seedCompany, seedDevice, seedService } from './fixtures';

/** R-LINK-1 / R-LINK-8: dated device → contract (and service) links set by hand. */
describe('device links', () => {
  let t: TestApp;
  let companyId: string;
  let otherCompanyId: string;
  let serviceA: string;
  let serviceB: string;
  let bundledService: string;
  let contractA: string;
  let contractB: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-03-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
    otherCompanyId = await seedCompany(t.db);
    serviceA = await seedService(t.db);
    serviceB = await seedService(t.db);
    bundledService = await seedService(t.db);
    const bundle = await seedBundle(t.db, '30', [bundledService]);
    contractA = (
      await createContract(t, {
        companyId,
        startDate: '2025-01-01',
        endDate: '2025-12-31',
        services: [{ serviceId: serviceA, units: 1 }],
        serviceBundles: [{ bundleId: bundle, units: 1 }],
      })
    ).id;
    contractB = (await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31', services: [{ serviceId: serviceB, units: 1 }] })).id;
  });
  afterAll(async () => t.close());

  const put = (deviceId: string, body: Record<string, unknown>, auth = t.admin) =>
    request(t.app).put(`/api/v1/devices/${deviceId}/contract`).set('Authorization', auth).send(body);
  const links = async (deviceId: string) => (await request(t.app).get(`/api/v1/devices/${deviceId}/links`).set('Authorization', t.admin)).body.items as Array<Record<string, unknown>>;

  it('R-LINK-8: links a device by hand, from today by default', async () => {
    const device = await seedDevice(t.db, companyId);
    const res = await put(device, { contractId: contractA, serviceId: serviceA });
    expect(res.status).toBe(200);
    expect(res.body.link).toMatchObject({ deviceId: device, contractId: contractA, serviceId: serviceA, from: '2025-03-15', to: null });
    expect(res.body.changed).toBe(true);
    expectConforms('put', `/api/v1/devices/${device}/contract`, res);
    expectConforms('get', `/api/v1/devices/${device}/links`, await request(t.app).get(`/api/v1/devices/${device}/links`).set('Authorization', t.admin));
    expect(await t.db('audit_log').where({ action: 'device.link', entity_id: device })).toHaveLength(1);
  });

  it('R-LINK-1: a new link ends the current one the day before it starts; history is kept', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, serviceId: serviceA, from: '2025-01-01' });
    const res = await put(device, { contractId: contractB, serviceId: serviceB, from: '2025-04-01' });
    expect(res.status).toBe(200);
    expect(await links(device)).toEqual([
      expect.objectContaining({ contractId: contractA, serviceId: serviceA, from: '2025-01-01', to: '2025-03-31' }),
      expect.objectContaining({ contractId: contractB, serviceId: serviceB, from: '2025-04-01', to: null }),
    ]);
  });

  it('R-LINK-1: setting the same link again changes nothing (idempotent PUT)', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, serviceId: serviceA, from: '2025-01-01' });
    const again = await put(device, { contractId: contractA, serviceId: serviceA, from: '2025-02-01' });
    expect(again.body.changed).toBe(false);
    expect(await links(device)).toHaveLength(1);
  });

  it('R-LINK-1: a link replaced on its own first day leaves no empty range behind', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, from: '2025-05-01' });
    await put(device, { contractId: contractB, from: '2025-05-01' });
    expect(await links(device)).toEqual([expect.objectContaining({ contractId: contractB, from: '2025-05-01', to: null })]);
  });

  it('R-LINK-1: links never overlap — a scheduled later link in the way is a 409 LINK_OVERLAP', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, from: '2025-01-01', to: '2025-05-31' });
    await put(device, { contractId: contractB, from: '2025-07-01' });
    const overlap = await put(device, { contractId: contractA, from: '2025-06-01' });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error.code).toBe('LINK_OVERLAP');
    expect(overlap.body.error.details.conflicts).toEqual([expect.objectContaining({ contractId: contractB, from: '2025-07-01' })]);
    const fits = await put(device, { contractId: contractA, from: '2025-06-01', to: '2025-06-30' });
    expect(fits.status).toBe(200);
    expect((await links(device)).map((l) => [l.from, l.to])).toEqual([
      ['2025-01-01', '2025-05-31'],
      ['2025-06-01', '2025-06-30'],
      ['2025-07-01', null],
    ]);
  });

  it('R-LINK-1: the database’s exclusion constraint is the last word (409 LINK_OVERLAP, not 500)', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, from: '2025-01-01' });
    // Bypass the API's check: the constraint itself must refuse overlapping rows.
    await expect(t.db('device_contract_links').insert({ device_id: device, contract_id: contractB, valid_from: '2025-02-01' })).rejects.toMatchObject({
      code: '23P01',
    });
  });

  it('R-LINK-1: the service must be on the contract (directly or in a bundle); the contract must be the device’s company’s', async () => {
    const device = await seedDevice(t.db, companyId);
    const wrongService = await put(device, { contractId: contractA, serviceId: serviceB });
    expect(wrongService.status).toBe(400);
    expect(wrongService.body.error.message).toMatch(/^serviceId:/);
    expect((await put(device, { contractId: contractA, serviceId: bundledService })).status).toBe(200);

    const foreign = (await createContract(t, { companyId: otherCompanyId, startDate: '2025-01-01', endDate: '2025-12-31' })).id;
    const otherCompany = await put(device, { contractId: foreign });
    expect(otherCompany.status).toBe(400);
    expect(otherCompany.body.error.message).toMatch(/^contractId:/);
    const missing = await put(device, { contractId: '999999' });
    expect(missing.status).toBe(400);
    expect((await put(device, { contractId: contractA, from: '2026-01-01' })).status).toBe(400);
    expect((await put(device, { contractId: contractA, from: '2025-05-01', to: '2025-04-01' })).status).toBe(400);
    expect((await put(device, { contractId: contractA, extra: 1 })).status).toBe(400);
    expect((await put('999999', { contractId: contractA })).status).toBe(404);
  });

  it('R-LINK-8: DELETE ends the link the day before `from` and drops scheduled ones; history stays', async () => {
    const device = await seedDevice(t.db, companyId);
    await put(device, { contractId: contractA, from: '2025-01-01', to: '2025-06-30' });
    await put(device, { contractId: contractB, from: '2025-07-01' });
    const res = await request(t.app).delete(`/api/v1/devices/${device}/contract?from=2025-04-01`).set('Authorization', t.admin);
    expect(res.status).toBe(200);
    expect(res.body.links).toEqual([expect.objectContaining({ contractId: contractA, from: '2025-01-01', to: '2025-03-31' })]);
    const nothing = await request(t.app).delete(`/api/v1/devices/${device}/contract?from=2025-04-01`).set('Authorization', t.admin);
    expect(nothing.status).toBe(404);
  });

  it('a scoped token cannot see or link another company’s device (404)', async () => {
    const device = await seedDevice(t.db, otherCompanyId);
    const token = await scopedToken(t.db, [companyId]);
    expect((await request(t.app).get(`/api/v1/devices/${device}/links`).set('Authorization', token)).status).toBe(404);
    expect((await put(device, { contractId: contractA }, token)).status).toBe(404);
  });

  it('GET /contracts/:id/device-links lists the contract’s links, optionally those in force on a date', async () => {
    const c = (await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' })).id;
    const d1 = await seedDevice(t.db, companyId);
    const d2 = await seedDevice(t.db, companyId);
    await put(d1, { contractId: c, from: '2025-01-01', to: '2025-01-31' });
    await put(d2, { contractId: c, from: '2025-02-01' });
    const all = await request(t.app).get(`/api/v1/contracts/${c}/device-links`).set('Authorization', t.admin);
    expect(all.body.items.map((l: { deviceId: string }) => l.deviceId)).toEqual([d1, d2]);
    const feb = await request(t.app).get(`/api/v1/contracts/${c}/device-links?asOf=2025-02-10`).set('Authorization', t.admin);
    expect(feb.body.items.map((l: { deviceId: string }) => l.deviceId)).toEqual([d2]);
  });
});
