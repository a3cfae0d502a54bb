import fc from 'fast-check';
import { DateTime } from 'luxon';
import { isInWindow, matchesTimeIntervals, parseTimeIntervals, timeIntervalSchema, type TimeInterval } from './time-intervals';

const at = (iso: string): Date => new Date(iso);

const businessDay: TimeInterval = { times: [{ start_time: '09:00', end_time: '17:00' }], weekdays: ['monday:friday'] };
/** Saturday 22:00 – Sunday 02:00 as two ranges, the Alertmanager way. */
const saturdayNight: TimeInterval[] = [
  { weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] },
  { weekdays: ['sunday'], times: [{ start_time: '00:00', end_time: '02:00' }] },
];

describe('matchesTimeIntervals', () => {
  // 2025-03-03 is a Monday; 2025-03-08 a Saturday.
  it.each<{ why: string; intervals: TimeInterval[]; when: string; zone?: string; expected: boolean }>([
    { why: 'start_time is inclusive', intervals: [businessDay], when: '2025-03-03T09:00:00Z', expected: true },
    { why: 'before start_time', intervals: [businessDay], when: '2025-03-03T08:59:59Z', expected: false },
    { why: 'last minute before end_time', intervals: [businessDay], when: '2025-03-03T16:59:59Z', expected: true },
    { why: 'end_time is exclusive', intervals: [businessDay], when: '2025-03-03T17:00:00Z', expected: false },
    { why: 'weekday outside monday:friday', intervals: [businessDay], when: '2025-03-08T10:00:00Z', expected: false },
    { why: 'crossing midnight: Saturday 23:30', intervals: saturdayNight, when: '2025-03-08T23:30:00Z', expected: true },
    { why: 'crossing midnight: Sunday 00:00', intervals: saturdayNight, when: '2025-03-09T00:00:00Z', expected: true },
    { why: 'crossing midnight: Sunday 01:59', intervals: saturdayNight, when: '2025-03-09T01:59:00Z', expected: true },
    { why: 'crossing midnight: Sunday 02:00 is over', intervals: saturdayNight, when: '2025-03-09T02:00:00Z', expected: false },
    { why: 'crossing midnight: Saturday 21:59 not yet', intervals: saturdayNight, when: '2025-03-08T21:59:00Z', expected: false },
    { why: 'crossing midnight: Sunday 23:00 is not Saturday night', intervals: saturdayNight, when: '2025-03-09T23:00:00Z', expected: false },
    { why: 'days_of_month -1 is the last day (28 Feb 2025)', intervals: [{ days_of_month: ['-1'] }], when: '2025-02-28T12:00:00Z', expected: true },
    { why: 'days_of_month -1 in a leap year is 29 Feb, not 28', intervals: [{ days_of_month: ['-1'] }], when: '2024-02-28T12:00:00Z', expected: false },
    { why: 'days_of_month -1 matches 29 Feb 2024', intervals: [{ days_of_month: ['-1'] }], when: '2024-02-29T12:00:00Z', expected: true },
    { why: 'days_of_month -3:-1 covers 29 Jan', intervals: [{ days_of_month: ['-3:-1'] }], when: '2025-01-29T00:00:00Z', expected: true },
    { why: 'days_of_month -3:-1 excludes 28 Jan', intervals: [{ days_of_month: ['-3:-1'] }], when: '2025-01-28T23:59:00Z', expected: false },
    { why: 'days_of_month 1:-1 is the whole month', intervals: [{ days_of_month: ['1:-1'] }], when: '2025-04-30T12:00:00Z', expected: true },
    { why: 'days_of_month 31 never matches April', intervals: [{ days_of_month: ['31'] }], when: '2025-04-30T12:00:00Z', expected: false },
    { why: 'days_of_month 25:31 is clamped to February', intervals: [{ days_of_month: ['25:31'] }], when: '2025-02-28T12:00:00Z', expected: true },
    { why: 'days_of_month 1:5 and 10 (several ranges)', intervals: [{ days_of_month: ['1:5', '10'] }], when: '2025-03-10T12:00:00Z', expected: true },
    { why: 'months by name', intervals: [{ months: ['january:march', 'december'] }], when: '2025-12-24T12:00:00Z', expected: true },
    { why: 'months by number', intervals: [{ months: ['1:3', '12'] }], when: '2025-04-01T12:00:00Z', expected: false },
    { why: 'years range', intervals: [{ years: ['2026:2027'] }], when: '2027-12-31T23:59:00Z', expected: true },
    { why: 'years outside the range', intervals: [{ years: ['2026:2027'] }], when: '2025-12-31T23:59:00Z', expected: false },
    { why: 'names are case-insensitive', intervals: [{ weekdays: ['Monday:FRIDAY'], months: ['March'] }], when: '2025-03-03T12:00:00Z', expected: true },
    { why: 'every present field must match (one fails)', intervals: [{ ...businessDay, months: ['april'] }], when: '2025-03-03T10:00:00Z', expected: false },
    { why: 'any interval may match', intervals: [{ months: ['april'] }, businessDay], when: '2025-03-03T10:00:00Z', expected: true },
    { why: 'an empty interval matches everything', intervals: [{}], when: '2025-03-08T03:00:00Z', expected: true },
    { why: 'an empty field list matches everything', intervals: [{ weekdays: [] }], when: '2025-03-08T03:00:00Z', expected: true },
    { why: 'no intervals match nothing', intervals: [], when: '2025-03-03T10:00:00Z', expected: false },
    {
      why: 'the default zone: 08:30 UTC is 09:30 in Berlin',
      intervals: [businessDay],
      zone: 'Europe/Berlin',
      when: '2025-03-03T08:30:00Z',
      expected: true,
    },
    {
      why: 'the default zone: 16:30 UTC is 17:30 in Berlin',
      intervals: [businessDay],
      zone: 'Europe/Berlin',
      when: '2025-03-03T16:30:00Z',
      expected: false,
    },
    {
      why: 'location overrides the default zone (Mon 23:00 UTC is Tue 10:00 in Sydney)',
      intervals: [{ ...businessDay, weekdays: ['tuesday'], location: 'Australia/Sydney' }],
      zone: 'UTC',
      when: '2025-03-03T23:00:00Z',
      expected: true,
    },
    {
      why: 'the zone decides the day of month too (1 Apr 00:30 in Berlin is 31 Mar UTC)',
      intervals: [{ days_of_month: ['1'] }],
      zone: 'Europe/Berlin',
      when: '2025-03-31T22:30:00Z',
      expected: true,
    },
    {
      why: 'local wall time across the Berlin DST change (Sunday 03:30 CEST)',
      intervals: [{ weekdays: ['sunday'], times: [{ start_time: '03:00', end_time: '04:00' }] }],
      zone: 'Europe/Berlin',
      when: '2025-03-30T01:30:00Z',
      expected: true,
    },
  ])('$why', ({ intervals, when, zone, expected }) => {
    expect(matchesTimeIntervals(intervals, at(when), zone ?? 'UTC')).toBe(expected);
  });

  it('refuses an unknown default zone naming the field', () => {
    expect(() => matchesTimeIntervals([{}], at('2025-03-03T10:00:00Z'), 'Nowhere/Land')).toThrow(/^timezone:/);
  });

  it('refuses a malformed stored interval naming the field', () => {
    expect(() => matchesTimeIntervals([{}, { weekdays: ['funday'] }], at('2025-03-03T10:00:00Z'), 'UTC')).toThrow(
      /^timeIntervals\[1\]\.weekdays\[0\]:.*funday/,
    );
  });

  it('a window across midnight as two ranges covers exactly local 22:00–02:00 from Saturday into Sunday', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu'),
        (when, zone) => {
          const local = DateTime.fromJSDate(when, { zone });
          const expected = (local.weekday === 6 && local.hour >= 22) || (local.weekday === 7 && local.hour < 2);
          expect(matchesTimeIntervals(saturdayNight, when, zone)).toBe(expected);
        },
      ),
    );
  });

  it('days_of_month "-1" matches exactly the last day of every month', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }), (when) => {
        const local = DateTime.fromJSDate(when, { zone: 'UTC' });
        expect(matchesTimeIntervals([{ days_of_month: ['-1'] }], when, 'UTC')).toBe(local.day === local.daysInMonth);
      }),
    );
  });
});

