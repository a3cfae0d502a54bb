import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { insertCompany, insertTicket } from './operator-fixtures';

/**
 * R-LINK-6: time entries roll up to the ticket's contract and service, and the profitability
 * report shows revenue, labour cost and margin per contract and service. Every figure below is
 * computed by hand in the comments (revenue convention: core/reports/README.md).
 *
 * Period 2026-01-01 .. 2026-03-31.
 *
 * Alpha Co — "Managed IT", 15 Jan 2026 .. 31 Dec 2026 (17 of January's 31 days count):
 *   Monitoring: 10 units × 20, from 15 Feb 14 units.
 *     Jan 200 × 17/31 = 109.6774; Feb 1–14: 200 × 14/28 = 100; Feb 15–28: 280 × 14/28 = 140; Mar 280
 *     → 629.6774 → 629.68. Labour 2 h × 50 + 1.5 h × 40 = 160.00 (the 3 h on 1 April are outside).
 *     Margin 469.68.
 *   Backup: 2 units × 50, price 60 from 1 March.
 *     Jan 100 × 17/31 = 54.8387; Feb 100; Mar 120 → 274.8387 → 274.84. Labour 0.75 h without a rate:
 *     cost 0.00, unratedHours 0.75. Margin 274.84.
 *   (no service): 1 h × 30 = 30.00 on a ticket of the contract without a service. Margin -30.00.
 *   Bundle "Office pack": 1 × 31: Jan 17, Feb 31, Mar 31 → 79.00.
 *   Contract: revenue 629.68 + 274.84 + 79.00 = 983.52; cost 190.00; margin 793.52; hours 5.25.
 * Beta Co — "Printers", 1 Jan 2025 .. 31 Jan 2026:
 *   Printer care: 3 × 15 = 45 in January only → 45.00. Labour 2 h × 25 = 50.00. Margin -5.00.
 *   ("Old deal", ended 31 Dec 2025, has nothing in the period and is not listed.)
 * Uncontracted: 1 h × 20 = 20.00 on an Alpha ticket without a contract.
 * Totals: revenue 1028.52, cost 240.00, margin 788.52, hours 7.25, unrated 0.75.
 */
