import fc from 'fast-check';
import { DateTime } from 'luxon';
import {
  addDays,
  addMonthsClamped,
  assertIsoDate,
  compareDates,
  daysBetween,
  daysInMonth,
  isIsoDate,
  isLastDayOfMonth,
  isoDateSchema,
  isValidTimeZone,
  maxDate,
  minDate,
  todayIn,
} from './dates';

describe('isIsoDate', () => {
  it.each<[unknown, boolean]>([
    ['2025-05-01', true],
    ['2024-02-29', true],
    ['2025-02-29', false],
    ['2025-02-30', false],
    ['2025-13-01', false],
    ['2025-5-1', false],
    ['2025-05-01T00:00:00Z', false],
    [' 2025-05-01', false],
    ['', false],
    [20250501, false],
    [null, false],
  ])('%p → %p', (value, expected) => {
    expect(isIsoDate(value)).toBe(expected);
    expect(isoDateSchema.safeParse(value).success).toBe(expected);
  });

  it('assertIsoDate names the field', () => {
    expect(() => assertIsoDate('2025-02-30', 'startDate')).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^startDate: /) }),
    );
  });
});

describe('date arithmetic', () => {
  it.each([
    ['2025-04-30', 1, '2025-05-01'],
    ['2024-12-31', 1, '2025-01-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2025-02-28', 1, '2025-03-01'],
    ['2025-03-01', -1, '2025-02-28'],
    ['2025-03-30', 1, '2025-03-31'], // a DST change day in Europe is still one day
    ['2025-01-01', 365, '2026-01-01'],
  ])('addDays(%s, %i) = %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });

  it.each([
    ['2025-01-31', 1, '2025-02-28'],
    ['2024-01-31', 1, '2024-02-29'],
    ['2025-03-31', -1, '2025-02-28'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2025-01-15', 3, '2025-04-15'],
    ['2025-11-30', 3, '2026-02-28'],
  ])('addMonthsClamped(%s, %i) = %s', (date, months, expected) => {
    expect(addMonthsClamped(date, months)).toBe(expected);
  });

  it('refuses fractional steps naming the field', () => {
    expect(() => addDays('2025-01-01', 1.5)).toThrow(/^days:/);
    expect(() => addMonthsClamped('2025-01-01', 0.5)).toThrow(/^months:/);
  });

  it.each([
    ['2025-01-01', '2025-01-31', 30],
    ['2025-02-01', '2025-05-01', 89],
    ['2025-05-01', '2025-02-01', -89],
    ['2024-01-01', '2025-01-01', 366],
  ])('daysBetween(%s, %s) = %i', (a, b, days) => {
    expect(daysBetween(a, b)).toBe(days);
  });

  it.each([
    ['2024-02-29', true, 29],
    ['2025-02-28', true, 28],
    ['2025-04-30', true, 30],
    ['2025-12-31', true, 31],
    ['2025-04-29', false, 30],
    ['2024-02-28', false, 29],
  ])('%s: last day of month %p, month has %i days', (date, last, days) => {
    expect(isLastDayOfMonth(date)).toBe(last);
    expect(daysInMonth(date)).toBe(days);
  });
});

describe('comparison', () => {
  it('compareDates orders dates', () => {
    expect(compareDates('2025-01-01', '2025-01-02')).toBe(-1);
    expect(compareDates('2025-01-02', '2025-01-02')).toBe(0);
    expect(compareDates('2026-01-01', '2025-12-31')).toBe(1);
    expect(['2025-03-01', '2024-12-31', '2025-01-15'].sort(compareDates)).toEqual(['2024-12-31', '2025-01-15', '2025-03-01']);
  });

  it('minDate / maxDate', () => {
    expect(minDate('2025-03-01', '2024-12-31', '2025-01-15')).toBe('2024-12-31');
    expect(maxDate('2025-03-01', '2024-12-31', '2025-01-15')).toBe('2025-03-01');
    expect(minDate('2025-03-01')).toBe('2025-03-01');
    expect(() => maxDate('2025-03-01', 'tomorrow')).toThrow(/YYYY-MM-DD/);
  });
});

describe('todayIn', () => {
  it.each([
    ['Europe/Berlin', '2025-03-03T23:30:00Z', '2025-03-04'],
    ['America/New_York', '2025-03-03T23:30:00Z', '2025-03-03'],
    ['Pacific/Kiritimati', '2025-12-31T10:00:00Z', '2026-01-01'],
    ['UTC', '2025-12-31T23:59:59.999Z', '2025-12-31'],
  ])('in %s at %s it is %s', (zone, now, expected) => {
    expect(todayIn(zone, new Date(now))).toBe(expected);
  });

  it('agrees with luxon at any instant in any zone, also just around DST changes and far from today', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Pacific/Apia', 'UTC', 'Africa/Casablanca'];
    const luxonDate = (zone: string, ts: number) => DateTime.fromMillis(ts, { zone }).toISODate();
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }), (zone, ts) => {
        expect(todayIn(zone, new Date(ts))).toBe(luxonDate(zone, ts));
      }),
      { numRuns: 3000 },
    );
    // Every minute around each of Berlin's and Lord Howe's (30-minute) DST changes of 2026, and around local midnights.
    for (const [zone, around] of [
      ['Europe/Berlin', ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-28T23:00:00Z']],
      ['Australia/Lord_Howe', ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', '2026-04-04T13:00:00Z']],
    ] as const) {
      for (const at of around) for (let m = -90; m <= 90; m++) {
        const ts = Date.parse(at) + m * 60_000;
        expect(todayIn(zone, new Date(ts))).toBe(luxonDate(zone, ts));
      }
    }
    // Beyond the years toISOString writes as YYYY: luxon's own answer.
    expect(todayIn('UTC', new Date(Date.UTC(12000, 0, 1)))).toBe(DateTime.fromMillis(Date.UTC(12000, 0, 1), { zone: 'UTC' }).toISODate());
  });

  it('refuses an unknown zone and an invalid clock naming the field', () => {
    expect(() => todayIn('Europe/Atlantis', new Date())).toThrow(/^zone:/);
    expect(() => todayIn('UTC', new Date('x'))).toThrow(/^now:/);
  });

  it('isValidTimeZone', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone(42)).toBe(false);
  });
});

describe('date properties', () => {
  const dateArb = fc
    .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));
  const stepArb = fc.integer({ min: -5000, max: 5000 });

  it('addDays is undone by its negative and measured by daysBetween', () => {
    fc.assert(
      fc.property(dateArb, stepArb, (date, n) => {
        const moved = addDays(date, n);
        expect(isIsoDate(moved)).toBe(true);
        expect(addDays(moved, -n)).toBe(date);
        expect(daysBetween(date, moved)).toBe(n);
        expect(compareDates(date, moved)).toBe(-Math.sign(n) || 0);
      }),
    );
  });

  it('addMonthsClamped moves the month exactly and never past the original day', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: -240, max: 240 }), (date, n) => {
        const moved = addMonthsClamped(date, n);
        const monthIndex = (d: string): number => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
        expect(monthIndex(moved) - monthIndex(date)).toBe(n);
        const day = Number(date.slice(8, 10));
        expect(Number(moved.slice(8, 10))).toBe(Math.min(day, daysInMonth(moved)));
      }),
    );
  });
});