describe('isInWindow', () => {
  const starts = at('2025-03-08T20:00:00Z');
  const ends = at('2025-03-09T04:00:00Z');

  it.each<{ why: string; startsAt?: Date | null; endsAt?: Date | null; intervals: TimeInterval[]; when: string; expected: boolean }>([
    { why: 'one-off: startsAt is inclusive', startsAt: starts, endsAt: ends, intervals: [], when: '2025-03-08T20:00:00Z', expected: true },
    { why: 'one-off: endsAt is exclusive', startsAt: starts, endsAt: ends, intervals: [], when: '2025-03-09T04:00:00Z', expected: false },
    { why: 'one-off: before', startsAt: starts, endsAt: ends, intervals: [], when: '2025-03-08T19:59:59Z', expected: false },
    { why: 'open start', startsAt: null, endsAt: ends, intervals: [], when: '2020-01-01T00:00:00Z', expected: true },
    { why: 'open end', startsAt: starts, intervals: [], when: '2030-01-01T00:00:00Z', expected: true },
    { why: 'recurring only: in the interval', intervals: saturdayNight, when: '2025-03-15T23:00:00Z', expected: true },
    { why: 'recurring only: outside the interval', intervals: saturdayNight, when: '2025-03-15T21:00:00Z', expected: false },
    { why: 'both: inside bounds and interval', startsAt: starts, endsAt: ends, intervals: saturdayNight, when: '2025-03-08T23:00:00Z', expected: true },
    { why: 'both: inside bounds, outside interval', startsAt: starts, endsAt: ends, intervals: saturdayNight, when: '2025-03-08T21:00:00Z', expected: false },
    { why: 'both: inside interval, outside bounds', startsAt: starts, endsAt: ends, intervals: saturdayNight, when: '2025-03-15T23:00:00Z', expected: false },
    { why: 'neither: always', intervals: [], when: '2025-03-15T23:00:00Z', expected: true },
  ])('$why', ({ startsAt, endsAt, intervals, when, expected }) => {
    expect(isInWindow({ startsAt, endsAt, timezone: 'UTC', timeIntervals: intervals }, at(when))).toBe(expected);
  });

  it('reads intervals in the window zone', () => {
    const window = { timezone: 'Europe/Berlin', timeIntervals: saturdayNight };
    expect(isInWindow(window, at('2025-03-08T21:30:00Z'))).toBe(true); // 22:30 in Berlin
    expect(isInWindow(window, at('2025-03-09T01:30:00Z'))).toBe(false); // 02:30 in Berlin
  });

  it('refuses an unknown window zone naming the field', () => {
    expect(() => isInWindow({ timezone: 'Europe/Atlantis', timeIntervals: [] }, at('2025-03-03T10:00:00Z'))).toThrow(/^timezone:/);
  });
});

