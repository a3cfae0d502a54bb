import type { Knex } from 'knex';
import { parseTimeIntervals, type TimeInterval } from '../../core/maintenance/time-intervals';
import {
  parseRulesFileWindows,
  pickWindow,
  snapshotOf,
  windowSnapshotSchema,
  type AlertScope,
  type MatchableWindow,
  type ReleaseKind,
  type WindowIssue,
  type WindowSnapshot,
} from '../../core/maintenance/window-match';
import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { AlertRow, CompanyRow, DeviceRow, MaintenanceWindowRow } from '../tables';
import type { CompanyScope } from './companies';

/**
 * Maintenance windows (issue 6): the API's rows, the live ruleset's windows, which window silences
 * a firing alert (the worker's hook), and the receipts they silenced.
 */

// ---- the API's windows ----

export interface MaintenanceWindowWrite {
  name: string;
  companyId: string | null;
  site: string | null;
  deviceId: string | null;
  category: string | null;
  timezone: string;
  timeIntervals: TimeInterval[];
  startsAt: Date | null;
  endsAt: Date | null;
  processAfter: boolean;
}

const columns = (w: MaintenanceWindowWrite) => ({
  name: w.name,
  company_id: w.companyId,
  site: w.site,
  device_id: w.deviceId,
  category: w.category,
  timezone: w.timezone,
  // jsonb: knex would send an array as a Postgres array literal, so serialize it.
  time_intervals: JSON.stringify(w.timeIntervals),
  starts_at: w.startsAt,
  ends_at: w.endsAt,
  process_after: w.processAfter,
});

export async function listMaintenanceWindows(
  db: Db,
  f: PageRequest & { scope: CompanyScope; companyId?: string | undefined; deviceId?: string | undefined; endedBefore?: Date | undefined; notEndedAt?: Date | undefined },
): Promise<Page<MaintenanceWindowRow>> {
  const q = db('maintenance_windows').select('*');
  // A scoped token sees only its companies' windows (never the global ones, which it cannot edit).
  if (f.scope) q.whereIn('company_id', f.scope);
  if (f.companyId) q.where('company_id', f.companyId);
  if (f.deviceId) q.where('device_id', f.deviceId);
  if (f.endedBefore) q.where('ends_at', '<=', f.endedBefore);
  if (f.notEndedAt) q.where((w) => w.whereNull('ends_at').orWhere('ends_at', '>', f.notEndedAt as Date));
  return pageBy<MaintenanceWindowRow>(q, f);
}

/** Undefined when the window does not exist or lies outside `scope`. */
export async function getMaintenanceWindow(db: Db, id: string, scope: CompanyScope): Promise<MaintenanceWindowRow | undefined> {
  const row = (await db('maintenance_windows').where('id', id).first()) as MaintenanceWindowRow | undefined;
  if (!row) return undefined;
  if (scope && (row.company_id === null || !scope.includes(String(row.company_id)))) return undefined;
  return row;
}

export async function lockMaintenanceWindow(trx: Knex.Transaction, id: string): Promise<void> {
  await trx('maintenance_windows').where('id', id).forUpdate().first('id');
}

export async function insertMaintenanceWindow(db: Db, w: MaintenanceWindowWrite): Promise<MaintenanceWindowRow> {
  const [row] = (await db('maintenance_windows').insert(columns(w)).returning('*')) as MaintenanceWindowRow[];
  if (!row) throw new Error('insert into maintenance_windows returned no row');
  return row;
}

export async function updateMaintenanceWindow(db: Db, id: string, w: MaintenanceWindowWrite): Promise<MaintenanceWindowRow | undefined> {
  const [row] = (await db('maintenance_windows').where('id', id).update(columns(w)).returning('*')) as MaintenanceWindowRow[];
  return row;
}

export async function deleteMaintenanceWindow(db: Db, id: string): Promise<boolean> {
  return (await db('maintenance_windows').where('id', id).delete()) > 0;
}

/** The device's company (to check a window's device against its company and the caller's scope). */
export async function deviceCompany(db: Db, deviceId: string): Promise<{ id: string; company_id: string | null } | undefined> {
  return (await db('devices').where('id', deviceId).first('id', 'company_id')) as { id: string; company_id: string | null } | undefined;
}

