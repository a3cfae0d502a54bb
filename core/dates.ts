/**
 * Plain calendar dates ('YYYY-MM-DD', no time, no zone) as the database and the API carry
 * them (contract start/end, link validity, holidays). All arithmetic runs in UTC so a DST
 * change can never move a plain date by a day.
 */
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { validationError } from './errors';

/** 'YYYY-MM-DD', e.g. '2025-05-01'. */
export type IsoDate = string;

const ISO_DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

const toDateTime = (date: IsoDate): DateTime => DateTime.fromISO(date, { zone: 'utc' });

/** True for a real calendar day written as 'YYYY-MM-DD' (rejects '2025-02-30', '2025-5-1'). */
export const isIsoDate = (value: unknown): value is IsoDate =>
  typeof value === 'string' && ISO_DATE_SHAPE.test(value) && toDateTime(value).isValid;

/** Throws a VALIDATION_FAILED HubError naming `field` unless `value` is a real 'YYYY-MM-DD' day. */
export function assertIsoDate(value: unknown, field: string): asserts value is IsoDate {
  if (!isIsoDate(value)) {
    throw validationError(field, `must be a calendar date written YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
}

/** The zod form of {@link isIsoDate}, for request bodies and config files. */
export const isoDateSchema = z.string().refine(isIsoDate, { message: 'must be a calendar date written YYYY-MM-DD' });

const parse = (date: IsoDate, field: string): DateTime => {
  assertIsoDate(date, field);
  return toDateTime(date);
};

const format = (dt: DateTime): IsoDate => {
  const out = dt.toISODate();
  // Only reachable when arithmetic leaves luxon's supported range (years beyond ±275760).
  if (out === null) throw validationError('date', 'result is outside the supported calendar range');
  return out;
};

/** `date` plus `days` (negative allowed). */
export const addDays = (date: IsoDate, days: number): IsoDate => {
  if (!Number.isInteger(days)) throw validationError('days', `must be a whole number, got ${days}`);
  return format(parse(date, 'date').plus({ days }));
};

/**
 * `date` plus `months` in one step; a day that does not exist in the target month is clamped
 * to that month's last day (2025-01-31 + 1 → 2025-02-28).
 */
export const addMonthsClamped = (date: IsoDate, months: number): IsoDate => {
  if (!Number.isInteger(months)) throw validationError('months', `must be a whole number, got ${months}`);
  return format(parse(date, 'date').plus({ months }));
};

/** Whole days from `a` to `b` (positive when b is later). */
export const daysBetween = (a: IsoDate, b: IsoDate): number =>
  Math.round(parse(b, 'b').diff(parse(a, 'a'), 'days').days);

/** -1, 0 or 1, usable as an Array.prototype.sort comparator. */
export const compareDates = (a: IsoDate, b: IsoDate): -1 | 0 | 1 => {
  assertIsoDate(a, 'a');
  assertIsoDate(b, 'b');
  // Valid four-digit ISO dates order lexicographically.
  return a < b ? -1 : a > b ? 1 : 0;
};

/** The earliest of one or more dates. */
export const minDate = (first: IsoDate, ...rest: IsoDate[]): IsoDate =>
  rest.reduce((min, d) => (compareDates(d, min) < 0 ? d : min), (assertIsoDate(first, 'date'), first));

/** The latest of one or more dates. */
export const maxDate = (first: IsoDate, ...rest: IsoDate[]): IsoDate =>
  rest.reduce((max, d) => (compareDates(d, max) > 0 ? d : max), (assertIsoDate(first, 'date'), first));

/** Number of days in the month of `date` (28–31). */
export const daysInMonth = (date: IsoDate): number => {
  const days = parse(date, 'date').daysInMonth;
  if (days === undefined) throw validationError('date', `invalid date ${date}`);
  return days;
};

/** True when `date` is the last day of its month (2024-02-29, 2025-02-28, 2025-04-30). */
export const isLastDayOfMonth = (date: IsoDate): boolean => parse(date, 'date').day === daysInMonth(date);

// Checking a zone builds an Intl.DateTimeFormat (~0.1 ms); SLA maths checks the same few zones
// over and over. Only valid names are remembered, and there are a few hundred of those.
const knownZones = new Set<string>();

/** True for a zone name the platform's tz database knows ('Europe/Berlin', 'UTC'). */
export const isValidTimeZone = (zone: unknown): zone is string => {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  if (knownZones.has(zone)) return true;
  if (!IANAZone.isValidZone(zone)) return false;
  knownZones.add(zone);
  return true;
};

/** Throws a VALIDATION_FAILED HubError naming `field` unless `zone` is a known IANA zone. */
export function assertTimeZone(zone: unknown, field: string): asserts zone is string {
  if (!isValidTimeZone(zone)) {
    throw validationError(field, `must be an IANA time zone such as "Europe/Berlin", got ${JSON.stringify(zone)}`);
  }
}

/** Throws a VALIDATION_FAILED HubError naming `field` unless `value` is a Date with a real time. */
export function assertValidInstant(value: unknown, field: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw validationError(field, 'must be a valid instant');
  }
}

const OFFSET_HOUR_MS = 3_600_000;

/**
 * A zone's UTC offset (minutes) at the start of each UTC hour, per zone. luxon asks Intl for every
 * offset (formatToParts, tens of microseconds): profiling showed a quarter of the worker's time
 * there (SLA maths, and every alert's date in its company's zone). Where the offsets at both ends
 * of an hour agree the offset is taken as constant within it — zone rules never change twice
 * within an hour — otherwise the exact offset is asked for.
 */
const hourOffsets = new Map<string, Map<number, number>>();
const HOUR_OFFSETS_MAX = 50_000;

function hourOffset(zone: IANAZone, hour: number): number {
  let byHour = hourOffsets.get(zone.name);
  if (!byHour) hourOffsets.set(zone.name, (byHour = new Map()));
  let v = byHour.get(hour);
  if (v === undefined) {
    if (byHour.size >= HOUR_OFFSETS_MAX) byHour.clear();
    v = zone.offset(hour * OFFSET_HOUR_MS);
    byHour.set(hour, v);
  }
  return v;
}

/** The zone's UTC offset in minutes at instant `ts`, exactly as luxon's `zone.offset(ts)`. */
export function zoneOffsetMinutes(zone: IANAZone, ts: number): number {
  const hour = Math.floor(ts / OFFSET_HOUR_MS);
  const a = hourOffset(zone, hour);
  return a === hourOffset(zone, hour + 1) ? a : zone.offset(ts);
}

/** The calendar date in `zone` at instant `now` (the clock is always the caller's). */
export const todayIn = (zone: string, now: Date): IsoDate => {
  assertTimeZone(zone, 'zone');
  assertValidInstant(now, 'now');
  // The wall clock in `zone` from the cached offset (once per alert on the worker's path, where
  // luxon's own offset lookup was ~7 us); luxon for years toISOString does not write as YYYY.
  const ts = now.getTime();
  const wall = new Date(ts + zoneOffsetMinutes(IANAZone.create(zone), ts) * 60_000);
  const year = wall.getUTCFullYear();
  if (year < 1 || year > 9999) return format(DateTime.fromJSDate(now, { zone }));
  return wall.toISOString().slice(0, 10);
};
