import type { Knex } from 'knex';
import { parseRulesFileWindows } from '../../../core/maintenance/window-match';
import { insertMaintenanceWindow, type MaintenanceWindowWrite } from '../../../db/queries/maintenance-windows';
import { listWindowAlerts } from '../../../db/queries/window-receipts';
import { claimUnenqueuedReceipts } from '../../../db/queries/inbox';
import { createLogger } from '../../../lib/logger';
import type { CompiledRuleset } from '../../../rules/engine/compile';
import { processEndedWindows, type WindowEndDeps } from '../../../app/maintenance/process-ended-windows';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { defaultRuleset, deliver, genericAlert, processWithWindows } from './maintenance-helpers';

// Issue point 6, processAfter: alerts a window silenced that are still firing when it ends are
// processed then — once (idempotent, concurrent runs included), never when a resolve came first,
// and only the latest firing of a condition.
describe('processAfter: releasing what a window held when it ends', () => {
  let t: TestDatabase;
  let db: Knex;
  let world: World;
  let source: { id: string; name: string };
  let ruleset: CompiledRuleset;
  const logger = createLogger('silent');

  const WINDOW = { start: new Date('2026-03-10T09:00:00Z'), end: new Date('2026-03-10T11:00:00Z') };
  const during = new Date('2026-03-10T10:30:00Z');
  const after = new Date('2026-03-10T11:00:00Z');

  const window = (over: Partial<MaintenanceWindowWrite> = {}): MaintenanceWindowWrite => ({
    name: 'mail01 swap',
    companyId: world.company.id,
    site: null,
    deviceId: world.mailServer.id,
    category: null,
    timezone: 'UTC',
    timeIntervals: [],
    startsAt: WINDOW.start,
    endsAt: WINDOW.end,
    processAfter: true,
    ...over,
  });

  const runAt = (now: Date, extra: Partial<WindowEndDeps> = {}) => {
    const enqueued: string[][] = [];
    const run = processEndedWindows({ db, logger, now: () => now, enqueue: async (ids) => void enqueued.push(ids), ...extra });
    return { run, enqueued };
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.db;
    const s = await createSource(db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    source = { id: s.id, name: 'rmm' };
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    ruleset = await defaultRuleset();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => {
    await db.raw('TRUNCATE maintenance_windows, tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
  });

  async function silenced(alertId: string, occurredAt = '2026-03-10T10:00:00Z') {
    const a = await deliver(db, source, genericAlert({ alertId, occurredAt }));
    const r = await processWithWindows(db, ruleset, a.receiptId);
    expect(r.outcome).toBe('maintenance');
    await db('alert_receipts').where({ id: a.receiptId }).update({ enqueued_at: new Date() });
    return a;
  }

  it('holds while the window is in force, then re-opens a still-firing alert once; the worker then opens its ticket', async () => {
    await insertMaintenanceWindow(db, window());
    const a = await silenced('disk');

    const early = runAt(during);
    expect(await early.run).toMatchObject({ examined: 1, waiting: 1, requeued: [] });
    expect(early.enqueued).toEqual([]);

    const first = runAt(after);
    expect(await first.run).toMatchObject({ examined: 1, requeued: [a.receiptId], waiting: 0 });
    expect(first.enqueued).toEqual([[a.receiptId]]);
    const receipt = await db('alert_receipts').where({ id: a.receiptId }).first();
    expect(receipt).toMatchObject({ window_release: 'requeued', processed_at: null, enqueued_at: null, outcome: null, maintenance_window_key: expect.stringMatching(/^api:/) });
    expect(receipt.window_released_at).toEqual(after);
    // Back in the outbox: the relay enqueues it even if `enqueue` failed.
    expect(await claimUnenqueuedReceipts(db, { graceSeconds: 0, limit: 10 })).toEqual([a.receiptId]);

    // Idempotent: a second run releases nothing more.
    const second = runAt(new Date('2026-03-10T12:00:00Z'));
    expect(await second.run).toMatchObject({ examined: 0, requeued: [] });
    expect(second.enqueued).toEqual([]);

    // The worker processes it normally (its own time is still inside the window: it must not be silenced again).
    const processed = await processWithWindows(db, ruleset, a.receiptId);
    expect(processed.outcome).toBe('ticket_created');
    expect(await db('tickets').where({ id: processed.ticketId }).first()).toMatchObject({ contract_id: world.mailContract.id, device_id: world.mailServer.id });
    expect(await db('alert_receipts').where({ id: a.receiptId }).first()).toMatchObject({ outcome: 'ticket_created', window_release: 'requeued' });
    // …and stays listed under its window, with what became of it.
    const listed = await listWindowAlerts(db, { key: receipt.maintenance_window_key as string, limit: 10 });
    expect(listed.items).toEqual([expect.objectContaining({ receipt_id: a.receiptId, outcome: 'ticket_created', status: 'processed', window_release: 'requeued', ticket_id: processed.ticketId })]);
  });

  it('two concurrent runs release each receipt once', async () => {
    await insertMaintenanceWindow(db, window());
    const a = await silenced('disk-1');
    const b = await silenced('disk-2');
    const x = runAt(after);
    const y = runAt(after);
    const [rx, ry] = await Promise.all([x.run, y.run]);
    expect([...rx.requeued, ...ry.requeued].sort()).toEqual([a.receiptId, b.receiptId].sort());
    expect([...x.enqueued.flat(), ...y.enqueued.flat()].sort()).toEqual([a.receiptId, b.receiptId].sort());
  });

  it('does not process an alert resolved since, nor an earlier firing superseded by a later one', async () => {
    await insertMaintenanceWindow(db, window());
    const resolvedOne = await silenced('cpu');
    const resolve = await deliver(db, source, genericAlert({ alertId: 'cpu', state: 'resolved', occurredAt: '2026-03-10T10:20:00Z' }));
    expect((await processWithWindows(db, ruleset, resolve.receiptId)).outcome).toBe('resolve_without_ticket');
    const early = await silenced('mem', '2026-03-10T09:30:00Z');
    // Same condition (alertId), fired again later in the window: a new event of the same dedup key.
    const late = await silenced('mem', '2026-03-10T10:40:00Z');

    const { run, enqueued } = runAt(after);
    const result = await run;
    expect(result).toMatchObject({ requeued: [late.receiptId], resolved: 1, superseded: 1 });
    expect(enqueued).toEqual([[late.receiptId]]);
    expect(await db('alert_receipts').where({ id: resolvedOne.receiptId }).first()).toMatchObject({ window_release: 'resolved', outcome: 'maintenance' });
    expect(await db('alert_receipts').where({ id: early.receiptId }).first()).toMatchObject({ window_release: 'superseded', outcome: 'maintenance' });
  });

  it('a window without processAfter keeps its alerts; one edited to drop it keeps them too', async () => {
    const kept = await insertMaintenanceWindow(db, window({ processAfter: false }));
    const a = await silenced('disk');
    expect(await runAt(after).run).toMatchObject({ examined: 0, requeued: [] });
    expect(await db('alert_receipts').where({ id: a.receiptId }).first()).toMatchObject({ window_release: null });

    await db('maintenance_windows').where({ id: kept.id }).update({ process_after: true });
    const b = await silenced('disk-2');
    await db('maintenance_windows').where({ id: kept.id }).update({ process_after: false });
    expect(await runAt(after).run).toMatchObject({ examined: 1, kept: 1, requeued: [] });
    expect(await db('alert_receipts').where({ id: b.receiptId }).first()).toMatchObject({ window_release: 'kept', outcome: 'maintenance' });
  });

  it('an extended window holds longer; a deleted one releases at once', async () => {
    const w = await insertMaintenanceWindow(db, window());
    const a = await silenced('disk');
    await db('maintenance_windows').where({ id: w.id }).update({ ends_at: new Date('2026-03-10T13:00:00Z') });
    expect(await runAt(after).run).toMatchObject({ waiting: 1, requeued: [] });
    await db('maintenance_windows').where({ id: w.id }).delete();
    expect(await runAt(after).run).toMatchObject({ requeued: [a.receiptId] });
  });

  it("rules-file windows: judged by the live ruleset's definition, or by the stored snapshot when none is given", async () => {
    const { windows } = parseRulesFileWindows([
      { file: '50-maint.json', window: { name: 'swap', device: 'mail01', timezone: 'UTC', startsAt: WINDOW.start.toISOString(), endsAt: WINDOW.end.toISOString(), processAfter: true } },
    ]);
    const a = await deliver(db, source, genericAlert({ alertId: 'disk-r' }));
    expect((await processWithWindows(db, ruleset, a.receiptId, windows)).outcome).toBe('maintenance');
    expect(await runAt(during, { rulesWindows: () => windows }).run).toMatchObject({ waiting: 1 });
    expect(await runAt(during).run).toMatchObject({ waiting: 1 });
    expect(await runAt(after).run).toMatchObject({ requeued: [a.receiptId] });
  });

  it('a rules-file window removed from the live rules counts as ended', async () => {
    const { windows } = parseRulesFileWindows([
      { file: '50-maint.json', window: { name: 'gone', device: 'mail01', timezone: 'UTC', endsAt: '2030-01-01T00:00:00Z', processAfter: true } },
    ]);
    const a = await deliver(db, source, genericAlert({ alertId: 'disk-g' }));
    expect((await processWithWindows(db, ruleset, a.receiptId, windows)).outcome).toBe('maintenance');
    expect(await runAt(during, { rulesWindows: () => windows }).run).toMatchObject({ waiting: 1 });
    expect(await runAt(during, { rulesWindows: () => [] }).run).toMatchObject({ requeued: [a.receiptId] });
  });
});
