import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { insertRow } from '../../helpers/seed';

/**
 * R-PSA-4 and R-LINK-1 for Autotask over HTTP (`POST /api/v1/psa-connections/:name/import`) on the
 * real Postgres, reading from the fake Autotask with pages of two records (every list follows
 * `nextPageUrl`): companies, the SLA picklist, services, contracts in effect (with their
 * ContractServices lines and SLA) and configuration items become hub records with their psaRefs,
 * each item linked to its contract by its own contractID; refused records say why; inactive
 * records are not read; a second run changes nothing; a dry run writes nothing.
 */
let a: TestApp;
let fake: FakeAutotask;
/** Deliveries of the hand-made Fabrikam's tickets, skipped for lack of its Autotask id: one open ticket, one closed. */
let skippedOpen: string;
let skippedClosed: string;

const api = () => request(a.app);
const runImport = (body: Record<string, unknown> = {}) => api().post('/api/v1/psa-connections/at/import').set('Authorization', a.admin).send(body);

function seedPsa(f: FakeAutotask): void {
  f.data.companies.push(
    { id: 250, companyName: 'Contoso Ltd', companyNumber: 'C-250', isActive: true },
    { id: 251, companyName: 'Fabrikam GmbH', isActive: true },
    { id: 252, companyName: 'Gone Inc', isActive: false },
  );
  f.data.slas.push({ value: 3, label: 'Premium 24x7' }, { value: 4, label: 'Gold (PSA only)' }, { value: 9, label: 'Retired', isActive: false });
  f.data.services.push(
    { id: 55, name: 'Server management', unitPrice: 120, isActive: true },
    { id: 56, name: 'Backup', unitPrice: 15.5, unitCost: 4, isActive: true },
    { id: 57, name: 'Old service', unitPrice: 1, isActive: false },
  );
  f.data.contracts.push(
    { id: 77, companyID: 250, contractName: 'Server care', startDate: '2026-01-01T00:00:00', endDate: '2026-12-31T00:00:00', serviceLevelAgreementID: 3, status: 1, contractPeriodType: 'm' },
    { id: 78, companyID: 251, contractName: 'Open-ended', startDate: '2026-01-01T00:00:00', endDate: null, status: 1 },
    { id: 79, companyID: 250, contractName: 'Expired', startDate: '2024-01-01T00:00:00', endDate: '2024-12-31T00:00:00', status: 0 },
  );
  f.data.contractServices.push(
    { id: 1, contractID: 77, serviceID: 55, unitPrice: 120, adjustedPrice: 110 },
    { id: 2, contractID: 77, serviceID: 56, unitPrice: 15.5 },
    { id: 3, contractID: 79, serviceID: 55, unitPrice: 100 },
  );
  f.data.configurationItems.push(
    { id: 901, companyID: 250, contractID: 77, referenceTitle: 'FS01', isActive: true },
    { id: 902, companyID: 250, contractID: 77, referenceTitle: 'MAIL01', isActive: true },
    { id: 903, companyID: 999, contractID: null, referenceTitle: 'STRAY', isActive: true },
    { id: 904, companyID: 251, contractID: null, referenceTitle: '', serialNumber: 'SN-0904', isActive: true },
    { id: 905, companyID: 250, contractID: 77, referenceTitle: 'DECOMMISSIONED', isActive: false },
  );
}

beforeAll(async () => {
  a = await createTestApp();
  fake = await startFakeAutotask();
  fake.pageSize = 2;
  seedPsa(fake);
  // Hand-made hub records the import must match by name rather than duplicate.
  await insertRow(a.db, 'slas', { name: 'Premium 24x7', timezone: 'Europe/Berlin', is_24x7: true });
  const fabrikam = await insertRow(a.db, 'companies', { name: 'fabrikam gmbh' });
  const res = await api().post('/api/v1/psa-connections').set('Authorization', a.admin).send({ name: 'at', type: 'autotask', enabled: true, config: { ...fake.credentials, baseUrl: fake.baseUrl } });
  expect(res.status).toBe(201);
  const connection = await a.db('psa_connections').where({ name: 'at' }).first('id');
  const skippedOf = async (status: string) => {
    const t = await insertRow(a.db, 'tickets', { source: 'rmm', priority: 'high', status, dedup_key: `k-${status}`, company_id: fabrikam.id, title: status, first_occurred_at: new Date(), last_occurred_at: new Date() });
    const d = await insertRow(a.db, 'psa_deliveries', { ticket_id: t.id, connection_id: connection.id, state: 'skipped', last_error: 'company fabrikam gmbh has no psaRefs.at', pending_since: null });
    return String(d.id);
  };
  skippedOpen = await skippedOf('new');
  skippedClosed = await skippedOf('closed');
});
afterAll(async () => {
  await fake.close();
  await a.close();
});