describe('R-LINK-6 profitability report', () => {
  let t: TestApp;
  let api: Client;
  let alpha: string;
  let beta: string;
  let managed: string;
  let printers: string;
  let monitoring: string;
  let backup: string;
  let printerCare: string;
  let pack: string;

  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
    alpha = await insertCompany(t.db, 'Alpha Co');
    beta = await insertCompany(t.db, 'Beta Co');
    monitoring = (await insertRow(t.db, 'services', { name: 'Monitoring', code: 'MON', unit_price: '20' })).id;
    backup = (await insertRow(t.db, 'services', { name: 'Backup', code: 'BAK', unit_price: '50' })).id;
    printerCare = (await insertRow(t.db, 'services', { name: 'Printer care', unit_price: '15' })).id;
    pack = (await insertRow(t.db, 'service_bundles', { name: 'Office pack', unit_price: '31' })).id;
    const contract = (companyId: string, name: string, start: string, end: string) =>
      insertRow(t.db, 'contracts', { company_id: companyId, name, type: 'recurring_service', period_type: 'monthly', start_date: start, end_date: end }).then((r) => String(r.id));
    managed = await contract(alpha, 'Managed IT', '2026-01-15', '2026-12-31');
    printers = await contract(beta, 'Printers', '2025-01-01', '2026-01-31');
    await contract(beta, 'Old deal', '2025-01-01', '2025-12-31');
    const mon = await insertRow(t.db, 'contract_services', { contract_id: managed, service_id: monitoring, units: '10', unit_price: '20' });
    await insertRow(t.db, 'contract_service_adjustments', { contract_service_id: mon.id, effective_date: '2026-02-15', units: '14' });
    const bak = await insertRow(t.db, 'contract_services', { contract_id: managed, service_id: backup, units: '2', unit_price: '50' });
    await insertRow(t.db, 'contract_service_adjustments', { contract_service_id: bak.id, effective_date: '2026-03-01', unit_price: '60' });
    await insertRow(t.db, 'contract_bundles', { contract_id: managed, bundle_id: pack, units: '1', unit_price: '31' });
    await insertRow(t.db, 'contract_services', { contract_id: printers, service_id: printerCare, units: '3', unit_price: '15' });

    // Labour goes in through the API: the entry takes the ticket's contract and service.
    const operator = await tokenFor(t, 'operator');
    const log = async (ticket: { id: string }, workDate: string, hours: number, costRate?: number) => {
      const res = await api.post(`/tickets/${ticket.id}/time-entries`, { workDate, hours, ...(costRate === undefined ? {} : { costRate }) }, operator);
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    };
    const t1 = await insertTicket(t.db, { company_id: alpha, contract_id: managed, service_id: monitoring });
    await log(t1, '2026-01-20', 2, 50);
    await log(t1, '2026-02-10', 1.5, 40);
    await log(t1, '2026-04-01', 3, 50); // after the period
    await log(await insertTicket(t.db, { company_id: alpha, contract_id: managed, service_id: backup }), '2026-03-05', 0.75);
    await log(await insertTicket(t.db, { company_id: alpha, contract_id: managed }), '2026-03-06', 1, 30);
    await log(await insertTicket(t.db, { company_id: beta, contract_id: printers, service_id: printerCare }), '2026-01-10', 2, 25);
    await log(await insertTicket(t.db, { company_id: alpha }), '2026-02-02', 1, 20);
  });
  afterAll(async () => t.close());

  const figures = (revenue: string, cost: string, margin: string, hours: string, unratedHours = '0') => ({ revenue, cost, margin, hours, unratedHours });

  it('R-LINK-6: per contract and per service: revenue, labour cost and margin (JSON)', async () => {
    const res = await api.get('/reports/profitability?from=2026-01-01&to=2026-03-31');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      from: '2026-01-01',
      to: '2026-03-31',
      contracts: [
        {
          contractId: managed,
          name: 'Managed IT',
          companyId: alpha,
          companyName: 'Alpha Co',
          ...figures('983.52', '190.00', '793.52', '5.25', '0.75'),
          services: [
            { serviceId: backup, name: 'Backup', ...figures('274.84', '0.00', '274.84', '0.75', '0.75') },
            { serviceId: monitoring, name: 'Monitoring', ...figures('629.68', '160.00', '469.68', '3.5') },
            { serviceId: null, name: '(no service)', ...figures('0.00', '30.00', '-30.00', '1') },
          ],
          bundles: [{ bundleId: pack, name: 'Office pack', revenue: '79.00' }],
          // R-TKT-2: the tickets here have no due dates, so none has a settled SLA (ticket-sla.test.ts counts them).
          sla: { met: 0, breached: 0, attainmentPercent: null },
        },
        {
          contractId: printers,
          name: 'Printers',
          companyId: beta,
          companyName: 'Beta Co',
          ...figures('45.00', '50.00', '-5.00', '2'),
          services: [{ serviceId: printerCare, name: 'Printer care', ...figures('45.00', '50.00', '-5.00', '2') }],
          bundles: [],
          sla: { met: 0, breached: 0, attainmentPercent: null },
        },
      ],
      uncontracted: { hours: '1', unratedHours: '0', cost: '20.00' },
      totals: figures('1028.52', '240.00', '788.52', '7.25', '0.75'),
    });
  });

  it('R-LINK-6: the same figures as CSV with Accept: text/csv, one row per contract × service', async () => {
    const res = await request(t.app).get('/api/v1/reports/profitability?from=2026-01-01&to=2026-03-31').set('Authorization', t.admin).set('Accept', 'text/csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('profitability_2026-01-01_2026-03-31.csv');
    expect(res.text.split('\r\n')).toEqual([
      'contractId,contractName,companyId,companyName,lineType,itemId,itemName,revenue,hours,unratedHours,cost,margin',
      `${managed},Managed IT,${alpha},Alpha Co,service,${backup},Backup,274.84,0.75,0.75,0.00,274.84`,
      `${managed},Managed IT,${alpha},Alpha Co,service,${monitoring},Monitoring,629.68,3.5,0,160.00,469.68`,
      `${managed},Managed IT,${alpha},Alpha Co,service,,(no service),0.00,1,0,30.00,-30.00`,
      `${managed},Managed IT,${alpha},Alpha Co,bundle,${pack},Office pack,79.00,0,0,0.00,79.00`,
      `${printers},Printers,${beta},Beta Co,service,${printerCare},Printer care,45.00,2,0,50.00,-5.00`,
      '',
    ]);
    const viaQuery = await request(t.app).get('/api/v1/reports/profitability?from=2026-01-01&to=2026-03-31&format=csv').set('Authorization', t.admin);
    expect(viaQuery.text).toBe(res.text);
  });

  it('R-LINK-6: one company only, by filter or by a scoped token', async () => {
    const filtered = await api.get(`/reports/profitability?from=2026-01-01&to=2026-03-31&companyId=${beta}`);
    expect(filtered.body.contracts.map((c: { contractId: string }) => c.contractId)).toEqual([printers]);
    expect(filtered.body.totals).toEqual(figures('45.00', '50.00', '-5.00', '2'));
    expect(filtered.body.uncontracted).toEqual({ hours: '0', unratedHours: '0', cost: '0.00' });
    const scoped = await tokenFor(t, 'viewer', [beta]);
    const seen = await api.get('/reports/profitability?from=2026-01-01&to=2026-03-31', scoped);
    expect(seen.body.contracts.map((c: { contractId: string }) => c.contractId)).toEqual([printers]);
    expect((await api.get(`/reports/profitability?from=2026-01-01&to=2026-03-31&companyId=${alpha}`, scoped)).status).toBe(404);
  });

  it('a period of one month: February only', async () => {
    // Monitoring Feb 240.00; Backup Feb 100.00; Pack 31.00 → 371.00; labour 1.5 h × 40 = 60.00.
    const res = await api.get(`/reports/profitability?from=2026-02-01&to=2026-02-28&companyId=${alpha}`);
    expect(res.body.totals).toEqual(figures('371.00', '60.00', '311.00', '1.5'));
    expect(res.body.uncontracted).toEqual({ hours: '1', unratedHours: '0', cost: '20.00' });
  });

  it('refuses a bad period, naming the field', async () => {
    const reversed = await api.get('/reports/profitability?from=2026-03-01&to=2026-02-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.message).toMatch(/^to: must not be before from/);
    expect((await api.get('/reports/profitability?from=2026-02-30&to=2026-03-01')).body.error.message).toMatch(/^query\.from: /);
    expect((await api.get('/reports/profitability?to=2026-03-01')).body.error.message).toMatch(/^query\.from: /);
    expect((await api.get('/reports/profitability?from=2000-01-01&to=2026-03-01')).status).toBe(400);
  });
});
