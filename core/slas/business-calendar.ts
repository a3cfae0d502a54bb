/**
 * SLA business calendars (R-LINK-5): weekly hours in the calendar's own IANA zone, holidays,
 * and the business-time arithmetic that due dates and SLA pauses are built on.
 *
 * Semantics, chosen so that every function here agrees with every other one:
 * - A range ['08:00', '17:00'] on a weekday covers every instant whose *local wall time* on
 *   that local date is in [08:00, 17:00). On a DST change day it is still 08:00–17:00 on the
 *   office clock; a range that crosses the change is as many real minutes longer or shorter
 *   as the clock jumped. Wall times that do not exist (the spring-forward gap) cover nothing;
 *   wall times that happen twice (the fall-back hour) count both times.
 * - The end of a range is exclusive; '24:00' (or '00:00' as an end) means "until midnight".
 * - Holidays are local dates of the calendar's zone; nothing on them is business time.
 * - '24x7' means every instant is business time, so business minutes are plain minutes.
 *
 * One piece (about 410 lines): the calendar semantics below must hold across every function here
 * (adding business time, measuring it, pausing); split, they would drift apart.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { HubError, validationError } from '../errors';
import { assertTimeZone, assertValidInstant, isIsoDate, isValidTimeZone, zoneOffsetMinutes, type IsoDate } from '../dates';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** ISO order: index 0 is Monday, as luxon's `weekday - 1` and the database's 1..7. */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** A business-hours range: ['HH:MM', 'HH:MM'], end exclusive, '24:00' allowed as an end. */
export type HoursRange = [string, string];

export type WeeklyHours = Partial<Record<Weekday, HoursRange[]>>;

export interface SlaCalendar {
  /** IANA zone the hours and holidays are read in, e.g. 'Europe/Berlin'. */
  timezone: string;
  businessHours: '24x7' | WeeklyHours;
  /** Local dates ('YYYY-MM-DD') of the calendar's zone without business hours. */
  holidays: IsoDate[];
}

/** One thing wrong with a calendar; `field` is a path such as 'businessHours.mon[1]'. */
export interface CalendarProblem {
  field: string;
  message: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MINUTES_PER_DAY = 1440;

/**
 * How many local days a single computation may scan before giving up. A valid calendar has
 * business time every week, so only absurd inputs (centuries of minutes) reach this.
 */
const MAX_SCANNED_DAYS = 366 * 100;

const START_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const END_TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** Minutes after local midnight for 'HH:MM'; null when malformed. An end of '00:00' is midnight at the end of the day. */
const parseClock = (value: unknown, role: 'start' | 'end'): number | null => {
  if (typeof value !== 'string' || !(role === 'start' ? START_TIME : END_TIME).test(value)) return null;
  const minutes = Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));
  return role === 'end' && minutes === 0 ? MINUTES_PER_DAY : minutes;
};

const hoursRangeSchema = z.tuple([
  z.string().regex(START_TIME, { message: 'start must be HH:MM between 00:00 and 23:59' }),
  z.string().regex(END_TIME, { message: 'end must be HH:MM between 00:01 and 24:00 (or 00:00 for midnight)' }),
]);

const dayRangesSchema = z.array(hoursRangeSchema).optional();

