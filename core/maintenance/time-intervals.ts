/**
 * Maintenance windows, recurring part: Prometheus Alertmanager's `time_intervals` semantics
 * (https://prometheus.io/docs/alerting/latest/configuration/#time_interval), with its snake_case
 * keys, so intervals can be copied from an Alertmanager or Grafana config unchanged.
 *
 * - An interval matches an instant when every field it has matches; an absent (or empty) field
 *   matches everything. A list of intervals matches when any interval does.
 * - `times`: [start_time, end_time) of the local day, 'HH:MM', '24:00' allowed as an end.
 *   A window across midnight is two intervals (…–24:00 and 00:00–…).
 * - `weekdays`: 'monday', 'monday:friday'; ranges run Sunday → Saturday as in Alertmanager, so
 *   'saturday:sunday' is refused (write ['saturday', 'sunday']).
 * - `days_of_month`: '1', '1:5', '-1' (last day), '-3:-1', '1:-1'; negative counts from the
 *   month's end. A start past the month's end does not match; an end past it is clamped.
 * - `months`: 'january:march', '1:3', '12'. `years`: '2026', '2026:2027'. All inclusive.
 * - `location`: IANA zone the fields are read in; without it the window's zone applies.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { validationError } from '../errors';
import { assertTimeZone, assertValidInstant, isValidTimeZone } from '../dates';

const CLOCK = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

const WEEKDAY_NUMBERS: Readonly<Record<string, number>> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};

const MONTH_NUMBERS: Readonly<Record<string, number>> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
};

interface InclusiveRange {
  begin: number;
  end: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const INTEGER = /^-?\d+$/;

/** Splits 'a' or 'a:b' (lower-cased, as Alertmanager does) and maps both ends with `member`. */
function parseRange(text: string, member: (part: string) => number | null, what: string): Parsed<InclusiveRange> {
  const parts = text.trim().toLowerCase().split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) return { ok: false, error: `"${text}" is not a ${what} or ${what} range ("a" or "a:b")` };
  const [first, second = first] = parts;
  const begin = first === undefined ? null : member(first);
  const end = second === undefined ? null : member(second);
  if (begin === null) return { ok: false, error: `"${first}" is not a valid ${what}` };
  if (end === null) return { ok: false, error: `"${second}" is not a valid ${what}` };
  return { ok: true, value: { begin, end } };
}

const intOf = (part: string): number | null => (INTEGER.test(part) ? Number(part) : null);

function parseWeekdayRange(text: string): Parsed<InclusiveRange> {
  const parsed = parseRange(text, (p) => WEEKDAY_NUMBERS[p] ?? null, 'weekday');
  if (parsed.ok && parsed.value.begin > parsed.value.end) {
    return { ok: false, error: `"${text}" ends before it starts (ranges run sunday to saturday); list the days separately, e.g. ["saturday", "sunday"]` };
  }
  return parsed;
}

function parseDayOfMonthRange(text: string): Parsed<InclusiveRange> {
  const parsed = parseRange(text, intOf, 'day of month');
  if (!parsed.ok) return parsed;
  const { begin, end } = parsed.value;
  for (const n of [begin, end]) {
    if (n === 0 || n < -31 || n > 31) return { ok: false, error: `${n} is not a day of month (1..31, or -1..-31 from the month's end)` };
  }
  if (begin < 0 && end > 0) return { ok: false, error: `"${text}": the end must be negative when the start is negative` };
  // Judged on the shortest month, as Alertmanager does: refuse only ranges that can never match.
  const checkBegin = begin < 0 ? 28 + begin : begin;
  const checkEnd = end < 0 ? 28 + end : end;
  if (checkBegin > checkEnd) return { ok: false, error: `"${text}": end day ${end} is always before start day ${begin}` };
  return parsed;
}

function parseMonthRange(text: string): Parsed<InclusiveRange> {
  const parsed = parseRange(text, (p) => MONTH_NUMBERS[p] ?? intOf(p), 'month');
  if (!parsed.ok) return parsed;
  const { begin, end } = parsed.value;
  for (const n of [begin, end]) {
    if (n < 1 || n > 12) return { ok: false, error: `${n} is not a month (1..12 or january..december)` };
  }
  if (begin > end) return { ok: false, error: `"${text}" ends before it starts; list the months separately, e.g. ["november:december", "january"]` };
  return parsed;
}

function parseYearRange(text: string): Parsed<InclusiveRange> {
  const parsed = parseRange(text, intOf, 'year');
  if (!parsed.ok) return parsed;
  const { begin, end } = parsed.value;
  if (begin < 1 || end < 1) return { ok: false, error: `"${text}": years must be positive` };
  if (begin > end) return { ok: false, error: `"${text}": end year ${end} is before start year ${begin}` };
  return parsed;
}

const minutesOf = (clock: string): number => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

