import type { Knex } from 'knex';
import { parseTimeIntervals, type TimeInterval } from '../../core/maintenance/time-intervals';
import {
  pickWindow,
  type AlertScope,
  type MatchableWindow,
} from '../../core/maintenance/window-match';
import type { Db } from '../connection';
import { scopeIncludes } from '../../core/access/company-scope';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { AlertRow, CompanyRow, DeviceRow, MaintenanceWindowRow } from '../tables';

/**
 * Maintenance windows (issue 6): the API's rows, the live ruleset's windows and which window
 * silences a firing alert. The receipts they silenced are window-receipts.ts; the worker's hook
 * is app/maintenance/window-hook.ts.
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
  whereInScope(q, 'company_id', f.scope);
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
  if (!scopeIncludes(scope, row.company_id)) return undefined;
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

// ---- whether any API window exists (the worker's hook caches it: app/maintenance/window-hook.ts) ----

/**
 * Whether any API window exists at all (not only current ones: a late alert is matched at its own
 * occurred time). The worker's hook caches this answer (app/maintenance/window-hook.ts).
 */
export async function anyApiWindowExists(db: Db): Promise<boolean> {
  return (await db('maintenance_windows').first('id')) !== undefined;
}

/** The current definition of an API window (null when it was deleted). */
export async function apiWindowById(db: Db, id: string): Promise<MatchableWindow | null> {
  const row = (await db('maintenance_windows').where('id', id).first()) as MaintenanceWindowRow | undefined;
  return row ? windowFromRow(row) : null;
}