export async function companyExists(db: Db, companyId: string): Promise<boolean> {
  return (await db('companies').where('id', companyId).first('id')) !== undefined;
}

export function windowFromRow(row: MaintenanceWindowRow): MatchableWindow {
  return {
    key: `api:${row.id}`,
    id: String(row.id),
    name: row.name,
    origin: 'api',
    file: null,
    scope: {
      companyId: row.company_id === null ? null : String(row.company_id),
      site: row.site,
      deviceId: row.device_id === null ? null : String(row.device_id),
      category: row.category,
    },
    timing: {
      timezone: row.timezone,
      timeIntervals: parseTimeIntervals(row.time_intervals, `maintenance window ${row.id} timeIntervals`),
      startsAt: row.starts_at,
      endsAt: row.ends_at,
    },
    processAfter: row.process_after,
  };
}

/** Every API window that can still apply at or after `from` (the replay matches against these in memory). */
export async function loadApiWindows(db: Db, opts: { from?: Date; limit?: number } = {}): Promise<MatchableWindow[]> {
  const q = db('maintenance_windows').select('*').orderBy('id').limit(opts.limit ?? 10_000);
  if (opts.from) q.where((w) => w.whereNull('ends_at').orWhere('ends_at', '>', opts.from as Date));
  return ((await q) as MaintenanceWindowRow[]).map(windowFromRow);
}

// ---- the live ruleset's windows ----

/** What the rules engine hands through from `"maintenanceWindows"` of the rules files (unvalidated). */
export interface RulesetWithWindows {
  source: { maintenanceWindows: ReadonlyArray<{ file: string; window: unknown }> };
}

const parsedRulesetWindows = new WeakMap<object, { windows: MatchableWindow[]; issues: WindowIssue[] }>();

/**
 * The valid windows of a ruleset (and the problems of the others), parsed once per ruleset: a
 * compiled ruleset is never mutated, so its `source` object is a safe cache key.
 */
export function rulesetWindows(ruleset: RulesetWithWindows | null | undefined): { windows: MatchableWindow[]; issues: WindowIssue[] } {
  if (!ruleset) return { windows: [], issues: [] };
  const cached = parsedRulesetWindows.get(ruleset.source);
  if (cached) return cached;
  const parsed = parseRulesFileWindows(ruleset.source.maintenanceWindows);
  parsedRulesetWindows.set(ruleset.source, parsed);
  return parsed;
}

export const rulesWindowsOf = (ruleset: RulesetWithWindows | null | undefined): MatchableWindow[] => rulesetWindows(ruleset).windows;

// ---- which window silences an alert ----

export interface WindowCheck {
  alert: Pick<AlertRow, 'site' | 'hostname' | 'category'>;
  companyId: string | null;
  deviceId: string | null;
  at: Date;
}

/** The alert's side of the scope match; company and device rows are loaded only when a window needs them. */
async function alertScopeOf(db: Db, ctx: WindowCheck, needs: { company: boolean; device: boolean }): Promise<AlertScope> {
  const company = needs.company && ctx.companyId ? ((await db('companies').where('id', ctx.companyId).first()) as CompanyRow | undefined) : undefined;
  const device = needs.device && ctx.deviceId ? ((await db('devices').where('id', ctx.deviceId).first()) as DeviceRow | undefined) : undefined;
  return {
    companyId: ctx.companyId,
    companyName: company?.name ?? null,
    companyCode: company?.code ?? null,
    deviceId: ctx.deviceId,
    hostname: device?.hostname ?? ctx.alert.hostname,
    site: ctx.alert.site,
    deviceSite: device?.site ?? null,
    category: ctx.alert.category,
  };
}

const needsOf = (windows: readonly MatchableWindow[]) => ({
  company: windows.some((w) => w.scope.companyRef != null),
  device: windows.some((w) => w.scope.deviceHostname != null || w.scope.site != null),
});

/**
 * The window that silences a firing alert at `at` (API windows and the live ruleset's), or null.
 * API windows are narrowed in SQL by company, device and one-off bounds; site, category and the
 * recurring intervals are matched in core/maintenance.
 */