describe('timeIntervalSchema', () => {
  it('accepts a full Alertmanager interval', () => {
    const interval = {
      times: [{ start_time: '00:00', end_time: '24:00' }],
      weekdays: ['monday:friday', 'saturday'],
      days_of_month: ['1:5', '-1', '-7:-1', '1:-1'],
      months: ['january:march', '12'],
      years: ['2026:2027'],
      location: 'Europe/Berlin',
    };
    expect(timeIntervalSchema.parse(interval)).toEqual(interval);
  });

  it.each<{ why: string; interval: unknown; path: Array<string | number>; message: RegExp }>([
    { why: 'start_time not before end_time', interval: { times: [{ start_time: '22:00', end_time: '02:00' }] }, path: ['times', 0, 'end_time'], message: /across midnight is two intervals/ },
    { why: 'a malformed time', interval: { times: [{ start_time: '9:00', end_time: '17:00' }] }, path: ['times', 0, 'start_time'], message: /HH:MM/ },
    { why: 'an unknown weekday', interval: { weekdays: ['funday'] }, path: ['weekdays', 0], message: /"funday" is not a valid weekday/ },
    { why: 'a weekday range across Sunday', interval: { weekdays: ['saturday:sunday'] }, path: ['weekdays', 0], message: /\["saturday", "sunday"\]/ },
    { why: 'day of month 0', interval: { days_of_month: ['0'] }, path: ['days_of_month', 0], message: /not a day of month/ },
    { why: 'day of month 32', interval: { days_of_month: ['1:32'] }, path: ['days_of_month', 0], message: /not a day of month/ },
    { why: 'negative start with positive end', interval: { days_of_month: ['-1:5'] }, path: ['days_of_month', 0], message: /end must be negative/ },
    { why: 'a day range that can never match', interval: { days_of_month: ['-1:-3'] }, path: ['days_of_month', 0], message: /always before/ },
    { why: 'month 13', interval: { months: ['13'] }, path: ['months', 0], message: /not a month/ },
    { why: 'months backwards', interval: { months: ['december:january'] }, path: ['months', 0], message: /ends before it starts/ },
    { why: 'years backwards', interval: { years: ['2027:2026'] }, path: ['years', 0], message: /before start year/ },
    { why: 'a three-part range', interval: { years: ['2026:2027:2028'] }, path: ['years', 0], message: /"a" or "a:b"/ },
    { why: 'an unknown zone', interval: { location: 'Mars/Olympus' }, path: ['location'], message: /IANA/ },
    { why: 'a misspelt key', interval: { weekday: ['monday'] }, path: [], message: /weekday/ },
  ])('refuses $why', ({ interval, path, message }) => {
    const result = timeIntervalSchema.safeParse(interval);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it('parseTimeIntervals names the field of a stored interval', () => {
    expect(() => parseTimeIntervals([{ months: ['march'] }, { days_of_month: ['0'] }])).toThrow(/^timeIntervals\[1\]\.days_of_month\[0\]:/);
  });
});