const rangeString = (parse: (text: string) => Parsed<InclusiveRange>) =>
  z.string().superRefine((text, ctx) => {
    const parsed = parse(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

/** `{ start_time: 'HH:MM', end_time: 'HH:MM' }`, end exclusive, '24:00' allowed as an end. */
export const timeRangeSchema = z
  .strictObject({
    start_time: z.string().regex(CLOCK, { message: 'must be HH:MM (00:00..23:59)' }),
    end_time: z.string().regex(CLOCK, { message: 'must be HH:MM (00:01..24:00)' }),
  })
  .superRefine((range, ctx) => {
    if (CLOCK.test(range.start_time) && CLOCK.test(range.end_time) && minutesOf(range.start_time) >= minutesOf(range.end_time)) {
      ctx.addIssue({
        code: 'custom',
        path: ['end_time'],
        message: `must be after start_time ${range.start_time}; a window across midnight is two intervals (…–24:00 and 00:00–…)`,
      });
    }
  });

/** One Alertmanager `time_interval` entry (snake_case keys, as Alertmanager writes them). */
export const timeIntervalSchema = z.strictObject({
  times: z.array(timeRangeSchema).optional(),
  weekdays: z.array(rangeString(parseWeekdayRange)).optional(),
  days_of_month: z.array(rangeString(parseDayOfMonthRange)).optional(),
  months: z.array(rangeString(parseMonthRange)).optional(),
  years: z.array(rangeString(parseYearRange)).optional(),
  location: z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' }).optional(),
});

export const timeIntervalsSchema = z.array(timeIntervalSchema);

export type TimeRange = z.infer<typeof timeRangeSchema>;
export type TimeInterval = z.infer<typeof timeIntervalSchema>;

/** Parses stored intervals (e.g. from a jsonb column) or throws a HubError naming the field. */
export function parseTimeIntervals(value: unknown, field = 'timeIntervals'): TimeInterval[] {
  const result = timeIntervalsSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
  throw validationError(`${field}${path}`, issue?.message ?? 'invalid', result.error.issues);
}

const unwrap = (parsed: Parsed<InclusiveRange>, field: string): InclusiveRange => {
  if (!parsed.ok) throw validationError(field, parsed.error);
  return parsed.value;
};

/** True when some element of a present, non-empty list matches; absent or empty lists match all. */
const anyOf = <T>(list: readonly T[] | undefined, matches: (item: T, index: number) => boolean): boolean =>
  list === undefined || list.length === 0 || list.some(matches);

function intervalContains(interval: TimeInterval, at: Date, defaultZone: string, field: string): boolean {
  const zone = interval.location ?? defaultZone;
  assertTimeZone(zone, interval.location === undefined ? 'timezone' : `${field}.location`);
  const local = DateTime.fromJSDate(at, { zone });
  const minuteOfDay = local.hour * 60 + local.minute;
  const daysInMonth = local.daysInMonth ?? 31;
  const inRange = (n: number, r: InclusiveRange): boolean => n >= r.begin && n <= r.end;

  return (
    anyOf(interval.times, (t, i) => {
      if (!CLOCK.test(t.start_time) || !CLOCK.test(t.end_time)) throw validationError(`${field}.times[${i}]`, 'times must be HH:MM');
      return minuteOfDay >= minutesOf(t.start_time) && minuteOfDay < minutesOf(t.end_time);
    }) &&
    // Alertmanager numbers weekdays from Sunday = 0; luxon from Monday = 1 to Sunday = 7.
    anyOf(interval.weekdays, (w, i) => inRange(local.weekday % 7, unwrap(parseWeekdayRange(w), `${field}.weekdays[${i}]`))) &&
    anyOf(interval.days_of_month, (d, i) => {
      const r = unwrap(parseDayOfMonthRange(d), `${field}.days_of_month[${i}]`);
      const begin = r.begin < 0 ? daysInMonth + r.begin + 1 : r.begin;
      const end = r.end < 0 ? daysInMonth + r.end + 1 : r.end;
      // A start beyond this month's last day ('31' in April) matches nothing; an end is clamped.
      if (begin > daysInMonth) return false;
      return local.day >= begin && local.day <= Math.min(end, daysInMonth);
    }) &&
    anyOf(interval.months, (m, i) => inRange(local.month, unwrap(parseMonthRange(m), `${field}.months[${i}]`))) &&
    anyOf(interval.years, (y, i) => inRange(local.year, unwrap(parseYearRange(y), `${field}.years[${i}]`)))
  );
}

/**
 * True when `at` lies in any of `intervals`, each read in its own `location` or else in
 * `defaultZone`. An empty list matches nothing (no interval matches); see {@link isInWindow}
 * for windows, where an empty list means "no recurrence restriction".
 */
export function matchesTimeIntervals(intervals: readonly TimeInterval[], at: Date, defaultZone: string): boolean {
  assertValidInstant(at, 'at');
  assertTimeZone(defaultZone, 'timezone');
  // Validate every interval, not just those before the first match: a broken stored window
  // must fail loudly every time, not only at the hours when it is reached.
  const parsed = parseTimeIntervals(intervals);
  return parsed.some((interval, i) => intervalContains(interval, at, defaultZone, `timeIntervals[${i}]`));
}

export interface MaintenanceWindowTiming {
  /** One-off start, inclusive; null/absent = no lower bound. */
  startsAt?: Date | null;
  /** One-off end, exclusive; null/absent = no upper bound. */
  endsAt?: Date | null;
  /** Zone for intervals without their own `location`. */
  timezone: string;
  /** Recurring part; empty = no recurrence restriction. */
  timeIntervals: readonly TimeInterval[];
}

/**
 * True when `at` is inside the maintenance window: within the one-off bounds
 * [startsAt, endsAt) where given, and matching the recurring intervals where given. Both must
 * hold when both are given; a window with neither bounds nor intervals is always in force.
 */
export function isInWindow(window: MaintenanceWindowTiming, at: Date): boolean {
  assertValidInstant(at, 'at');
  assertTimeZone(window.timezone, 'timezone');
  const t = at.getTime();
  if (window.startsAt !== null && window.startsAt !== undefined) {
    assertValidInstant(window.startsAt, 'startsAt');
    if (t < window.startsAt.getTime()) return false;
  }
  if (window.endsAt !== null && window.endsAt !== undefined) {
    assertValidInstant(window.endsAt, 'endsAt');
    if (t >= window.endsAt.getTime()) return false;
  }
  return window.timeIntervals.length === 0 || matchesTimeIntervals(window.timeIntervals, at, window.timezone);
}
