import type { Knex } from 'knex';
import { parseRulesFileWindows, type MatchableWindow } from '../../../core/maintenance/window-match';
import { findActiveWindow, insertMaintenanceWindow, type MaintenanceWindowWrite } from '../../../db/queries/maintenance-windows';
import { rulesetWindows } from '../../../app/maintenance/ruleset-windows';
import type { CompiledRuleset } from '../../../rules/engine/compile';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { defaultRuleset, deliver, genericAlert, processWithWindows } from './maintenance-helpers';

// Issue point 6 with R-ALR-3: which window silences a firing alert — API windows and the live
// ruleset's windows alike, by scope (company, site, device, category) and time (Alertmanager
// time_intervals in the window's zone); a resolve always passes.
describe('maintenance window matching in the worker', () => {
  let t: TestDatabase;
  let db: Knex;
  let world: World;
  let source: { id: string; name: string };
  let ruleset: CompiledRuleset;
  const secretKey = process.env.HUB_SECRET_KEY ?? '';

  const window = (over: Partial<MaintenanceWindowWrite>): MaintenanceWindowWrite => ({
    name: 'w',
    companyId: null,
    site: null,
    deviceId: null,
    category: null,
    timezone: 'UTC',
    timeIntervals: [],
    startsAt: null,
    endsAt: new Date('2030-01-01T00:00:00Z'),
    processAfter: false,
    ...over,
  });

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    const s = await createSource(db, secretKey, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    source = { id: s.id, name: 'rmm' };
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    ruleset = await defaultRuleset();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => {
    await db.raw('TRUNCATE maintenance_windows, tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
  });

  const check = (over: { category?: string | null; site?: string | null; hostname?: string | null; deviceId?: string | null; companyId?: string | null; at: string }, rules: MatchableWindow[] = []) =>
    findActiveWindow(
      db,
      {
        alert: { category: over.category === undefined ? 'disk' : over.category, site: over.site === undefined ? 'acme-hq' : over.site, hostname: over.hostname === undefined ? 'mail01' : over.hostname },
        companyId: over.companyId === undefined ? world.company.id : over.companyId,
        deviceId: over.deviceId === undefined ? world.mailServer.id : over.deviceId,
        at: new Date(over.at),
      },
      rules,
    );

  it('matches API windows by every scope field they set and by their one-off bounds', async () => {
    await insertMaintenanceWindow(db, window({ name: 'acme disks', companyId: world.company.id, category: 'disk', startsAt: new Date('2026-03-10T09:00:00Z'), endsAt: new Date('2026-03-10T11:00:00Z') }));
    expect((await check({ at: '2026-03-10T10:00:00Z' }))?.name).toBe('acme disks');
    expect(await check({ at: '2026-03-10T11:00:00Z' })).toBeNull(); // endsAt exclusive
    expect(await check({ at: '2026-03-10T08:59:59Z' })).toBeNull();
    expect(await check({ at: '2026-03-10T10:00:00Z', category: 'backup' })).toBeNull();
    expect(await check({ at: '2026-03-10T10:00:00Z', companyId: null, deviceId: null })).toBeNull();
  });

  it('matches by site (the alert site or the device site) and by device', async () => {
    await insertMaintenanceWindow(db, window({ name: 'hq', site: 'ACME-HQ' }));
    await insertMaintenanceWindow(db, window({ name: 'printer', deviceId: world.printer.id }));
    await db('devices').where({ id: world.printer.id }).update({ site: 'branch' });
    expect((await check({ at: '2026-03-10T10:00:00Z' }))?.name).toBe('hq');
    // The alert says another site, but mail01 is recorded at acme-hq.
    expect((await check({ at: '2026-03-10T10:00:00Z', site: 'branch' }))?.name).toBe('hq');
    expect((await check({ at: '2026-03-10T10:00:00Z', site: 'branch', deviceId: world.printer.id }))?.name).toBe('printer');
    expect(await check({ at: '2026-03-10T10:00:00Z', site: 'branch', deviceId: null })).toBeNull();
  });

  it('matches recurring windows in the window\'s zone (Saturday 22:00–24:00 Berlin)', async () => {
    await insertMaintenanceWindow(
      db,
      window({ name: 'patch night', timezone: 'Europe/Berlin', endsAt: null, timeIntervals: [{ weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] }] }),
    );
    expect((await check({ at: '2026-03-07T21:30:00Z' }))?.name).toBe('patch night'); // Sat 22:30 CET
    expect(await check({ at: '2026-03-07T20:30:00Z' })).toBeNull(); // Sat 21:30 CET
    expect(await check({ at: '2026-03-08T21:30:00Z' })).toBeNull(); // Sunday
  });

  it("matches the live ruleset's windows (company by code, device by hostname) beside the API's", async () => {
    const { windows, issues } = parseRulesFileWindows([
      { file: '50-maint.json', window: { name: 'acme mail01', company: 'ACME', device: 'MAIL01', timezone: 'UTC', endsAt: '2030-01-01T00:00:00Z' } },
      { file: '50-maint.json', window: { name: 'other co', company: 'NOPE', timezone: 'UTC', endsAt: '2030-01-01T00:00:00Z' } },
    ]);
    expect(issues).toEqual([]);
    expect((await check({ at: '2026-03-10T10:00:00Z' }, windows))?.name).toBe('acme mail01');
    expect(await check({ at: '2026-03-10T10:00:00Z', deviceId: world.printer.id, hostname: 'printer-3og' }, windows)).toBeNull();
    // rulesetWindows reads what the rules engine passes through and caches per ruleset.
    const fake = { source: { maintenanceWindows: [{ file: 'x.json', window: { name: 'bad', timezone: 'UTC' } }] } };
    expect(rulesetWindows(fake).issues).toEqual([expect.objectContaining({ file: 'x.json', pointer: '/maintenanceWindows/0/endsAt' })]);
    expect(rulesetWindows(fake)).toBe(rulesetWindows(fake));
  });

  it('R-ALR-3: the worker stores a silenced alert as suppressed with its window; a resolve always passes and resolves the ticket', async () => {
    await insertMaintenanceWindow(db, window({ name: 'mail01 maintenance', deviceId: world.mailServer.id, startsAt: new Date('2026-03-10T09:00:00Z'), endsAt: new Date('2026-03-10T11:00:00Z') }));
    // A ticket opened before the window…
    const before = await deliver(db, source, genericAlert({ alertId: 'cpu', category: 'cpu', occurredAt: '2026-03-10T08:00:00Z' }));
    const opened = await processWithWindows(db, ruleset, before.receiptId);
    expect(opened.outcome).toBe('ticket_created');
    // …an alert inside the window is silenced (stored, listed, not dropped)…
    const inside = await deliver(db, source, genericAlert({ alertId: 'disk', occurredAt: '2026-03-10T10:00:00Z' }));
    expect((await processWithWindows(db, ruleset, inside.receiptId)).outcome).toBe('maintenance');
    const receipt = await db('alert_receipts').where({ id: inside.receiptId }).first();
    expect(receipt).toMatchObject({ outcome: 'maintenance', maintenance_window_key: expect.stringMatching(/^api:\d+$/) });
    expect(receipt.maintenance_window).toMatchObject({ name: 'mail01 maintenance', origin: 'api', processAfter: false });
    expect(await db('alerts').where({ id: inside.alertId }).first()).toMatchObject({ status: 'suppressed', outcome: 'maintenance', ticket_id: null });
    // …and the resolve of the earlier alert, inside the window, still resolves its ticket.
    const resolve = await deliver(db, source, genericAlert({ alertId: 'cpu', category: 'cpu', state: 'resolved', occurredAt: '2026-03-10T10:30:00Z' }));
    const resolved = await processWithWindows(db, ruleset, resolve.receiptId);
    expect(resolved).toMatchObject({ outcome: 'resolved', ticketId: opened.ticketId });
    expect(await db('tickets').where({ id: opened.ticketId }).first()).toMatchObject({ status: 'resolved' });
  });

  it("the worker silences by the live ruleset's windows too, recording the rules file", async () => {
    const { windows } = parseRulesFileWindows([{ file: '50-maint.json', window: { name: 'disk freeze', category: 'disk', timezone: 'UTC', endsAt: '2030-01-01T00:00:00Z' } }]);
    const a = await deliver(db, source, genericAlert({ alertId: 'disk-r' }));
    expect((await processWithWindows(db, ruleset, a.receiptId, windows)).outcome).toBe('maintenance');
    expect((await db('alert_receipts').where({ id: a.receiptId }).first()).maintenance_window).toMatchObject({ key: 'rules:disk freeze', origin: 'rules', file: '50-maint.json' });
  });
});
