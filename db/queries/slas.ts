import { WEEKDAYS, type WeeklyHours } from '../../core/slas/business-calendar';
import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { Priority, SlaBusinessHoursRow, SlaHolidayRow, SlaRow, SlaTargetRow } from '../tables';
import { escapeLike } from './companies';

export interface SlaWithCalendar extends SlaRow {
  hours: SlaBusinessHoursRow[];
  holidays: SlaHolidayRow[];
  targets: SlaTargetRow[];
}

export interface SlaTargetInput {
  firstResponseMinutes: number;
  resolutionPlanMinutes: number;
  resolutionMinutes: number;
}

/** An SLA as the admin API writes it (already validated: zone, ranges, dates). */
export interface SlaInput {
  name: string;
  code: string | null;
  timezone: string;
  businessHours: '24x7' | WeeklyHours;
  holidays: string[];
  targets: Partial<Record<Priority, SlaTargetInput>>;
}

async function attachCalendars(db: Db, rows: SlaRow[]): Promise<SlaWithCalendar[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  // Sequential: `db` may be a transaction, whose one connection must not run queries concurrently.
  const hours = (await db('sla_business_hours').whereIn('sla_id', ids).orderBy(['weekday', 'start_time'])) as SlaBusinessHoursRow[];
  const holidays = (await db('sla_holidays').whereIn('sla_id', ids).orderBy('day')) as SlaHolidayRow[];
  const targets = (await db('sla_targets').whereIn('sla_id', ids)) as SlaTargetRow[];
  return rows.map((r) => ({
    ...r,
    hours: hours.filter((h) => h.sla_id === r.id),
    holidays: holidays.filter((h) => h.sla_id === r.id),
    targets: targets.filter((t) => t.sla_id === r.id),
  }));
}

export async function listSlas(
  db: Db,
  f: PageRequest & { name?: string | undefined; code?: string | undefined; timezone?: string | undefined },
): Promise<Page<SlaWithCalendar>> {
  const q = db('slas').select('*');
  if (f.name) q.whereILike('name', `%${escapeLike(f.name)}%`);
  if (f.code) q.where('code', f.code);
  if (f.timezone) q.where('timezone', f.timezone);
  const page = await pageBy<SlaRow>(q, f);
  return { items: await attachCalendars(db, page.items), nextCursor: page.nextCursor };
}

export async function getSla(db: Db, id: string): Promise<SlaWithCalendar | undefined> {
  const row = (await db('slas').where('id', id).first()) as SlaRow | undefined;
  if (!row) return undefined;
  const [full] = await attachCalendars(db, [row]);
  return full;
}

/** Replaces the calendar and targets of `slaId` (call inside a transaction). */
async function writeCalendar(db: Db, slaId: string, s: SlaInput): Promise<void> {
  await db('sla_business_hours').where('sla_id', slaId).delete();
  await db('sla_holidays').where('sla_id', slaId).delete();
  await db('sla_targets').where('sla_id', slaId).delete();
  if (s.businessHours !== '24x7') {
    const weekly = s.businessHours;
    const rows = WEEKDAYS.flatMap((day, i) =>
      (weekly[day] ?? []).map(([start, end]) => ({ sla_id: slaId, weekday: i + 1, start_time: start, end_time: end })),
    );
    if (rows.length > 0) await db('sla_business_hours').insert(rows);
  }
  const days = [...new Set(s.holidays)];
  if (days.length > 0) await db('sla_holidays').insert(days.map((day) => ({ sla_id: slaId, day })));
  const targets = Object.entries(s.targets).flatMap(([priority, t]) =>
    t
      ? [
          {
            sla_id: slaId,
            priority,
            first_response_minutes: t.firstResponseMinutes,
            resolution_plan_minutes: t.resolutionPlanMinutes,
            resolution_minutes: t.resolutionMinutes,
          },
        ]
      : [],
  );
  if (targets.length > 0) await db('sla_targets').insert(targets);
}

/** Call inside a transaction: the SLA, its hours, holidays and targets are one change. */
export async function insertSla(db: Db, s: SlaInput): Promise<SlaWithCalendar> {
  const [row] = (await db('slas')
    .insert({ name: s.name, code: s.code, timezone: s.timezone, is_24x7: s.businessHours === '24x7' })
    .returning('*')) as SlaRow[];
  if (!row) throw new Error('insert into slas returned no row');
  await writeCalendar(db, row.id, s);
  return (await getSla(db, row.id)) as SlaWithCalendar;
}

/** Replaces the whole definition (the route merges a PATCH into the current one first). Call inside a transaction. */
export async function replaceSla(db: Db, id: string, s: SlaInput): Promise<SlaWithCalendar | undefined> {
  const n = await db('slas')
    .where('id', id)
    .update({ name: s.name, code: s.code, timezone: s.timezone, is_24x7: s.businessHours === '24x7', updated_at: db.fn.now() });
  if (n === 0) return undefined;
  await writeCalendar(db, id, s);
  return getSla(db, id);
}

/** Fails with a foreign-key error while contracts or tickets reference the SLA. */
export async function deleteSla(db: Db, id: string): Promise<boolean> {
  return (await db('slas').where('id', id).delete()) > 0;
}

/** Locks the SLA row for the rest of the transaction (SELECT … FOR UPDATE): a concurrent change waits, so an audit row's `before` is exactly what the change replaced. */
export async function lockSla(trx: Db, id: string): Promise<SlaRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('slas').where('id', id).forUpdate().first()) as SlaRow | undefined;
}
