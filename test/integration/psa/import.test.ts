import request from 'supertest';
import { createTestApp, type TestApp } from '../../helpers/app';
import { FakeConnectWise } from '../../helpers/fake-connectwise';
import { insertRow } from '../../helpers/seed';

/**
 * R-PSA-4 and R-LINK-1 over HTTP (`POST /api/v1/psa-connections/:name/import`) on the real
 * Postgres, reading from the fake ConnectWise: companies, SLAs, services, contracts (with their
 * services and SLA) and configuration items become hub records with their psaRefs, each item
 * linked to its contract; refused records say why; a second run changes nothing; a dry run writes nothing.
 */
let a: TestApp;
let cw: FakeConnectWise;

const api = () => request(a.app);
const runImport = (body: Record<string, unknown> = {}) => api().post('/api/v1/psa-connections/cw/import').set('Authorization', a.admin).send(body);

function seedPsa(fake: FakeConnectWise): void {
  fake.companies = [
    { id: 250, identifier: 'Contoso', name: 'Contoso Ltd', deletedFlag: false },
    { id: 251, identifier: 'Fabrikam', name: 'Fabrikam GmbH', deletedFlag: false },
  ];
  fake.slas = [
    { id: 3, name: 'Premium 24x7' },
    { id: 4, name: 'Gold (PSA only)' },
  ];
  fake.catalog = [
    { id: 55, identifier: 'Server management', description: 'Managed server', price: 120 },
    { id: 56, identifier: 'Backup', description: 'Backup', price: 15.5, cost: 4 },
  ];
  fake.agreements = [
    {
      id: 77,
      name: 'Server care',
      company: { id: 250 },
      startDate: '2026-01-01T00:00:00Z',
      endDate: '2026-12-31T00:00:00Z',
      sla: { id: 3 },
      applicationCycle: 'Monthly',
      cancelledFlag: false,
      additions: [
        { id: 1, product: { id: 55 }, quantity: 2, unitPrice: 110 },
        { id: 2, product: { id: 56 }, quantity: 5, unitPrice: 15.5 },
      ],
      configurations: [901, 902],
    },
    { id: 78, name: 'Open-ended', company: { id: 251 }, startDate: '2026-01-01T00:00:00Z', endDate: null, cancelledFlag: false, additions: [], configurations: [] },
  ];
  fake.configurations = [
    { id: 901, name: 'FS01', company: { id: 250 }, serialNumber: null, activeFlag: true },
    { id: 902, name: 'MAIL01', company: { id: 250 }, serialNumber: null, activeFlag: true },
    { id: 903, name: 'STRAY', company: { id: 999 }, serialNumber: null, activeFlag: true },
  ];
}

beforeAll(async () => {
  a = await createTestApp();
  cw = await new FakeConnectWise().start();
  seedPsa(cw);
  // Hand-made hub records the import must match by name rather than duplicate.
  await insertRow(a.db, 'slas', { name: 'Premium 24x7', timezone: 'Europe/Berlin', is_24x7: true });
  await insertRow(a.db, 'companies', { name: 'fabrikam gmbh' });
  const res = await api().post('/api/v1/psa-connections').set('Authorization', a.admin).send({ name: 'cw', type: 'connectwise', enabled: true, config: cw.config() });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await cw.stop();
  await a.close();
});

