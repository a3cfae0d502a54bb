import type { Db } from '../connection';
import type { SlaRow } from '../tables';
import { WEEKDAYS, type SlaCalendar, type WeeklyHours } from '../../core/slas/business-calendar';
import type { SlaDefinition } from '../../core/slas/due-dates';
import { getSla, type SlaWithCalendar } from './slas';

const hhmm = (t: string): string => t.slice(0, 5);

/** The stored SLA as core/slas computes with it: calendar (zone, weekly hours, holidays) and per-priority targets. */
export function slaDefinitionOf(s: SlaWithCalendar): SlaDefinition & { row: SlaRow } {
  let businessHours: SlaCalendar['businessHours'] = '24x7';
  if (!s.is_24x7) {
    const weekly: WeeklyHours = {};
    for (const h of s.hours) {
      const day = WEEKDAYS[h.weekday - 1]!;
      // The table stores a range that runs to midnight as 00:00; the calendar writes it 24:00.
      const end = hhmm(h.end_time) === '00:00' ? '24:00' : hhmm(h.end_time);
      (weekly[day] ??= []).push([hhmm(h.start_time), end]);
    }
    businessHours = weekly;
  }
  const targets: SlaDefinition['targets'] = {};
  for (const x of s.targets) {
    targets[x.priority] = {
      firstResponseMinutes: x.first_response_minutes,
      resolutionPlanMinutes: x.resolution_plan_minutes,
      resolutionMinutes: x.resolution_minutes,
    };
  }
  const { hours: _hours, holidays, targets: _targets, ...row } = s;
  return { calendar: { timezone: s.timezone, businessHours, holidays: holidays.map((h) => h.day) }, targets, row };
}

export async function loadSlaDefinition(db: Db, slaId: string): Promise<(SlaDefinition & { row: SlaRow }) | undefined> {
  const s = await getSla(db, slaId);
  return s ? slaDefinitionOf(s) : undefined;
}
