import fc from 'fast-check';
import request from 'supertest';
import { addDays } from '../../../core/dates';
import { effectiveDeviceContracts, pairKey } from '../../../db/queries/alert-batch';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createContract, seedCompany, seedDevice, seedService } from './fixtures';

/**
 * R-REN-10 completely (issue 15 item 4): devices linked to the original are on the renewal from its
 * start date, whatever the order in which the links and the renewal were made. Over HTTP; the link
 * in force on a date is read with the alert path's own statement (effectiveDeviceContracts). Today is
 * 2025-03-15.
 */
describe('R-REN-10: links made after a renewal was recorded', () => {
  let t: TestApp;
  let companyId: string;
  let serviceA: string;
  let serviceB: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-03-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
    serviceA = await seedService(t.db, '10');
    serviceB = await seedService(t.db, '20');
  });
  afterAll(async () => t.close());

  const renew = (id: string, body: Record<string, unknown> = {}) => request(t.app).post(`/api/v1/contracts/${id}/renewal`).set('Authorization', t.admin).send(body);
  const link = (device: string, body: Record<string, unknown>) => request(t.app).put(`/api/v1/devices/${device}/contract`).set('Authorization', t.admin).send(body);
  const links = async (deviceId: string) =>
    (await request(t.app).get(`/api/v1/devices/${deviceId}/links`).set('Authorization', t.admin)).body.items as Array<Record<string, unknown>>;
  const contractOn = async (deviceId: string, date: string) => (await effectiveDeviceContracts(t.db, [{ id: deviceId, date }])).get(pairKey(deviceId, date))?.contract_id;
  const original = () => createContract(t, { companyId, periodType: 'yearly', startDate: '2025-01-01', endDate: '2025-12-31', services: [{ serviceId: serviceA, units: 5 }, { serviceId: serviceB, units: 5 }] });

  it('R-REN-10: a device linked to the original after a future-dated renewal was recorded moves to the renewal on its start date', async () => {
    const c = await original();
    const res = await renew(c.id, { startDate: '2025-07-01' });
    expect(res.status).toBe(201);
    const r = String(res.body.renewal.id);
    const d = await seedDevice(t.db, companyId);
    const put = await link(d, { contractId: c.id, serviceId: serviceA });
    expect(put.status).toBe(200);
    expect(await links(d)).toEqual([
      expect.objectContaining({ contractId: c.id, serviceId: serviceA, from: '2025-03-15', to: '2025-06-30' }),
      expect.objectContaining({ contractId: r, serviceId: serviceA, from: '2025-07-01', to: null }),
    ]);
    expect(String(await contractOn(d, '2025-06-30'))).toBe(c.id);
    expect(String(await contractOn(d, '2025-07-01'))).toBe(r);
    // The same request again changes nothing; another service re-lays the continuation (no 409).
    expect((await link(d, { contractId: c.id, serviceId: serviceA })).body.changed).toBe(false);
    const other = await link(d, { contractId: c.id, serviceId: serviceB, from: '2025-04-01' });
    expect(other.status).toBe(200);
    expect(await links(d)).toEqual([
      expect.objectContaining({ contractId: c.id, serviceId: serviceA, from: '2025-03-15', to: '2025-03-31' }),
      expect.objectContaining({ contractId: c.id, serviceId: serviceB, from: '2025-04-01', to: '2025-06-30' }),
      expect.objectContaining({ contractId: r, serviceId: serviceB, from: '2025-07-01', to: null }),
    ]);
  });

  it('R-REN-10: a link from a date on or after the renewal start lands on the renewal; one ending before it stays on the original', async () => {
    const c = await original();
    const r = String((await renew(c.id, { startDate: '2025-07-01' })).body.renewal.id);
    const late = await seedDevice(t.db, companyId);
    expect((await link(late, { contractId: c.id, from: '2025-08-01' })).status).toBe(200);
    expect(await links(late)).toEqual([expect.objectContaining({ contractId: r, from: '2025-08-01', to: null })]);
    const short = await seedDevice(t.db, companyId);
    expect((await link(short, { contractId: c.id, from: '2025-04-01', to: '2025-05-31' })).status).toBe(200);
    expect(await links(short)).toEqual([expect.objectContaining({ contractId: c.id, from: '2025-04-01', to: '2025-05-31' })]);
  });

  it('R-REN-2, R-REN-10: along a chain (the renewal renewed too) the link continues on each renewal from its start', async () => {
    const c = await original();
    const r1 = String((await renew(c.id, { startDate: '2025-07-01' })).body.renewal.id);
    const res2 = await renew(r1, { startDate: '2026-01-01' });
    expect(res2.status).toBe(201);
    const r2 = String(res2.body.renewal.id);
    const d = await seedDevice(t.db, companyId);
    expect((await link(d, { contractId: c.id, from: '2025-05-01' })).status).toBe(200);
    expect(await links(d)).toEqual([
      expect.objectContaining({ contractId: c.id, from: '2025-05-01', to: '2025-06-30' }),
      expect.objectContaining({ contractId: r1, from: '2025-07-01', to: '2025-12-31' }),
      expect.objectContaining({ contractId: r2, from: '2026-01-01', to: null }),
    ]);
    expect(String(await contractOn(d, '2026-01-01'))).toBe(r2);
  });

  /** The links of a device with the contract named by its role, for comparing two orders. */
  const shape = async (deviceId: string, c: string, r: string) =>
    (await links(deviceId)).map((l) => ({ on: l.contractId === c ? 'original' : l.contractId === r ? 'renewal' : 'other', from: l.from, to: l.to }));

  it('R-REN-10 property: links first then renewal, or renewal first then links — the same links, and every device of the original on the renewal on its start date', async () => {
    const day = (n: number) => addDays('2025-01-01', n);
    const linkArb = fc.record({ from: fc.integer({ min: 0, max: 363 }), len: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }) });
    await fc.assert(
      fc.asyncProperty(fc.array(linkArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 31, max: 364 }), async (reqs, startN) => {
        const start = day(startN);
        // Links that end on or after the original's end are continued open-ended by a renewal made later
        // (renewedLinkEnd), so the requests here end before it.
        const asked = reqs.map((q) => ({ from: day(q.from), to: q.len === null ? null : day(Math.min(q.from + q.len, 363)) }));
        // Order 1: the links, then the renewal.
        const c1 = await original();
        const d1 = await Promise.all(asked.map(() => seedDevice(t.db, companyId)));
        for (const [i, a] of asked.entries()) expect((await link(d1[i]!, { contractId: c1.id, ...a })).status).toBe(200);
        const r1 = await renew(c1.id, { startDate: start });
        expect(r1.status).toBe(201);
        // Order 2: the renewal, then the links.
        const c2 = await original();
        const r2 = await renew(c2.id, { startDate: start });
        expect(r2.status).toBe(201);
        const d2 = await Promise.all(asked.map(() => seedDevice(t.db, companyId)));
        for (const [i, a] of asked.entries()) expect((await link(d2[i]!, { contractId: c2.id, ...a })).status).toBe(200);

        for (const [i, a] of asked.entries()) {
          expect(await shape(d2[i]!, c2.id, String(r2.body.renewal.id))).toEqual(await shape(d1[i]!, c1.id, String(r1.body.renewal.id)));
          // On the start date, a device whose link covers it is on the renewal in both orders.
          const covers = a.from <= start && (a.to === null || a.to >= start);
          expect(String(await contractOn(d2[i]!, start))).toBe(covers ? String(r2.body.renewal.id) : 'undefined');
          expect(String(await contractOn(d1[i]!, start))).toBe(covers ? String(r1.body.renewal.id) : 'undefined');
        }
      }),
      { numRuns: 12 },
    );
  });
});