export async function findActiveWindow(db: Db, ctx: WindowCheck, rulesWindows: readonly MatchableWindow[] = []): Promise<MatchableWindow | null> {
  const q = db('maintenance_windows')
    .select('*')
    .where((w) => (ctx.companyId ? w.whereNull('company_id').orWhere('company_id', ctx.companyId) : w.whereNull('company_id')))
    .where((w) => (ctx.deviceId ? w.whereNull('device_id').orWhere('device_id', ctx.deviceId) : w.whereNull('device_id')))
    .where((w) => w.whereNull('starts_at').orWhere('starts_at', '<=', ctx.at))
    .where((w) => w.whereNull('ends_at').orWhere('ends_at', '>', ctx.at))
    .orderBy('id');
  const rows = (await q) as MaintenanceWindowRow[];
  const windows = [...rows.map(windowFromRow), ...rulesWindows];
  if (windows.length === 0) return null;
  const scope = await alertScopeOf(db, ctx, needsOf(windows));
  return pickWindow(windows, scope, ctx.at);
}

/** Same answer as {@link findActiveWindow}, from windows already in memory and the alert's rows (replay). */
export function matchWindowInMemory(
  windows: readonly MatchableWindow[],
  ctx: WindowCheck & { company: CompanyRow | undefined; device: DeviceRow | undefined },
): MatchableWindow | null {
  if (windows.length === 0) return null;
  const scope: AlertScope = {
    companyId: ctx.companyId,
    companyName: ctx.company?.name ?? null,
    companyCode: ctx.company?.code ?? null,
    deviceId: ctx.deviceId,
    hostname: ctx.device?.hostname ?? ctx.alert.hostname,
    site: ctx.alert.site,
    deviceSite: ctx.device?.site ?? null,
    category: ctx.alert.category,
  };
  return pickWindow(windows, scope, ctx.at);
}

// ---- the statements of the worker's hook (app/maintenance/window-hook.ts) ----

/** Was this receipt released by its window's end, to be processed normally now? */
export async function isReleasedReceipt(db: Db, receiptId: string): Promise<boolean> {
  const r = (await db('alert_receipts').where('id', receiptId).first('window_release')) as { window_release: string | null } | undefined;
  return r?.window_release === 'requeued';
}

/** Records on the receipt which window silenced it (the worker then finishes it as 'maintenance'). */
export async function recordWindowSuppression(db: Db, receiptId: string, window: MatchableWindow): Promise<void> {
  await db('alert_receipts')
    .where('id', receiptId)
    .update({ maintenance_window: JSON.stringify(snapshotOf(window)) });
}

/**
 * Whether any API window exists at all (not only current ones: a late alert is matched at its own
 * occurred time). The worker's hook caches this answer (app/maintenance/window-hook.ts).
 */
export async function anyApiWindowExists(db: Db): Promise<boolean> {
  return (await db('maintenance_windows').first('id')) !== undefined;
}

// ---- what a window silenced ----

export interface WindowAlertRow {
  alert_id: string;
  source_alert_id: string;
  source_name: string;
  dedup_key: string;
  state: AlertRow['state'];
  severity: AlertRow['severity'];
  category: string | null;
  title: string;
  hostname: string | null;
  site: string | null;
  occurred_at: Date;
  status: AlertRow['status'];
  outcome: string | null;
  ticket_id: string | null;
  receipt_id: string;
  received_at: Date;
  window_release: string | null;
  window_released_at: Date | null;
}

/**
 * Alerts a window silenced (newest first), with what became of them: still suppressed, or
 * released when the window ended (and the ticket that was then opened).
 */
export async function listWindowAlerts(db: Db, f: PageRequest & { key: string }): Promise<Page<WindowAlertRow & { id: string }>> {
  const q = db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .join('sources as s', 's.id', 'a.source_id')
    .where('r.maintenance_window_key', f.key)
    .select(
      'r.id as id',
      'r.id as receipt_id',
      'r.received_at',
      'r.window_release',
      'r.window_released_at',
      'a.id as alert_id',
      'a.source_alert_id',
      's.name as source_name',
      'a.dedup_key',
      'a.state',
      'a.severity',
      'a.category',
      'a.title',
      'a.hostname',
      'a.site',
      'a.occurred_at',
      'a.status',
      'a.outcome',
      'a.ticket_id',
    );
  return pageBy<WindowAlertRow & { id: string }>(q, f, 'r.id', 'desc');
}