const weeklyHoursSchema = z.strictObject(
  {
    mon: dayRangesSchema,
    tue: dayRangesSchema,
    wed: dayRangesSchema,
    thu: dayRangesSchema,
    fri: dayRangesSchema,
    sat: dayRangesSchema,
    sun: dayRangesSchema,
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown weekday key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; use ${WEEKDAYS.join(', ')}` : undefined,
  },
);

const pathToField = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');

interface RangeIssue {
  path: Array<string | number>;
  message: string;
}

/** Checks that need the parsed ranges together: inverted, overlapping, an empty week. */
function rangeIssues(businessHours: SlaCalendar['businessHours']): RangeIssue[] {
  if (businessHours === '24x7') return [];
  const issues: RangeIssue[] = [];
  let anyRange = false;
  for (const day of WEEKDAYS) {
    const ranges = businessHours[day] ?? [];
    if (ranges.length > 0) anyRange = true;
    const parsed: Array<{ index: number; start: number; end: number }> = [];
    ranges.forEach((range, index) => {
      const start = parseClock(range[0], 'start');
      const end = parseClock(range[1], 'end');
      if (start === null || end === null) return; // the shape check reports it
      if (end <= start) {
        issues.push({
          path: ['businessHours', day, index],
          message: `range ${range[0]}–${range[1]} ends before it starts; split a range that crosses midnight into two days`,
        });
        return;
      }
      parsed.push({ index, start, end });
    });
    parsed.sort((a, b) => a.start - b.start);
    for (let i = 1; i < parsed.length; i++) {
      const prev = parsed[i - 1];
      const cur = parsed[i];
      if (prev && cur && cur.start < prev.end) {
        issues.push({ path: ['businessHours', day, cur.index], message: `overlaps businessHours.${day}[${prev.index}]` });
      }
    }
  }
  if (!anyRange) {
    issues.push({ path: ['businessHours'], message: 'has no business hours on any day; use "24x7" or add ranges' });
  }
  return issues;
}

/**
 * The SLA calendar as the API and config files send it:
 * `{ timezone, businessHours: "24x7" | { mon: [["08:00","17:00"]], ... }, holidays?: [...] }`.
 */
export const slaCalendarSchema = z
  .object({
    timezone: z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' }),
    businessHours: z.union([z.literal('24x7'), weeklyHoursSchema], {
      error: 'must be "24x7" or an object of weekdays (mon..sun) with [["HH:MM","HH:MM"], ...] ranges',
    }),
    holidays: z.array(z.string().refine(isIsoDate, { message: 'must be a calendar date written YYYY-MM-DD' })).default([]),
  })
  .superRefine((cal, ctx) => {
    for (const issue of rangeIssues(cal.businessHours)) ctx.addIssue({ code: 'custom', ...issue });
  });

// The schema's output must stay usable wherever an SlaCalendar is expected.
type SchemaMatchesInterface = z.output<typeof slaCalendarSchema> extends SlaCalendar ? true : never;
const _schemaMatchesInterface: SchemaMatchesInterface = true;

/** Every problem with `cal` (empty when valid), each naming its field. */
export function validateCalendar(cal: unknown): CalendarProblem[] {
  const result = slaCalendarSchema.safeParse(cal);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ field: pathToField(issue.path) || 'calendar', message: issue.message }));
}

interface CompiledCalendar {
  zone: IANAZone;
  always: boolean;
  /** Sorted [startMinute, endMinute) per ISO weekday, index 0 = Monday. */
  weekly: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  holidays: ReadonlySet<string>;
  /** dayIntervals() by local day (bounded): due dates of one day's tickets walk the same days. */
  days: Map<number, Array<[number, number]>>;
}

/**
 * Compiled calendars by object: the worker computes due dates for every ticket with the calendar
 * its SLA cache hands out, and validating one (zod) costs more than the arithmetic. Calendars are
 * values, never mutated after use.
 */
const compiledByObject = new WeakMap<SlaCalendar, CompiledCalendar>();

function compileCalendar(cal: SlaCalendar): CompiledCalendar {
  if (typeof cal !== 'object' || cal === null) return compileCalendarUncached(cal);
  let compiled = compiledByObject.get(cal);
  if (!compiled) compiledByObject.set(cal, (compiled = compileCalendarUncached(cal)));
  return compiled;
}

function compileCalendarUncached(cal: SlaCalendar): CompiledCalendar {
  const result = slaCalendarSchema.safeParse(cal);
  if (!result.success) {
    const problems = validateCalendar(cal);
    const first = problems[0];
    throw new HubError(
      'VALIDATION_FAILED',
      first ? `calendar.${first.field}: ${first.message}` : 'calendar is invalid',
      problems,
    );
  }
  const parsed = result.data;
  const zone = IANAZone.create(parsed.timezone);
  const hours = parsed.businessHours;
  const weekly = WEEKDAYS.map((day) =>
    hours === '24x7'
      ? []
      : (hours[day] ?? [])
          .map(([s, e]) => [parseClock(s, 'start') ?? 0, parseClock(e, 'end') ?? 0] as const)
          .sort((a, b) => a[0] - b[0]),
  );
  return { zone, always: hours === '24x7', weekly, holidays: new Set(parsed.holidays), days: new Map() };
}

const offsetMs = (zone: IANAZone, ts: number): number => zoneOffsetMinutes(zone, ts) * MINUTE_MS;

interface OffsetSegment {
  from: number;
  to: number;
  offset: number;
}

/**
 * Splits [from, to) into pieces of constant UTC offset. Zone rules change at most a few times
 * a year, so comparing the ends and bisecting on a difference finds every change in the
 * ~2.5-day windows this is called with.
 */
function offsetSegments(zone: IANAZone, from: number, to: number): OffsetSegment[] {
  const first = offsetMs(zone, from);
  const last = offsetMs(zone, to - 1);
  if (first === last) return [{ from, to, offset: first }];
  let lo = from;
  let hi = to - 1;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(zone, mid) === first) lo = mid;
    else hi = mid;
  }
  return [{ from, to: hi, offset: first }, ...offsetSegments(zone, hi, to)];
}

const isoDateOfNaive = (dayNaive: number): string => new Date(dayNaive).toISOString().slice(0, 10);

/** Monday = 0 … Sunday = 6 for a UTC-midnight "naive" day. */
const weekdayIndexOfNaive = (dayNaive: number): number => (new Date(dayNaive).getUTCDay() + 6) % 7;

/** Local date (as UTC-midnight naive ms) at instant `ts`. */
const localDayNaive = (zone: IANAZone, ts: number): number => {
  const wall = ts + offsetMs(zone, ts);
  return Math.floor(wall / DAY_MS) * DAY_MS;
};

const DAYS_CACHED = 4000;

/** Real-time business intervals [lo, hi) of one local day, sorted and merged (callers must not modify them). */
function dayIntervals(cal: CompiledCalendar, dayNaive: number): ReadonlyArray<readonly [number, number]> {
  let v = cal.days.get(dayNaive);
  if (!v) {
    if (cal.days.size >= DAYS_CACHED) cal.days.clear();
    v = computeDayIntervals(cal, dayNaive);
    cal.days.set(dayNaive, v);
  }
  return v;
}

function computeDayIntervals(cal: CompiledCalendar, dayNaive: number): Array<[number, number]> {
  const ranges = cal.weekly[weekdayIndexOfNaive(dayNaive)] ?? [];
  if (ranges.length === 0 || cal.holidays.has(isoDateOfNaive(dayNaive))) return [];
  // Offsets lie within −12h..+14h, so every instant whose wall time falls on this day is inside.
  const segments = offsetSegments(cal.zone, dayNaive - 15 * HOUR_MS, dayNaive + DAY_MS + 15 * HOUR_MS);
  const raw: Array<[number, number]> = [];
  for (const [start, end] of ranges) {
    for (const seg of segments) {
      // In a segment with offset o, wall time w happens at instant w − o.
      const lo = Math.max(dayNaive + start * MINUTE_MS - seg.offset, seg.from);
      const hi = Math.min(dayNaive + end * MINUTE_MS - seg.offset, seg.to);
      if (lo < hi) raw.push([lo, hi]);
    }
  }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const interval of raw) {
    const last = merged[merged.length - 1];
    if (last && interval[0] <= last[1]) last[1] = Math.max(last[1], interval[1]);
    else merged.push([interval[0], interval[1]]);
  }
  return merged;
}

/**
 * Business intervals from `fromMs` on, in increasing order, disjoint, the first one clipped to
 * start no earlier than `fromMs`. Walks local days, so the cost is per day, not per minute.
 */
function* businessIntervals(cal: CompiledCalendar, fromMs: number): Generator<[number, number]> {
  let cursor = fromMs;
  // Start a day early: a zone whose clock falls back across midnight can put part of the
  // previous local date after `fromMs`.
  let dayNaive = localDayNaive(cal.zone, fromMs) - DAY_MS;
  for (let scanned = 0; scanned < MAX_SCANNED_DAYS; scanned++, dayNaive += DAY_MS) {
    for (const [lo, hi] of dayIntervals(cal, dayNaive)) {
      if (hi <= cursor) continue;
      yield [Math.max(lo, cursor), hi];
      cursor = hi;
    }
  }
  throw new HubError('UNPROCESSABLE', `business time computation exceeded ${MAX_SCANNED_DAYS} days`);
}

const assertMinutes = (minutes: number, field: string): void => {
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes < 0) {
    throw validationError(field, `must be a non-negative number of minutes, got ${String(minutes)}`);
  }
};

/**
 * The instant `minutes` business minutes after `start`. Time outside business hours does not
 * count, so a start outside hours begins counting at the next opening. 0 minutes returns
 * `start` itself (as a new Date), even outside hours. For minutes > 0 the result is inside
 * business hours or exactly at the end of a range (17:00, not the next morning's 08:00).
 */
export function addBusinessMinutes(cal: SlaCalendar, start: Date, minutes: number): Date {
  assertValidInstant(start, 'start');
  assertMinutes(minutes, 'minutes');
  const startMs = start.getTime();
  if (minutes === 0) return new Date(startMs);
  const compiled = compileCalendar(cal);
  let remaining = Math.round(minutes * MINUTE_MS);
  if (compiled.always) return new Date(startMs + remaining);
  for (const [lo, hi] of businessIntervals(compiled, startMs)) {
    if (remaining <= hi - lo) return new Date(lo + remaining);
    remaining -= hi - lo;
  }
  // businessIntervals either yields forever or throws.
  throw new HubError('INTERNAL', 'business interval scan ended unexpectedly');
}

/**
 * Business minutes between `a` and `b` (negative when b is before a). Exact, so it can be
 * fractional when the instants are not on whole minutes.
 */
export function businessMinutesBetween(cal: SlaCalendar, a: Date, b: Date): number {
  assertValidInstant(a, 'a');
  assertValidInstant(b, 'b');
  const aMs = a.getTime();
  const bMs = b.getTime();
  if (bMs < aMs) return -businessMinutesBetween(cal, b, a);
  const compiled = compileCalendar(cal);
  if (compiled.always) return (bMs - aMs) / MINUTE_MS;
  let total = 0;
  for (const [lo, hi] of businessIntervals(compiled, aMs)) {
    if (lo >= bMs) break;
    total += Math.min(hi, bMs) - lo;
  }
  return total / MINUTE_MS;
}

/** True when `at` is business time: inside a range of its local weekday, not on a holiday. */
export function isWithinBusinessHours(cal: SlaCalendar, at: Date): boolean {
  assertValidInstant(at, 'at');
  const compiled = compileCalendar(cal);
  if (compiled.always) return true;
  const ts = at.getTime();
  const wall = ts + offsetMs(compiled.zone, ts);
  const dayNaive = Math.floor(wall / DAY_MS) * DAY_MS;
  if (compiled.holidays.has(isoDateOfNaive(dayNaive))) return false;
  const sinceMidnight = wall - dayNaive;
  const ranges = compiled.weekly[weekdayIndexOfNaive(dayNaive)] ?? [];
  return ranges.some(([start, end]) => sinceMidnight >= start * MINUTE_MS && sinceMidnight < end * MINUTE_MS);
}

export interface LocalTime {
  weekday: Weekday;
  hour: number;
  minute: number;
  /** Local date 'YYYY-MM-DD'. */
  date: IsoDate;
}

/** Wall-clock reading of `at` in `timezone`; the rules engine's `time` fact. */
export function localTime(timezone: string, at: Date): LocalTime {
  assertTimeZone(timezone, 'timezone');
  assertValidInstant(at, 'at');
  const ts = at.getTime();
  const wall = new Date(ts + offsetMs(IANAZone.create(timezone), ts));
  const weekday = WEEKDAYS[(wall.getUTCDay() + 6) % 7];
  const year = wall.getUTCFullYear();
  if (weekday === undefined || !Number.isFinite(year) || year < 1 || year > 9999) throw validationError('at', 'is outside the supported calendar range');
  return { weekday, hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), date: wall.toISOString().slice(0, 10) as IsoDate };
}
