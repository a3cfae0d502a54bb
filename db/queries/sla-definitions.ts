import type { Db } from '../connection';
import type { SlaBusinessHoursRow, SlaHolidayRow, SlaRow, SlaTargetRow } from '../tables';
import { WEEKDAYS, type SlaCalendar, type WeeklyHours } from '../../core/slas/business-calendar';
import type { SlaDefinition } from '../../core/slas/due-dates';

const hhmm = (t: string): string => t.slice(0, 5);

/** An SLA as core/slas computes with it: calendar (zone, weekly hours, holidays) and per-priority targets. */
export async function loadSlaDefinition(db: Db, slaId: string): Promise<(SlaDefinition & { row: SlaRow }) | undefined> {
  const row = (await db('slas').where({ id: slaId }).first()) as SlaRow | undefined;
  if (!row) return undefined;
  // Sequential: `db` may be a transaction, whose one connection must not run queries concurrently.
  const hours = (await db('sla_business_hours').where({ sla_id: slaId }).orderBy(['weekday', 'start_time'])) as SlaBusinessHoursRow[];
  const holidays = (await db('sla_holidays').where({ sla_id: slaId }).orderBy('day')) as SlaHolidayRow[];
  const targets = (await db('sla_targets').where({ sla_id: slaId })) as SlaTargetRow[];
  let businessHours: SlaCalendar['businessHours'] = '24x7';
  if (!row.is_24x7) {
    const weekly: WeeklyHours = {};
    for (const h of hours) {
      const day = WEEKDAYS[h.weekday - 1]!;
      const end = hhmm(h.end_time) === '00:00' ? '24:00' : hhmm(h.end_time);
      (weekly[day] ??= []).push([hhmm(h.start_time), end]);
    }
    businessHours = weekly;
  }
  const calendar: SlaCalendar = { timezone: row.timezone, businessHours, holidays: holidays.map((h) => h.day) };
  const t: SlaDefinition['targets'] = {};
  for (const x of targets) {
    t[x.priority] = {
      firstResponseMinutes: x.first_response_minutes,
      resolutionPlanMinutes: x.resolution_plan_minutes,
      resolutionMinutes: x.resolution_minutes,
    };
  }
  return { calendar, targets: t, row };
}

/** SLA definitions change rarely; the worker keeps them for a few seconds instead of three queries per alert. */
export class SlaCache {
  private readonly entries = new Map<string, { at: number; value: Promise<(SlaDefinition & { row: SlaRow }) | undefined> }>();
  constructor(private readonly ttlMs = 10_000) {}
  get(db: Db, slaId: string, now = Date.now()): Promise<(SlaDefinition & { row: SlaRow }) | undefined> {
    const hit = this.entries.get(slaId);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = loadSlaDefinition(db, slaId);
    this.entries.set(slaId, { at: now, value });
    value.catch(() => this.entries.delete(slaId));
    return value;
  }
}
