import { createTestApp, type TestApp } from '../../helpers/app';
import { client, createCompany, tokenFor, type Client } from './admin-helpers';

// Issue "Admin API and operator surface" point 2 (SPEC §8): CRUD of companies, SLAs, services,
// bundles and devices, with company scope, audit rows and the database's constraints as 409/400.
// Every response below is also checked against the OpenAPI document by the client.
describe('admin resources', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
  });
  afterAll(async () => t.close());

  const auditRows = (entityType: string, entityId: string) =>
    t.db('audit_log').where({ entity_type: entityType, entity_id: entityId }).orderBy('id') as Promise<
      Array<{ action: string; actor: string; before: unknown; after: unknown; request_id: string | null; company_id: string | null }>
    >;

  describe('companies', () => {
    it('creates, reads, lists, updates and deletes a company with its source sites, each write audited', async () => {
      const created = await api.post('/companies', { name: 'Acme GmbH', code: 'ACME', sourceSites: [{ source: 'datto', siteId: 'site-1', siteName: 'HQ' }, { source: 'ninja', siteId: 42 }] });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^\d+$/),
        name: 'Acme GmbH',
        code: 'ACME',
        sourceSites: [
          { source: 'datto', siteId: 'site-1', siteName: 'HQ' },
          { source: 'ninja', siteId: '42', siteName: null },
        ],
      });

      expect((await api.get(`/companies/${id}`)).body).toEqual(created.body);

      const patched = await api.patch(`/companies/${id}`, { name: 'Acme AG', sourceSites: [{ source: 'datto', siteId: 'site-2' }] });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Acme AG', code: 'ACME', sourceSites: [{ source: 'datto', siteId: 'site-2', siteName: null }] });

      const bySite = await api.get('/companies?source=datto&siteId=site-2');
      expect(bySite.body.items.map((c: { id: string }) => c.id)).toEqual([id]);
      expect((await api.get('/companies?source=datto&siteId=site-1')).body.items).toEqual([]);

      const deleted = await api.delete(`/companies/${id}`);
      expect(deleted.status).toBe(204);
      expect((await api.get(`/companies/${id}`)).status).toBe(404);

      const rows = await auditRows('company', id);
      expect(rows.map((r) => r.action)).toEqual(['create', 'update', 'delete']);
      expect(rows[0]).toMatchObject({ actor: 'bootstrap-admin', company_id: id, before: null, after: expect.objectContaining({ name: 'Acme GmbH' }) });
      expect(rows[1]).toMatchObject({ before: expect.objectContaining({ name: 'Acme GmbH' }), after: expect.objectContaining({ name: 'Acme AG' }) });
      expect(rows[1]?.request_id).toEqual(expect.any(String));
      expect(rows[2]).toMatchObject({ before: expect.objectContaining({ name: 'Acme AG' }), after: null });
    });

    it('answers 409 DUPLICATE naming the field for a taken name, code or site mapping', async () => {
      await createCompany(api, 'Dup Co', { code: 'DUP', sourceSites: [{ source: 'datto', siteId: 'dup-site' }] });
      const byName = await api.post('/companies', { name: 'Dup Co' });
      expect(byName.status).toBe(409);
      expect(byName.body.error.code).toBe('DUPLICATE');
      expect(byName.body.error.message).toMatch(/^name: /);
      const byCode = await api.post('/companies', { name: 'Other', code: 'DUP' });
      expect(byCode.body.error.message).toMatch(/^code: /);
      const bySite = await api.post('/companies', { name: 'Other 2', sourceSites: [{ source: 'datto', siteId: 'dup-site' }] });
      expect(bySite.status).toBe(409);
      expect(bySite.body.error.message).toMatch(/^sourceSites: /);
      // Nothing half-stored: the failed company is not there without its sites.
      expect((await api.get('/companies?name=Other%202')).body.items).toEqual([]);
    });

    it('refuses the same site twice in one request, an empty PATCH and an empty name with 400 naming the field', async () => {
      const twice = await api.post('/companies', { name: 'Twice', sourceSites: [{ source: 'a', siteId: '1' }, { source: 'a', siteId: '1' }] });
      expect(twice.status).toBe(400);
      expect(twice.body.error.message).toMatch(/^body\.sourceSites\.1: duplicates sourceSites\[0\]/);
      const id = await createCompany(api, 'Patchme');
      const empty = await api.patch(`/companies/${id}`, {});
      expect(empty.status).toBe(400);
      expect(empty.body.error.message).toMatch(/at least one field/);
      const blank = await api.post('/companies', { name: '   ' });
      expect(blank.status).toBe(400);
      expect(blank.body.error.message).toMatch(/^body\.name: /);
    });

    it('deletes a company only while nothing belongs to it (409 CONFLICT), and 404s unknown or malformed ids', async () => {
      const id = await createCompany(api, 'Has Devices');
      expect((await api.post('/devices', { companyId: id, hostname: 'srv-1' })).status).toBe(201);
      const blocked = await api.delete(`/companies/${id}`);
      expect(blocked.status).toBe(409);
      expect(blocked.body.error.code).toBe('CONFLICT');
      expect(blocked.body.error.message).toMatch(/devices/);
      expect((await api.get('/companies/999999999')).status).toBe(404);
      expect((await api.get('/companies/abc')).status).toBe(404);
      expect((await api.get('/companies/99999999999999999999999')).status).toBe(404);
    });

    it('pages with a capped limit and a cursor that visits every row once', async () => {
      for (let i = 0; i < 5; i++) await createCompany(api, `Paged ${i}`);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await api.get(`/companies?name=Paged&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((c: { name: string }) => c.name));
        cursor = res.body.nextCursor as string | null;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(['Paged 0', 'Paged 1', 'Paged 2', 'Paged 3', 'Paged 4']);
      expect(pages).toBe(3);
      const tooMany = await api.get('/companies?limit=201');
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.message).toMatch(/^query\.limit: /);
      const unknownParam = await api.get('/companies?colour=red');
      expect(unknownParam.status).toBe(400);
      expect(unknownParam.body.error.message).toMatch(/colour/);
    });

    it('shows a company-scoped token only its companies, and lets it neither create nor delete companies', async () => {
      const mine = await createCompany(api, 'Scope Mine');
      const theirs = await createCompany(api, 'Scope Theirs');
      const scopedAdmin = await tokenFor(t, 'admin', [mine]);
      const list = await api.get('/companies?limit=200', scopedAdmin);
      expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([mine]);
      expect((await api.get(`/companies/${theirs}`, scopedAdmin)).status).toBe(404);
      expect((await api.patch(`/companies/${theirs}`, { name: 'Hijacked' }, scopedAdmin)).status).toBe(404);
      expect((await api.delete(`/companies/${theirs}`, scopedAdmin)).status).toBe(404);
      expect((await api.patch(`/companies/${mine}`, { code: 'MINE' }, scopedAdmin)).status).toBe(200);
      expect((await api.post('/companies', { name: 'New By Scoped' }, scopedAdmin)).status).toBe(403);
      expect((await api.delete(`/companies/${mine}`, scopedAdmin)).status).toBe(403);
    });
  });

  describe('SLAs', () => {
    const officeHours = {
      name: 'Office',
      code: 'OFFICE',
      timezone: 'Europe/Berlin',
      businessHours: { mon: [['08:00', '12:00'], ['13:00', '17:00']], fri: [['08:00', '24:00']] },
      holidays: ['2026-12-25', '2026-12-26'],
      targets: {
        critical: { firstResponseMinutes: 30, resolutionPlanMinutes: 120, resolutionMinutes: 480 },
        low: { firstResponseMinutes: 480, resolutionPlanMinutes: 960, resolutionMinutes: 2400 },
      },
    };

    it('R-LINK-5: stores an SLA with its calendar (zone, weekly hours, holidays) and targets, and reads it back as sent', async () => {
      const res = await api.post('/slas', officeHours);
      expect(res.status).toBe(201);
      const { id, createdAt, updatedAt, ...rest } = res.body as Record<string, unknown> & { id: string };
      expect(id).toMatch(/^\d+$/);
      expect(createdAt).toEqual(updatedAt);
      expect(rest).toEqual({ ...officeHours, psaRefs: {} });
      const hours = await t.db('sla_business_hours').where('sla_id', id).orderBy(['weekday', 'start_time']);
      expect(hours.map((h: { weekday: number; start_time: string }) => [h.weekday, h.start_time])).toEqual([
        [1, '08:00:00'],
        [1, '13:00:00'],
        [5, '08:00:00'],
      ]);
      expect((await api.get(`/slas/${id}`)).body).toEqual(res.body);
    });

    it('stores a 24x7 SLA without weekly rows', async () => {
      const res = await api.post('/slas', {
        name: 'Round the clock',
        timezone: 'UTC',
        businessHours: '24x7',
        targets: { high: { firstResponseMinutes: 15, resolutionPlanMinutes: 60, resolutionMinutes: 240 } },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ businessHours: '24x7', holidays: [], code: null });
      expect(await t.db('sla_business_hours').where('sla_id', res.body.id)).toEqual([]);
    });

    it.each([
      [{ timezone: 'Mars/Olympus' }, /^body\.timezone: .*IANA/],
      [{ businessHours: { mon: [['17:00', '08:00']] } }, /^body\.businessHours\.mon\.0: .*ends before it starts/],
      [{ businessHours: { mon: [['08:00', '12:00'], ['11:00', '13:00']] } }, /^body\.businessHours\.mon\.1: overlaps/],
      [{ businessHours: { monday: [['08:00', '12:00']] } }, /^body\.businessHours: /],
      [{ businessHours: { mon: [['8:00', '12:00']] } }, /^body\.businessHours/],
      [{ holidays: ['2026-02-30'] }, /^body\.holidays\.0: /],
      [{ targets: {} }, /^body\.targets: .*at least one priority/],
      [{ targets: { urgent: { firstResponseMinutes: 1, resolutionPlanMinutes: 1, resolutionMinutes: 1 } } }, /urgent/],
      [{ targets: { high: { firstResponseMinutes: -1, resolutionPlanMinutes: 1, resolutionMinutes: 1 } } }, /^body\.targets\.high\.firstResponseMinutes: /],
      [{ targets: { high: { firstResponseMinutes: 90, resolutionPlanMinutes: 10, resolutionMinutes: 60 } } }, /^body\.targets\.high\.firstResponseMinutes: must not exceed resolutionMinutes/],
    ])('R-LINK-5: refuses an invalid SLA (%j) with 400 naming the field', async (patch, message) => {
      const res = await api.post('/slas', { ...officeHours, name: `bad ${JSON.stringify(patch)}`, code: null, ...patch });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toMatch(message);
    });

    it('PATCH replaces the given parts, re-validates the merged calendar, and audits before/after', async () => {
      const created = await api.post('/slas', { ...officeHours, name: 'Patchable', code: 'PATCHABLE' });
      const id = created.body.id as string;
      const res = await api.patch(`/slas/${id}`, { timezone: 'America/New_York', holidays: [] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ timezone: 'America/New_York', holidays: [], businessHours: officeHours.businessHours, targets: officeHours.targets });
      const bad = await api.patch(`/slas/${id}`, { businessHours: { tue: [['10:00', '09:00']] } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^body\.businessHours\.tue\.0: /);
      const rows = await auditRows('sla', id);
      expect(rows.map((r) => r.action)).toEqual(['create', 'update']);
      expect(rows[1]?.before).toMatchObject({ timezone: 'Europe/Berlin' });
      expect(rows[1]?.after).toMatchObject({ timezone: 'America/New_York' });
    });

    it('deletes an unused SLA; a duplicate name is 409 naming name', async () => {
      const created = await api.post('/slas', { ...officeHours, name: 'Doomed', code: 'DOOMED' });
      const dup = await api.post('/slas', { ...officeHours, name: 'Doomed', code: 'DOOMED2' });
      expect(dup.status).toBe(409);
      expect(dup.body.error.message).toMatch(/^name: /);
      expect((await api.delete(`/slas/${created.body.id as string}`)).status).toBe(204);
      expect((await api.get(`/slas/${created.body.id as string}`)).status).toBe(404);
    });

    it('is visible to a scoped viewer, but a scoped admin cannot change the global SLAs', async () => {
      const c = await createCompany(api, 'SLA Reader');
      const viewer = await tokenFor(t, 'viewer', [c]);
      const scopedAdmin = await tokenFor(t, 'admin', [c]);
      expect((await api.get('/slas', viewer)).body.items.length).toBeGreaterThan(0);
      const res = await api.post('/slas', { ...officeHours, name: 'By scoped', code: null }, scopedAdmin);
      expect(res.status).toBe(403);
    });
  });

  describe('services and bundles', () => {
    it('creates, updates and lists services; money is exact to 4 decimals and never negative', async () => {
      const res = await api.post('/services', { name: 'Managed server', code: 'MS', unitPrice: 49.5, unitCost: '20.1250' });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'Managed server', code: 'MS', unitPrice: 49.5, unitCost: 20.125 });
      const id = res.body.id as string;
      const patched = await api.patch(`/services/${id}`, { unitPrice: '55', unitCost: null });
      expect(patched.body).toMatchObject({ unitPrice: 55, unitCost: null });
      expect((await api.get('/services?code=MS')).body.items.map((s: { id: string }) => s.id)).toEqual([id]);

      const negative = await api.post('/services', { name: 'Neg', unitPrice: -1 });
      expect(negative.status).toBe(400);
      expect(negative.body.error.message).toMatch(/^body\.unitPrice: /);
      const fractions = await api.post('/services', { name: 'Frac', unitPrice: 1.23456 });
      expect(fractions.status).toBe(400);
      expect(fractions.body.error.message).toMatch(/^body\.unitPrice: /);
      const missing = await api.post('/services', { name: 'No price' });
      expect(missing.status).toBe(400);
      expect(missing.body.error.message).toMatch(/^body\.unitPrice: /);
    });

    it('creates a bundle of services; an unknown service id is 400 naming serviceIds, a used service cannot be deleted', async () => {
      const a = (await api.post('/services', { name: 'Backup', unitPrice: 10 })).body.id as string;
      const b = (await api.post('/services', { name: 'Monitoring', unitPrice: 5 })).body.id as string;
      const bundle = await api.post('/service-bundles', { name: 'Care pack', serviceIds: [a, Number(b)], unitPrice: 12 });
      expect(bundle.status).toBe(201);
      expect(bundle.body).toMatchObject({ name: 'Care pack', serviceIds: [a, b].sort((x, y) => Number(x) - Number(y)), unitPrice: 12, unitCost: null });

      const unknown = await api.post('/service-bundles', { name: 'Ghost pack', serviceIds: ['999999'], unitPrice: 1 });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toMatch(/^serviceIds: /);
      expect((await api.get('/service-bundles?name=Ghost')).body.items).toEqual([]);

      const twice = await api.post('/service-bundles', { name: 'Twice pack', serviceIds: [a, a], unitPrice: 1 });
      expect(twice.status).toBe(400);
      expect(twice.body.error.message).toMatch(/^body\.serviceIds\.1: /);

      const inUse = await api.delete(`/services/${a}`);
      expect(inUse.status).toBe(409);

      const id = bundle.body.id as string;
      const patched = await api.patch(`/service-bundles/${id}`, { serviceIds: [b] });
      expect(patched.body.serviceIds).toEqual([b]);
      expect((await api.get(`/service-bundles?serviceId=${a}`)).body.items).toEqual([]);
      expect((await api.delete(`/services/${a}`)).status).toBe(204);
      expect((await api.delete(`/service-bundles/${id}`)).status).toBe(204);
      expect((await auditRows('service_bundle', id)).map((r) => r.action)).toEqual(['create', 'update', 'delete']);
    });
  });

  describe('devices', () => {
    let acme: string;
    let globex: string;
    beforeAll(async () => {
      acme = await createCompany(api, 'Device Acme');
      globex = await createCompany(api, 'Device Globex');
    });

    it('R-LINK-8: creates a device with source refs and shows its contract links (contract, service, from, to)', async () => {
      const res = await api.post('/devices', { companyId: acme, hostname: 'MAIL01', site: 'HQ', role: 'mail server', sourceRefs: [{ source: 'datto', deviceId: 'uid-1' }] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ companyId: acme, hostname: 'MAIL01', discovered: false, sourceRefs: [{ source: 'datto', deviceId: 'uid-1' }], links: [] });
      const id = res.body.id as string;

      // Links are written by the contracts module; here they only need to be shown.
      const [service] = await t.db('services').insert({ name: 'Mail care', unit_price: '1' }).returning('id');
      const [contract] = await t
        .db('contracts')
        .insert({ company_id: acme, name: 'Mail contract', type: 'recurring_service', period_type: 'yearly', start_date: '2026-01-01', end_date: '2026-12-31' })
        .returning('id');
      await t.db('device_contract_links').insert([
        { device_id: id, contract_id: contract.id, service_id: service.id, valid_from: '2026-01-01', valid_to: '2026-06-30' },
        { device_id: id, contract_id: contract.id, service_id: null, valid_from: '2026-07-01', valid_to: null },
      ]);
      const got = await api.get(`/devices/${id}`);
      expect(got.body.links).toEqual([
        { id: expect.any(String), contractId: String(contract.id), serviceId: String(service.id), from: '2026-01-01', to: '2026-06-30' },
        { id: expect.any(String), contractId: String(contract.id), serviceId: null, from: '2026-07-01', to: null },
      ]);
    });

    it('filters by company, hostname (case-insensitive), source and discovered', async () => {
      await api.post('/devices', { companyId: globex, hostname: 'gx-web', sourceRefs: [{ source: 'ninja', deviceId: 7 }] });
      await t.db('devices').insert({ company_id: globex, hostname: 'gx-found', discovered: true });
      const byCompany = await api.get(`/devices?companyId=${globex}`);
      expect(byCompany.body.items.map((d: { hostname: string }) => d.hostname)).toEqual(['gx-web', 'gx-found']);
      expect((await api.get('/devices?hostname=GX-WEB')).body.items.map((d: { hostname: string }) => d.hostname)).toEqual(['gx-web']);
      expect((await api.get('/devices?source=ninja')).body.items.map((d: { hostname: string }) => d.hostname)).toEqual(['gx-web']);
      expect((await api.get(`/devices?companyId=${globex}&discovered=true`)).body.items.map((d: { hostname: string }) => d.hostname)).toEqual(['gx-found']);
      expect((await api.get('/devices?discovered=yes')).status).toBe(400);
    });

    it('409s a duplicate hostname within a company and a source ref already used; 400s an unknown company', async () => {
      await api.post('/devices', { companyId: acme, hostname: 'dup-host', sourceRefs: [{ source: 'datto', deviceId: 'dup-ref' }] });
      const host = await api.post('/devices', { companyId: acme, hostname: 'DUP-HOST' });
      expect(host.status).toBe(409);
      expect(host.body.error.message).toMatch(/^hostname: /);
      const ref = await api.post('/devices', { companyId: globex, hostname: 'other', sourceRefs: [{ source: 'datto', deviceId: 'dup-ref' }] });
      expect(ref.status).toBe(409);
      expect(ref.body.error.message).toMatch(/^sourceRefs: /);
      const noCompany = await api.post('/devices', { companyId: '999999', hostname: 'x' });
      expect(noCompany.status).toBe(400);
      expect(noCompany.body.error.message).toMatch(/^companyId: /);
      // The same hostname in another company is another device.
      expect((await api.post('/devices', { companyId: globex, hostname: 'dup-host' })).status).toBe(201);
    });

    it('updates (triage of a discovered device) and deletes a device, audited with its company', async () => {
      const [row] = await t.db('devices').insert({ company_id: null, hostname: 'stray', discovered: true }).returning('id');
      const id = String(row.id);
      const res = await api.patch(`/devices/${id}`, { companyId: acme, discovered: false, role: 'printer' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ companyId: acme, discovered: false, role: 'printer' });
      expect((await api.delete(`/devices/${id}`)).status).toBe(204);
      const rows = await auditRows('device', id);
      expect(rows.map((r) => [r.action, r.company_id])).toEqual([
        ['update', acme],
        ['delete', acme],
      ]);
    });

    it('keeps a scoped token inside its companies: lists filtered, other devices 404, no creating for other companies', async () => {
      const scoped = await tokenFor(t, 'admin', [acme]);
      const list = await api.get('/devices?limit=200', scoped);
      expect(list.body.items.length).toBeGreaterThan(0);
      expect(list.body.items.every((d: { companyId: string }) => d.companyId === acme)).toBe(true);
      const other = (await api.get(`/devices?companyId=${globex}`)).body.items[0] as { id: string };
      expect((await api.get(`/devices/${other.id}`, scoped)).status).toBe(404);
      expect((await api.patch(`/devices/${other.id}`, { role: 'x' }, scoped)).status).toBe(404);
      expect((await api.delete(`/devices/${other.id}`, scoped)).status).toBe(404);
      const create = await api.post('/devices', { companyId: globex, hostname: 'sneaky' }, scoped);
      expect(create.status).toBe(400);
      expect(create.body.error.message).toBe(`companyId: company ${globex} not found`);
      const move = (await api.get('/devices?limit=200', scoped)).body.items[0] as { id: string };
      expect((await api.patch(`/devices/${move.id}`, { companyId: globex }, scoped)).status).toBe(400);
      expect((await api.post('/devices', { companyId: acme, hostname: 'allowed' }, scoped)).status).toBe(201);
    });
  });

  describe('audit', () => {
    it('filters by entity, action, actor and time, newest first; a scoped token sees only its companies’ rows', async () => {
      const c = await createCompany(api, 'Audited');
      await api.patch(`/companies/${c}`, { code: 'AUD' });
      const res = await api.get(`/audit?entityType=company&entityId=${c}`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((r: { action: string }) => r.action)).toEqual(['update', 'create']);
      expect(res.body.items[0]).toMatchObject({ actor: 'bootstrap-admin', entityType: 'company', entityId: c, companyId: c, requestId: expect.any(String) });

      expect((await api.get(`/audit?entityType=company&entityId=${c}&action=create`)).body.items).toHaveLength(1);
      expect((await api.get(`/audit?entityId=${c}&actor=nobody`)).body.items).toEqual([]);
      expect((await api.get(`/audit?entityId=${c}&since=2999-01-01T00:00:00Z`)).body.items).toEqual([]);
      expect((await api.get(`/audit?entityId=${c}&until=2000-01-01T00:00:00Z`)).body.items).toEqual([]);
      expect((await api.get('/audit?since=yesterday')).status).toBe(400);

      const other = await createCompany(api, 'Audited other');
      const scoped = await tokenFor(t, 'viewer', [c]);
      const seen = (await api.get('/audit?limit=200', scoped)).body.items as Array<{ companyId: string | null }>;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((r) => r.companyId === c)).toBe(true);
      expect((await api.get(`/audit?entityId=${other}`, scoped)).body.items).toEqual([]);
    });

    it('pages newest first with a cursor', async () => {
      const first = await api.get('/audit?limit=3');
      expect(first.body.items).toHaveLength(3);
      const second = await api.get(`/audit?limit=3&cursor=${first.body.nextCursor as string}`);
      const ids = [...first.body.items, ...second.body.items].map((r: { id: string }) => Number(r.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
});
