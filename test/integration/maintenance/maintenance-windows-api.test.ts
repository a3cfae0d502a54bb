import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource, insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { defaultRuleset, deliver, genericAlert, processWithWindows } from './maintenance-helpers';
import type { CompiledRuleset } from '../../../rules/engine/compile';

// Issue point 6: maintenance windows through POST /api/v1/maintenance-windows — strict bodies,
// a window that would suppress forever refused naming the field, company scope, audit of every
// write, and the alerts a window silenced listed under it (R-ALR-3: nothing is dropped).
describe('maintenance windows API', () => {
  let t: TestApp;
  let api: Client;
  let world: World;
  let other: { id: string };
  let source: { id: string; name: string };
  let ruleset: CompiledRuleset;

  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
    const s = await createSource(t.db, t.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    source = { id: s.id, name: 'rmm' };
    world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
    other = await insertRow(t.db, 'companies', { name: 'Other Ltd', code: 'OTHER' });
    ruleset = await defaultRuleset();
  });
  afterAll(async () => t.close());

  const patchNight = () => ({
    name: 'ACME patch night',
    companyId: world.company.id,
    category: 'disk',
    timezone: 'Europe/Berlin',
    timeIntervals: [{ weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] }],
    processAfter: true,
  });

  const auditRows = (id: string) =>
    t.db('audit_log').where({ entity_type: 'maintenance_window', entity_id: id }).orderBy('id') as Promise<Array<{ action: string; company_id: string | null; before: unknown; after: unknown }>>;

  it('creates, reads, lists, updates and deletes a window, each write audited', async () => {
    const created = await api.post('/maintenance-windows', patchNight());
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({
      name: 'ACME patch night',
      companyId: world.company.id,
      site: null,
      deviceId: null,
      category: 'disk',
      timezone: 'Europe/Berlin',
      timeIntervals: [{ weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] }],
      startsAt: null,
      endsAt: null,
      processAfter: true,
      inForce: expect.any(Boolean),
    });
    expect((await api.get(`/maintenance-windows/${id}`)).body).toEqual(created.body);
    expect((await api.get(`/maintenance-windows?companyId=${world.company.id}`)).body.items.map((w: { id: string }) => w.id)).toContain(id);

    const patched = await api.patch(`/maintenance-windows/${id}`, { category: null, endsAt: '2030-01-01T00:00:00Z' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ category: null, endsAt: '2030-01-01T00:00:00.000Z', processAfter: true });

    expect((await api.delete(`/maintenance-windows/${id}`)).status).toBe(204);
    expect((await api.get(`/maintenance-windows/${id}`)).status).toBe(404);

    const rows = await auditRows(id);
    expect(rows.map((r) => r.action)).toEqual(['create', 'update', 'delete']);
    expect(rows[0]).toMatchObject({ company_id: world.company.id, before: null, after: expect.objectContaining({ category: 'disk' }) });
    expect(rows[1]).toMatchObject({ before: expect.objectContaining({ category: 'disk' }), after: expect.objectContaining({ category: null }) });
    expect(rows[2]).toMatchObject({ after: null, before: expect.objectContaining({ name: 'ACME patch night' }) });
  });

  it('refuses a window with neither endsAt nor timeIntervals (it would suppress forever) with a 400 naming the field', async () => {
    const res = await api.post('/maintenance-windows', { name: 'forever', timezone: 'UTC' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/^body\.endsAt: .*forever/);
    const onlyStart = await api.post('/maintenance-windows', { name: 'forever', timezone: 'UTC', startsAt: '2026-03-01T00:00:00Z' });
    expect(onlyStart.status).toBe(400);
    const unrestricted = await api.post('/maintenance-windows', { name: 'always', timezone: 'UTC', timeIntervals: [{ location: 'Europe/Berlin' }] });
    expect(unrestricted.status).toBe(400);
    expect(unrestricted.body.error.message).toMatch(/^body\.timeIntervals\.0: .*matches always/);
    // A PATCH that would leave the window unbounded is refused the same way.
    const ok = await api.post('/maintenance-windows', { name: 'one-off', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' });
    const unbounded = await api.patch(`/maintenance-windows/${ok.body.id as string}`, { endsAt: null });
    expect(unbounded.status).toBe(400);
    expect(unbounded.body.error.message).toMatch(/^endsAt: /);
  });

  it('refuses bad fields with 400 naming each: zone, times, instants, unknown keys, ends before start, device of another company', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'x', timezone: 'Mars/Olympus', endsAt: '2026-03-02T00:00:00Z' }, /^body\.timezone: /],
      [{ name: 'x', timezone: 'UTC', timeIntervals: [{ times: [{ start_time: '10:00', end_time: '09:00' }] }] }, /^body\.timeIntervals\.0\.times\.0\.end_time: /],
      [{ name: 'x', timezone: 'UTC', timeIntervals: [{ weekdays: ['saturday:sunday'] }] }, /^body\.timeIntervals\.0\.weekdays\.0: /],
      [{ name: 'x', timezone: 'UTC', endsAt: '2026-03-02 00:00' }, /^body\.endsAt: /],
      [{ name: 'x', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', start: 'now' }, /^body/],
      [{ name: 'x', timezone: 'UTC', startsAt: '2026-03-02T00:00:00Z', endsAt: '2026-03-01T00:00:00Z' }, /^body\.endsAt: must be after startsAt/],
      [{ name: 'x', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', companyId: other.id, deviceId: world.mailServer.id }, /^deviceId: .*another company/],
      [{ name: 'x', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', companyId: '999999' }, /^companyId: .*does not exist/],
      [{ name: 'x', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', deviceId: '999999' }, /^deviceId: .*does not exist/],
    ];
    for (const [body, message] of cases) {
      const res = await api.post('/maintenance-windows', body);
      expect({ body, status: res.status, message: res.body.error?.message }).toEqual({ body, status: 400, message: expect.stringMatching(message) });
    }
  });

  it('a company-scoped token sees and writes only its companies\' windows; viewers cannot write', async () => {
    const global = await api.post('/maintenance-windows', { name: 'global freeze', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' });
    const otherWindow = await api.post('/maintenance-windows', { name: 'other', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', companyId: other.id });
    const scoped = await tokenFor(t, 'operator', [world.company.id], 'acme operator');

    const mine = await api.post('/maintenance-windows', { name: 'acme only', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', companyId: world.company.id }, scoped);
    expect(mine.status).toBe(201);
    const noCompany = await api.post('/maintenance-windows', { name: 'all', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' }, scoped);
    expect(noCompany.status).toBe(400);
    expect(noCompany.body.error.message).toMatch(/^companyId: is required for a company-scoped token/);
    const foreign = await api.post('/maintenance-windows', { name: 'theirs', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z', companyId: other.id }, scoped);
    expect(foreign.status).toBe(404);

    const listed = (await api.get('/maintenance-windows?limit=200', scoped)).body.items.map((w: { id: string }) => w.id);
    expect(listed).toContain(mine.body.id);
    expect(listed).not.toContain(global.body.id);
    expect(listed).not.toContain(otherWindow.body.id);
    expect((await api.get(`/maintenance-windows/${otherWindow.body.id as string}`, scoped)).status).toBe(404);
    expect((await api.delete(`/maintenance-windows/${global.body.id as string}`, scoped)).status).toBe(404);
    // Moving one's window to another company is refused like creating it there.
    expect((await api.patch(`/maintenance-windows/${mine.body.id as string}`, { companyId: other.id }, scoped)).status).toBe(404);

    const viewer = await tokenFor(t, 'viewer');
    expect((await api.post('/maintenance-windows', { name: 'v', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' }, viewer)).status).toBe(403);
    expect((await api.get('/maintenance-windows', viewer)).status).toBe(200);
  });

  it('lists the alerts a window silenced under it, with their status (R-ALR-3: suppressed, not dropped)', async () => {
    const w = await api.post('/maintenance-windows', {
      name: 'mail01 disk swap',
      deviceId: world.mailServer.id,
      timezone: 'UTC',
      startsAt: '2026-03-10T09:00:00Z',
      endsAt: '2026-03-10T11:00:00Z',
    });
    expect(w.status).toBe(201);
    const inside = await deliver(t.db, source, genericAlert({ alertId: 'disk-a', occurredAt: '2026-03-10T10:00:00Z' }));
    const outside = await deliver(t.db, source, genericAlert({ alertId: 'disk-b', occurredAt: '2026-03-10T12:00:00Z' }));
    expect((await processWithWindows(t.db, ruleset, inside.receiptId)).outcome).toBe('maintenance');
    expect((await processWithWindows(t.db, ruleset, outside.receiptId)).outcome).toBe('ticket_created');

    const listed = await api.get(`/maintenance-windows/${w.body.id as string}/alerts`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ alertId: inside.alertId, receiptId: inside.receiptId, source: 'rmm', status: 'suppressed', outcome: 'maintenance', hostname: 'mail01', release: null, ticketId: null }),
    ]);
    const stored = await t.db('alerts').where({ id: inside.alertId }).first();
    expect(stored).toMatchObject({ status: 'suppressed', outcome: 'maintenance' });
  });
});