describe('Autotask import (R-PSA-4)', () => {
  it('a dry run plans everything and writes nothing', async () => {
    const res = await runImport({ dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, counts: { company: { created: 1, updated: 1 }, contract: { created: 1, refused: 1 }, device: { created: 3, refused: 1 } }, deliveriesResumed: 1 });
    expect(await a.db('psa_deliveries').where({ id: skippedOpen }).first()).toMatchObject({ state: 'skipped' });
    expect(await a.db('companies').count({ n: '*' }).first()).toEqual({ n: '1' });
    expect(await a.db('contracts').count({ n: '*' }).first()).toEqual({ n: '0' });
    expect(await a.db('devices').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('R-PSA-4, R-LINK-1: creates and links the records with their psaRefs, links each configuration item to its contract, reads every page', async () => {
    fake.calls.length = 0;
    const res = await runImport();
    expect(res.status).toBe(200);
    expect(res.body.counts).toEqual({
      company: { created: 1, updated: 1, unchanged: 0, refused: 0 },
      sla: { created: 0, updated: 1, unchanged: 0, refused: 1 },
      service: { created: 2, updated: 0, unchanged: 0, refused: 0 },
      contract: { created: 1, updated: 0, unchanged: 0, refused: 1 },
      device: { created: 3, updated: 0, unchanged: 0, refused: 1 },
    });
    expect(res.body.refused).toEqual(
      expect.arrayContaining([
        { kind: 'sla', externalId: '4', name: 'Gold (PSA only)', reason: expect.stringContaining('no SLA named') },
        { kind: 'contract', externalId: '78', name: 'Open-ended', reason: expect.stringContaining('no end date') },
        { kind: 'device', externalId: '903', name: 'STRAY', reason: expect.stringContaining('company 999') },
      ]),
    );
    expect(res.body.linkErrors).toEqual([]);
    // Fabrikam got its Autotask id: its open ticket's skipped delivery goes out (the worker's sweep enqueues it); the closed one's stays.
    expect(res.body.deliveriesResumed).toBe(1);
    expect(await a.db('psa_deliveries').where({ id: skippedOpen }).first()).toMatchObject({ state: 'pending', attempts: 0, last_error: null });
    expect(await a.db('psa_deliveries').where({ id: skippedClosed }).first()).toMatchObject({ state: 'skipped' });
    // Paged: the four active configuration items came in two pages of two (the other lists fit one page).
    const next = fake.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/query/next')).map((c) => c.path);
    expect(next).toEqual(['/ConfigurationItems/query/next']);
    // Inactive records were filtered by Autotask, not read.
    expect(await a.db('companies').where({ name: 'Gone Inc' }).first()).toBeUndefined();
    expect(await a.db('devices').where({ hostname: 'DECOMMISSIONED' }).first()).toBeUndefined();
    expect(await a.db('contracts').where({ name: 'Expired' }).first()).toBeUndefined();

    const company = await a.db('companies').where({ name: 'Contoso Ltd' }).first();
    expect(company.psa_refs).toEqual({ at: '250' });
    expect(await a.db('companies').where('name', 'ilike', 'fabrikam gmbh').select('name', 'psa_refs')).toEqual([{ name: 'Fabrikam GmbH', psa_refs: { at: '251' } }]);
    const sla = await a.db('slas').where({ name: 'Premium 24x7' }).first();
    expect(sla.psa_refs).toEqual({ at: '3' });
    const contract = await a.db('contracts').where({ name: 'Server care' }).first();
    expect(contract).toMatchObject({ company_id: company.id, start_date: '2026-01-01', end_date: '2026-12-31', sla_id: sla.id, period_type: 'monthly', psa_refs: { at: '77' } });
    // R-LINK-3 needs the contract's services: its ContractServices lines, at the adjusted price where there is one.
    const lines = await a.db('contract_services').where({ contract_id: contract.id }).orderBy('unit_price');
    expect(lines.map((l) => [l.units, l.unit_price])).toEqual([
      ['1.0000', '15.5000'],
      ['1.0000', '110.0000'],
    ]);
    const fs01 = await a.db('devices').where({ hostname: 'FS01' }).first();
    expect(fs01).toMatchObject({ company_id: company.id, psa_refs: { at: '901' } });
    const device = await api().get(`/api/v1/devices/${fs01.id}`).set('Authorization', a.admin);
    expect(device.body.links).toEqual([expect.objectContaining({ contractId: String(contract.id) })]);
    expect(await a.db('device_contract_links').count({ n: '*' }).first()).toEqual({ n: '2' });
    // A configuration item without a title is named by its serial number.
    expect(await a.db('devices').where({ hostname: 'SN-0904' }).first()).toMatchObject({ psa_refs: { at: '904' } });
  });

  it('is idempotent: a second run changes nothing; a name changed in Autotask is updated', async () => {
    const again = await runImport();
    expect(again.body.deliveriesResumed).toBe(0);
    expect(again.body.counts).toEqual({
      company: { created: 0, updated: 0, unchanged: 2, refused: 0 },
      sla: { created: 0, updated: 0, unchanged: 1, refused: 1 },
      service: { created: 0, updated: 0, unchanged: 2, refused: 0 },
      contract: { created: 0, updated: 0, unchanged: 1, refused: 1 },
      device: { created: 0, updated: 0, unchanged: 3, refused: 1 },
    });
    expect(await a.db('device_contract_links').count({ n: '*' }).first()).toEqual({ n: '2' });
    fake.data.companies[0]!.companyName = 'Contoso Limited';
    const renamed = await runImport();
    expect(renamed.body.counts.company).toEqual({ created: 0, updated: 1, unchanged: 1, refused: 0 });
    expect(await a.db('companies').where({ name: 'Contoso Limited' }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('Autotask down is a 503 that says so, and nothing is written', async () => {
    fake.data.companies.push({ id: 260, companyName: 'New while down', isActive: true });
    fake.down(true);
    const res = await runImport();
    fake.down(false);
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/importing from at: the PSA did not answer usably/);
    expect(await a.db('companies').where({ name: 'New while down' }).first()).toBeUndefined();
  });

  it('wrong credentials are a 422 with the PSA message', async () => {
    expect((await api().patch('/api/v1/psa-connections/at').set('Authorization', a.admin).send({ config: { secret: 'wrong-secret' } })).status).toBe(200);
    const res = await runImport();
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('Unauthorized');
    expect((await api().patch('/api/v1/psa-connections/at').set('Authorization', a.admin).send({ config: { secret: fake.credentials.secret } })).status).toBe(200);
  });
});