describe('PSA import (R-PSA-4)', () => {
  it('a dry run plans everything and writes nothing', async () => {
    const res = await runImport({ dryRun: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, counts: { company: { created: 1, updated: 1 }, contract: { created: 1, refused: 1 }, device: { created: 2, refused: 1 } } });
    expect(await a.db('companies').count({ n: '*' }).first()).toEqual({ n: '1' });
    expect(await a.db('contracts').count({ n: '*' }).first()).toEqual({ n: '0' });
  });

  it('R-PSA-4, R-LINK-1: creates and links the records with their psaRefs, links each configuration item to its contract, says what it refused', async () => {
    const res = await runImport();
    expect(res.status).toBe(200);
    expect(res.body.counts).toEqual({
      company: { created: 1, updated: 1, unchanged: 0, refused: 0 },
      sla: { created: 0, updated: 1, unchanged: 0, refused: 1 },
      service: { created: 2, updated: 0, unchanged: 0, refused: 0 },
      contract: { created: 1, updated: 0, unchanged: 0, refused: 1 },
      device: { created: 2, updated: 0, unchanged: 0, refused: 1 },
    });
    expect(res.body.refused).toEqual(
      expect.arrayContaining([
        { kind: 'sla', externalId: '4', name: 'Gold (PSA only)', reason: expect.stringContaining('no SLA named') },
        { kind: 'contract', externalId: '78', name: 'Open-ended', reason: expect.stringContaining('no end date') },
        { kind: 'device', externalId: '903', name: 'STRAY', reason: expect.stringContaining('company 999') },
      ]),
    );
    expect(res.body.linkErrors).toEqual([]);

    const company = await a.db('companies').where({ name: 'Contoso Ltd' }).first();
    expect(company.psa_refs).toEqual({ cw: '250' });
    // Matched by name (case-insensitive), given the PSA's spelling and its ref: no duplicate.
    expect(await a.db('companies').where('name', 'ilike', 'fabrikam gmbh').select('name', 'psa_refs')).toEqual([{ name: 'Fabrikam GmbH', psa_refs: { cw: '251' } }]);
    const sla = await a.db('slas').where({ name: 'Premium 24x7' }).first();
    expect(sla.psa_refs).toEqual({ cw: '3' });
    const contract = await a.db('contracts').where({ name: 'Server care' }).first();
    expect(contract).toMatchObject({ company_id: company.id, start_date: '2026-01-01', end_date: '2026-12-31', sla_id: sla.id, period_type: 'monthly', psa_refs: { cw: '77' } });
    const lines = await a.db('contract_services').where({ contract_id: contract.id }).orderBy('unit_price');
    expect(lines.map((l) => [l.units, l.unit_price])).toEqual([
      ['5.0000', '15.5000'],
      ['2.0000', '110.0000'],
    ]);
    // Over the API too: the contract's psaRefs, the device's link (R-LINK-1).
    const got = await api().get(`/api/v1/contracts/${contract.id}`).set('Authorization', a.admin);
    expect(got.body.psaRefs).toEqual({ cw: '77' });
    const fs01 = await a.db('devices').where({ hostname: 'FS01' }).first();
    expect(fs01).toMatchObject({ company_id: company.id, psa_refs: { cw: '901' } });
    const device = await api().get(`/api/v1/devices/${fs01.id}`).set('Authorization', a.admin);
    expect(device.body.links).toEqual([expect.objectContaining({ contractId: String(contract.id) })]);
    expect(await a.db('audit_log').where({ action: 'import', entity_type: 'psa_connection', entity_id: 'cw' }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('is idempotent: a second run changes nothing; a name changed in the PSA is updated', async () => {
    const again = await runImport();
    expect(again.body.counts).toEqual({
      company: { created: 0, updated: 0, unchanged: 2, refused: 0 },
      sla: { created: 0, updated: 0, unchanged: 1, refused: 1 },
      service: { created: 0, updated: 0, unchanged: 2, refused: 0 },
      contract: { created: 0, updated: 0, unchanged: 1, refused: 1 },
      device: { created: 0, updated: 0, unchanged: 2, refused: 1 },
    });
    expect(await a.db('device_contract_links').count({ n: '*' }).first()).toEqual({ n: '2' });
    cw.companies[0]!.name = 'Contoso Limited';
    const renamed = await runImport();
    expect(renamed.body.counts.company).toEqual({ created: 0, updated: 1, unchanged: 1, refused: 0 });
    expect(await a.db('companies').where({ name: 'Contoso Limited' }).count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('reads every page of a large PSA (paginated)', async () => {
    cw.companies.push(...Array.from({ length: 300 }, (_, i) => ({ id: 5000 + i, identifier: `X${i}`, name: `Bulk ${i}`, deletedFlag: false })));
    const res = await runImport();
    expect(res.body.counts.company.created).toBe(300);
    expect(cw.requests.some((r) => r.path === '/company/companies' && r.query.get('page') === '2')).toBe(true);
  });

  it('answers 404 for an unknown connection and refuses a non-admin token', async () => {
    expect((await api().post('/api/v1/psa-connections/nope/import').set('Authorization', a.admin).send({})).status).toBe(404);
    const token = await api().post('/api/v1/tokens').set('Authorization', a.admin).send({ name: 'op', role: 'operator' });
    expect(token.status).toBe(201);
    expect((await api().post('/api/v1/psa-connections/cw/import').set('Authorization', `Bearer ${token.body.token}`).send({})).status).toBe(403);
  });
});