// ---- releasing what a window held (workers/window-end.ts) ----

export interface HeldReceipt {
  id: string;
  alert_id: string;
  dedup_key: string;
  maintenance_window: unknown;
}

/** Receipts silenced by a processAfter window and not yet released, in id order (keyset by `afterId`). */
export async function heldReceipts(db: Db, opts: { afterId: string | null; limit: number }): Promise<Array<HeldReceipt & { snapshot: WindowSnapshot | null }>> {
  const q = db('alert_receipts as r')
    .join('alerts as a', 'a.id', 'r.alert_id')
    .whereNotNull('r.maintenance_window')
    .whereNull('r.window_released_at')
    .where('r.outcome', 'maintenance')
    .whereNotNull('r.processed_at')
    .whereRaw("(r.maintenance_window->>'processAfter')::boolean")
    .orderBy('r.id')
    .limit(opts.limit)
    .select('r.id', 'r.alert_id', 'a.dedup_key', 'r.maintenance_window');
  if (opts.afterId) q.where('r.id', '>', opts.afterId);
  const rows = (await q) as HeldReceipt[];
  return rows.map((r) => {
    const s = windowSnapshotSchema.safeParse(r.maintenance_window);
    return { ...r, snapshot: s.success ? s.data : null };
  });
}

/**
 * Takes a held receipt for the rest of the transaction (FOR UPDATE SKIP LOCKED): undefined when it
 * was released already or another run holds it right now.
 */
export async function lockHeldReceipt(trx: Knex.Transaction, receiptId: string): Promise<{ id: string; alert_id: string } | undefined> {
  return (await trx('alert_receipts')
    .where('id', receiptId)
    .whereNull('window_released_at')
    .where('outcome', 'maintenance')
    .forUpdate()
    .skipLocked()
    .first('id', 'alert_id')) as { id: string; alert_id: string } | undefined;
}

/** Whether a resolve, and whether a firing, of the same condition arrived after the receipt. */
export async function laterStatesOfCondition(db: Db, dedupKey: string, afterReceiptId: string): Promise<{ resolved: boolean; firing: boolean }> {
  const later = (await db('alert_receipts as r2')
    .join('alerts as a2', 'a2.id', 'r2.alert_id')
    .where('a2.dedup_key', dedupKey)
    .where('r2.id', '>', afterReceiptId)
    .select(db.raw("bool_or(a2.state = 'resolved') AS resolved"), db.raw("bool_or(a2.state = 'firing') AS firing"))
    .first()) as { resolved: boolean | null; firing: boolean | null } | undefined;
  return { resolved: later?.resolved === true, firing: later?.firing === true };
}

/**
 * Records the release on the receipt; a `requeued` one is also re-opened for the worker
 * (processed_at/enqueued_at NULL, so the outbox relay picks it up even if the caller's enqueue fails).
 */
export async function markReceiptReleased(db: Db, receiptId: string, kind: ReleaseKind, at: Date): Promise<void> {
  const update: Record<string, unknown> = { window_released_at: at, window_release: kind };
  if (kind === 'requeued') Object.assign(update, { processed_at: null, enqueued_at: null, outcome: null, error: null });
  await db('alert_receipts').where('id', receiptId).update(update);
}

/** The alert is waiting for the worker again (its receipt was re-opened). */
export async function markAlertReceived(db: Db, alertId: string): Promise<void> {
  await db('alerts').where('id', alertId).update({ status: 'received', updated_at: db.fn.now() });
}

/** The current definition of an API window (null when it was deleted). */
export async function apiWindowById(db: Db, id: string): Promise<MatchableWindow | null> {
  const row = (await db('maintenance_windows').where('id', id).first()) as MaintenanceWindowRow | undefined;
  return row ? windowFromRow(row) : null;
}
