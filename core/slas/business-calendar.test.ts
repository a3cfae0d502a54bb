import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { zoneOffsetMinutes } from '../dates';
import { HubError } from '../errors';
import {
  addBusinessMinutes,
  businessMinutesBetween,
  isWithinBusinessHours,
  localTime,
  slaCalendarSchema,
  validateCalendar,
  WEEKDAYS,
  type HoursRange,
  type SlaCalendar,
  type WeeklyHours,
} from './business-calendar';

const at = (iso: string): Date => new Date(iso);
const MINUTE = 60_000;

const weekdays = (ranges: HoursRange[]): WeeklyHours => ({ mon: ranges, tue: ranges, wed: ranges, thu: ranges, fri: ranges });
const office = (timezone: string, holidays: string[] = []): SlaCalendar => ({
  timezone,
  businessHours: weekdays([['08:00', '17:00']]),
  holidays,
});
const lunchBreak = (timezone: string): SlaCalendar => ({
  timezone,
  businessHours: weekdays([
    ['08:00', '12:00'],
    ['13:00', '17:00'],
  ]),
  holidays: [],
});
const everyDayAllDay = (timezone: string): SlaCalendar => ({
  timezone,
  businessHours: Object.fromEntries(WEEKDAYS.map((d) => [d, [['00:00', '24:00']]])),
  holidays: [],
});
const sundayOnly = (timezone: string, range: HoursRange): SlaCalendar => ({
  timezone,
  businessHours: { sun: [range] },
  holidays: [],
});

describe('addBusinessMinutes', () => {
  // 2025-03-03 is a Monday. Berlin: CET (+01:00) until 2025-03-30, CEST (+02:00) until 2025-10-26.
  const cases: Array<{ name: string; cal: SlaCalendar; start: string; minutes: number; due: string }> = [
    {
      name: 'R-LINK-5: Mon 16:30 + 60 business minutes with 08:00–17:00 hours lands Tue 08:30',
      cal: office('UTC'),
      start: '2025-03-03T16:30:00Z',
      minutes: 60,
      due: '2025-03-04T08:30:00Z',
    },
    {
      name: 'R-LINK-5: hours are read in the calendar zone (Berlin Mon 16:30 → Tue 08:30 local)',
      cal: office('Europe/Berlin'),
      start: '2025-03-03T16:30:00+01:00',
      minutes: 60,
      due: '2025-03-04T08:30:00+01:00',
    },
    {
      name: 'R-LINK-5: a holiday is skipped (Tue is a holiday → Wed 08:30)',
      cal: office('Europe/Berlin', ['2025-03-04']),
      start: '2025-03-03T16:30:00+01:00',
      minutes: 60,
      due: '2025-03-05T08:30:00+01:00',
    },
    {
      name: 'R-LINK-5: consecutive holidays and a weekend are skipped',
      cal: office('Europe/Berlin', ['2025-04-18', '2025-04-21']), // Good Friday, Easter Monday
      start: '2025-04-17T16:00:00+02:00',
      minutes: 120,
      due: '2025-04-22T09:00:00+02:00',
    },
    {
      name: 'R-LINK-5: two ranges a day, the lunch break does not count',
      cal: lunchBreak('UTC'),
      start: '2025-03-03T11:30:00Z',
      minutes: 60,
      due: '2025-03-03T13:30:00Z',
    },
    {
      name: 'R-LINK-5: exhausting a range exactly ends at the range end, not at the next opening',
      cal: lunchBreak('UTC'),
      start: '2025-03-03T11:30:00Z',
      minutes: 30,
      due: '2025-03-03T12:00:00Z',
    },
    {
      name: 'R-LINK-5: a start before opening counts from the opening',
      cal: office('UTC'),
      start: '2025-03-03T06:00:00Z',
      minutes: 15,
      due: '2025-03-03T08:15:00Z',
    },
    {
      name: 'R-LINK-5: a start on Saturday counts from Monday',
      cal: office('UTC'),
      start: '2025-03-08T10:00:00Z',
      minutes: 540,
      due: '2025-03-10T17:00:00Z',
    },
    {
      name: 'R-LINK-5: seconds of the start are kept',
      cal: office('UTC'),
      start: '2025-03-03T16:59:30Z',
      minutes: 1,
      due: '2025-03-04T08:00:30Z',
    },
    {
      name: 'R-LINK-5: Berlin Fri 16:30 CET + 60 across the March change lands Mon 08:30 CEST',
      cal: office('Europe/Berlin'),
      start: '2025-03-28T16:30:00+01:00',
      minutes: 60,
      due: '2025-03-31T08:30:00+02:00',
    },
    {
      name: 'R-LINK-5: Berlin Fri 16:30 CEST + 60 across the October change lands Mon 08:30 CET',
      cal: office('Europe/Berlin'),
      start: '2025-10-24T16:30:00+02:00',
      minutes: 60,
      due: '2025-10-27T08:30:00+01:00',
    },
    {
      name: 'R-LINK-5: the last Sunday of March has 23 hours (00:00–24:00 Sunday only)',
      cal: sundayOnly('Europe/Berlin', ['00:00', '24:00']),
      start: '2025-03-29T12:00:00+01:00',
      minutes: 1440,
      due: '2025-04-06T01:00:00+02:00',
    },
    {
      name: 'R-LINK-5: the last Sunday of October has 25 hours (00:00–24:00 Sunday only)',
      cal: sundayOnly('Europe/Berlin', ['00:00', '24:00']),
      start: '2025-10-25T12:00:00+02:00',
      minutes: 1440,
      due: '2025-10-26T23:00:00+01:00',
    },
    {
      name: 'R-LINK-5: 08:00–17:00 on a Sunday with a DST change is still 08:00–17:00 local',
      cal: sundayOnly('Europe/Berlin', ['08:00', '17:00']),
      start: '2025-03-30T00:00:00+01:00',
      minutes: 540,
      due: '2025-03-30T17:00:00+02:00',
    },
    {
      name: 'R-LINK-5: the wall-clock hour that does not exist in March is not business time',
      cal: sundayOnly('Europe/Berlin', ['01:00', '04:00']),
      start: '2025-03-30T01:00:00+01:00',
      minutes: 90,
      due: '2025-03-30T03:30:00+02:00',
    },
    {
      name: 'R-LINK-5: the wall-clock hour that repeats in October counts twice',
      cal: sundayOnly('Europe/Berlin', ['02:00', '03:00']),
      start: '2025-10-26T00:00:00+02:00',
      minutes: 90,
      due: '2025-10-26T02:30:00+01:00',
    },
    {
      name: 'R-LINK-5: 24x7 is plain minutes, even across a DST change',
      cal: { timezone: 'Europe/Berlin', businessHours: '24x7', holidays: ['2025-03-30'] },
      start: '2025-03-29T12:00:00+01:00',
      minutes: 1440,
      due: '2025-03-30T13:00:00+02:00',
    },
    {
      name: 'R-LINK-5: a night shift ending 24:00 continues at 00:00 the next day',
      cal: { timezone: 'UTC', businessHours: { fri: [['20:00', '24:00']], sat: [['00:00', '02:00']] }, holidays: [] },
      start: '2025-03-07T23:30:00Z',
      minutes: 60,
      due: '2025-03-08T00:30:00Z',
    },
    {
      name: 'R-LINK-5: an end of 00:00 means midnight',
      cal: { timezone: 'UTC', businessHours: { fri: [['22:00', '00:00']] }, holidays: [] },
      start: '2025-03-07T21:00:00Z',
      minutes: 120,
      due: '2025-03-08T00:00:00Z',
    },
    {
      name: 'R-LINK-5: 30-minute DST shift (Australia/Lord_Howe, first Sunday of April 2025)',
      cal: everyDayAllDay('Australia/Lord_Howe'),
      start: '2025-04-06T00:00:00+11:00',
      minutes: 1440,
      due: '2025-04-06T23:30:00+10:30',
    },
    {
      name: 'R-LINK-5: 10 weeks of business minutes, counted by day not by minute',
      cal: office('UTC'),
      start: '2025-03-03T08:00:00Z',
      minutes: 540 * 5 * 10,
      due: '2025-05-09T17:00:00Z',
    },
  ];

  it.each(cases)('$name', ({ cal, start, minutes, due }) => {
    expect(addBusinessMinutes(cal, at(start), minutes).toISOString()).toBe(at(due).toISOString());
  });

  it('R-LINK-5: 0 minutes returns the start unchanged, even outside business hours', () => {
    const start = at('2025-03-08T03:17:12.345Z');
    const due = addBusinessMinutes(office('Europe/Berlin'), start, 0);
    expect(due.getTime()).toBe(start.getTime());
  });

  it('R-LINK-5: a year of business minutes stays fast', () => {
    const began = performance.now();
    const due = addBusinessMinutes(office('Europe/Berlin', ['2025-12-25']), at('2025-01-06T08:00:00+01:00'), 540 * 260);
    expect(performance.now() - began).toBeLessThan(1000);
    expect(due.getTime()).toBeGreaterThan(at('2025-12-31T00:00:00Z').getTime());
  });

  it.each([
    { minutes: -1, field: 'minutes' },
    { minutes: Number.NaN, field: 'minutes' },
    { minutes: Number.POSITIVE_INFINITY, field: 'minutes' },
  ])('refuses $minutes minutes naming the field', ({ minutes, field }) => {
    expect(() => addBusinessMinutes(office('UTC'), at('2025-03-03T08:00:00Z'), minutes)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringContaining(field) }),
    );
  });

  it('refuses an invalid start instant', () => {
    expect(() => addBusinessMinutes(office('UTC'), new Date(Number.NaN), 5)).toThrow(/start/);
  });

  it('refuses an invalid calendar with every problem in the details', () => {
    const bad: SlaCalendar = { timezone: 'Mars/Olympus', businessHours: { mon: [['09:00', '08:00']] }, holidays: [] };
    let caught: unknown;
    try {
      addBusinessMinutes(bad, at('2025-03-03T08:00:00Z'), 5);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(HubError);
    expect(caught).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('calendar.timezone') });
    expect((caught as HubError).details).toEqual([
      expect.objectContaining({ field: 'timezone' }),
      expect.objectContaining({ field: 'businessHours.mon[0]' }),
    ]);
  });
});

describe('businessMinutesBetween', () => {
  it.each([
    { name: 'same business day', cal: office('UTC'), a: '2025-03-03T09:00:00Z', b: '2025-03-03T10:30:00Z', minutes: 90 },
    { name: 'overnight', cal: office('UTC'), a: '2025-03-03T16:30:00Z', b: '2025-03-04T08:30:00Z', minutes: 60 },
    { name: 'whole week', cal: office('UTC'), a: '2025-03-03T00:00:00Z', b: '2025-03-10T00:00:00Z', minutes: 2700 },
    { name: 'lunch break excluded', cal: lunchBreak('UTC'), a: '2025-03-03T11:00:00Z', b: '2025-03-03T14:00:00Z', minutes: 120 },
    { name: 'reversed order is negative', cal: office('UTC'), a: '2025-03-04T08:30:00Z', b: '2025-03-03T16:30:00Z', minutes: -60 },
    { name: 'fractional minutes are exact', cal: office('UTC'), a: '2025-03-03T09:00:00Z', b: '2025-03-03T09:00:30Z', minutes: 0.5 },
    {
      name: 'March change Sunday has 23 hours',
      cal: everyDayAllDay('Europe/Berlin'),
      a: '2025-03-30T00:00:00+01:00',
      b: '2025-03-31T00:00:00+02:00',
      minutes: 1380,
    },
    {
      name: 'October change Sunday has 25 hours',
      cal: everyDayAllDay('Europe/Berlin'),
      a: '2025-10-26T00:00:00+02:00',
      b: '2025-10-27T00:00:00+01:00',
      minutes: 1500,
    },
    {
      name: 'holiday counts nothing',
      cal: office('Europe/Berlin', ['2025-03-04']),
      a: '2025-03-04T00:00:00+01:00',
      b: '2025-03-05T00:00:00+01:00',
      minutes: 0,
    },
    { name: '24x7', cal: { timezone: 'UTC', businessHours: '24x7' as const, holidays: [] }, a: '2025-03-03T00:00:00Z', b: '2025-03-04T00:00:00Z', minutes: 1440 },
  ])('R-LINK-5: $name', ({ cal, a, b, minutes }) => {
    expect(businessMinutesBetween(cal, at(a), at(b))).toBe(minutes);
  });
});

describe('isWithinBusinessHours', () => {
  const cal = lunchBreak('Europe/Berlin');
  it.each([
    { when: '2025-03-03T08:00:00+01:00', inside: true, why: 'opening minute is inside' },
    { when: '2025-03-03T07:59:59+01:00', inside: false, why: 'before opening' },
    { when: '2025-03-03T12:00:00+01:00', inside: false, why: 'range end is exclusive' },
    { when: '2025-03-03T13:00:00+01:00', inside: true, why: 'after lunch' },
    { when: '2025-03-03T16:59:59+01:00', inside: true, why: 'last second' },
    { when: '2025-03-03T17:00:00+01:00', inside: false, why: 'closing' },
    { when: '2025-03-08T10:00:00+01:00', inside: false, why: 'Saturday' },
    { when: '2025-03-03T07:30:00Z', inside: true, why: '07:30 UTC is 08:30 in Berlin' },
  ])('R-LINK-5: $why', ({ when, inside }) => {
    expect(isWithinBusinessHours(cal, at(when))).toBe(inside);
  });

  it('R-LINK-5: nothing on a holiday is business time', () => {
    expect(isWithinBusinessHours(office('Europe/Berlin', ['2025-03-03']), at('2025-03-03T10:00:00+01:00'))).toBe(false);
  });

  it('R-LINK-5: 24x7 is always business time', () => {
    expect(isWithinBusinessHours({ timezone: 'UTC', businessHours: '24x7', holidays: [] }, at('2025-03-08T03:00:00Z'))).toBe(true);
  });
});

describe('localTime', () => {
  it.each([
    { zone: 'Europe/Berlin', when: '2025-03-30T01:30:00Z', expected: { weekday: 'sun', hour: 3, minute: 30, date: '2025-03-30' } },
    { zone: 'Europe/Berlin', when: '2025-03-30T00:30:00Z', expected: { weekday: 'sun', hour: 1, minute: 30, date: '2025-03-30' } },
    { zone: 'America/New_York', when: '2025-03-03T02:15:00Z', expected: { weekday: 'sun', hour: 21, minute: 15, date: '2025-03-02' } },
    { zone: 'Asia/Kathmandu', when: '2025-03-03T00:00:00Z', expected: { weekday: 'mon', hour: 5, minute: 45, date: '2025-03-03' } },
  ])('$zone at $when', ({ zone, when, expected }) => {
    expect(localTime(zone, at(when))).toEqual(expected);
  });

  it('refuses an unknown zone naming the field', () => {
    expect(() => localTime('Europe/Atlantis', at('2025-03-03T00:00:00Z'))).toThrow(/timezone/);
  });
});

describe('validateCalendar / slaCalendarSchema', () => {
  it.each<{ name: string; cal: unknown; problems: Array<{ field: string; message: RegExp }> }>([
    { name: 'a valid office calendar', cal: office('Europe/Berlin', ['2025-12-25']), problems: [] },
    { name: '24x7', cal: { timezone: 'UTC', businessHours: '24x7' }, problems: [] },
    { name: 'touching ranges are fine', cal: { timezone: 'UTC', businessHours: { mon: [['08:00', '12:00'], ['12:00', '17:00']] } }, problems: [] },
    { name: 'unknown zone', cal: { ...office('UTC'), timezone: 'Europe/Atlantis' }, problems: [{ field: 'timezone', message: /IANA/ }] },
    {
      name: 'inverted range',
      cal: { timezone: 'UTC', businessHours: { tue: [['17:00', '08:00']] } },
      problems: [{ field: 'businessHours.tue[0]', message: /ends before it starts/ }],
    },
    {
      name: 'overlapping ranges, named by index in the input',
      cal: { timezone: 'UTC', businessHours: { wed: [['13:00', '17:00'], ['08:00', '13:30']] } },
      problems: [{ field: 'businessHours.wed[0]', message: /overlaps businessHours\.wed\[1\]/ }],
    },
    {
      name: 'bad start time',
      cal: { timezone: 'UTC', businessHours: { mon: [['8:00', '17:00']] } },
      problems: [{ field: 'businessHours.mon[0][0]', message: /start must be HH:MM/ }],
    },
    {
      name: '24:00 is no start',
      cal: { timezone: 'UTC', businessHours: { mon: [['24:00', '24:00']] } },
      problems: [{ field: 'businessHours.mon[0][0]', message: /start must be HH:MM/ }],
    },
    {
      name: 'bad end time',
      cal: { timezone: 'UTC', businessHours: { mon: [['08:00', '17:60']] } },
      problems: [{ field: 'businessHours.mon[0][1]', message: /end must be HH:MM/ }],
    },
    {
      name: 'unknown weekday',
      cal: { timezone: 'UTC', businessHours: { monday: [['08:00', '17:00']], tue: [['08:00', '17:00']] } },
      problems: [{ field: 'businessHours', message: /unknown weekday key\(s\) "monday"/ }],
    },
    { name: 'no hours at all', cal: { timezone: 'UTC', businessHours: {} }, problems: [{ field: 'businessHours', message: /no business hours/ }] },
    { name: 'not 24x7', cal: { timezone: 'UTC', businessHours: '24/7' }, problems: [{ field: 'businessHours', message: /"24x7"/ }] },
    {
      name: 'impossible holiday',
      cal: { ...office('UTC'), holidays: ['2025-12-25', '2025-02-30'] },
      problems: [{ field: 'holidays[1]', message: /YYYY-MM-DD/ }],
    },
  ])('$name', ({ cal, problems }) => {
    const found = validateCalendar(cal);
    expect(found).toHaveLength(problems.length);
    problems.forEach((p, i) => {
      expect(found[i]).toEqual({ field: p.field, message: expect.stringMatching(p.message) });
    });
  });

  it('fills in missing holidays with an empty list', () => {
    expect(slaCalendarSchema.parse({ timezone: 'UTC', businessHours: '24x7' })).toEqual({ timezone: 'UTC', businessHours: '24x7', holidays: [] });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties. Calendars are drawn from fixed interesting shapes and from random weekly hours,
// in zones with ordinary, half-hour, midnight and no DST changes; instants span 2024–2026.

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kathmandu'];

const clock = (minutes: number): string =>
  minutes === 1440 ? '24:00' : `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** 0–3 disjoint ranges on 15-minute boundaries (so they can touch, start at 00:00 and end at 24:00). */
const dayRangesArb: fc.Arbitrary<HoursRange[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 96 }), { maxLength: 6 })
  .map((points) => {
    const sorted = [...points].sort((a, b) => a - b);
    const ranges: HoursRange[] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      const s = sorted[i];
      const e = sorted[i + 1];
      if (s !== undefined && e !== undefined) ranges.push([clock(s * 15), clock(e * 15)]);
    }
    return ranges;
  });

const holidayArb = fc
  .date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const randomCalendarArb: fc.Arbitrary<SlaCalendar> = fc
  .record({
    timezone: fc.constantFrom(...ZONES),
    days: fc.tuple(dayRangesArb, dayRangesArb, dayRangesArb, dayRangesArb, dayRangesArb, dayRangesArb, dayRangesArb),
    holidays: fc.array(holidayArb, { maxLength: 20 }),
  })
  .filter(({ days }) => days.some((d) => d.length > 0))
  .map(({ timezone, days, holidays }) => ({
    timezone,
    businessHours: Object.fromEntries(WEEKDAYS.map((d, i) => [d, days[i] ?? []])),
    holidays,
  }));

const calendarArb: fc.Arbitrary<SlaCalendar> = fc.oneof(
  fc.constantFrom(...ZONES).chain((zone) =>
    fc.constantFrom(office(zone, ['2025-12-25', '2025-12-26']), lunchBreak(zone), everyDayAllDay(zone), sundayOnly(zone, ['01:00', '04:00'])),
  ),
  randomCalendarArb,
);

/** Instants anywhere in 2024–2026, and instants within two days of Berlin/New York/Santiago changes. */
const TRANSITIONS = ['2025-03-30T01:00:00Z', '2025-10-26T01:00:00Z', '2025-03-09T07:00:00Z', '2025-11-02T06:00:00Z', '2025-04-06T03:00:00Z', '2025-09-07T04:00:00Z'];
const instantArb: fc.Arbitrary<Date> = fc.oneof(
  fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -2 * 1440 * MINUTE, max: 2 * 1440 * MINUTE }))
    .map(([iso, delta]) => new Date(new Date(iso).getTime() + delta)),
);
const minutesArb = fc.integer({ min: 0, max: 6000 });

describe('business time properties', () => {
  it('R-LINK-5: the due instant is never before the start', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, (cal, start, minutes) => {
        expect(addBusinessMinutes(cal, start, minutes).getTime()).toBeGreaterThanOrEqual(start.getTime());
      }),
    );
  });

  it('R-LINK-5: for minutes > 0 the due instant lies inside business hours or exactly at a range end', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, fc.integer({ min: 1, max: 6000 }), (cal, start, minutes) => {
        const due = addBusinessMinutes(cal, start, minutes);
        // The last counted millisecond is business time, so `due` is inside or right at a range end.
        expect(isWithinBusinessHours(cal, new Date(due.getTime() - 1))).toBe(true);
      }),
    );
  });

  it('R-LINK-5: adding a then b equals adding a + b', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, minutesArb, (cal, start, a, b) => {
        const stepwise = addBusinessMinutes(cal, addBusinessMinutes(cal, start, a), b);
        expect(stepwise.getTime()).toBe(addBusinessMinutes(cal, start, a + b).getTime());
      }),
    );
  });

  it('R-LINK-5: businessMinutesBetween(s, addBusinessMinutes(s, m)) === m', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, minutesArb, (cal, start, minutes) => {
        expect(businessMinutesBetween(cal, start, addBusinessMinutes(cal, start, minutes))).toBe(minutes);
      }),
    );
  });

  it('R-LINK-5: business minutes add up over consecutive spans', () => {
    fc.assert(
      fc.property(calendarArb, fc.array(instantArb, { minLength: 3, maxLength: 3 }), (cal, instants) => {
        const [a, b, c] = [...instants].sort((x, y) => x.getTime() - y.getTime());
        if (!a || !b || !c) return;
        const ms = (x: Date, y: Date): number => Math.round(businessMinutesBetween(cal, x, y) * MINUTE);
        expect(ms(a, b) + ms(b, c)).toBe(ms(a, c));
      }),
      { numRuns: 50 },
    );
  });

  it('R-LINK-5: a millisecond counts as business time exactly when isWithinBusinessHours says so', () => {
    fc.assert(
      fc.property(calendarArb, instantArb, (cal, t) => {
        const counted = Math.round(businessMinutesBetween(cal, t, new Date(t.getTime() + 1)) * MINUTE);
        expect(counted).toBe(isWithinBusinessHours(cal, t) ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('R-LINK-5: 24x7 business minutes are plain minutes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instantArb, minutesArb, (timezone, start, minutes) => {
        const cal: SlaCalendar = { timezone, businessHours: '24x7', holidays: [] };
        expect(addBusinessMinutes(cal, start, minutes).getTime()).toBe(start.getTime() + minutes * MINUTE);
      }),
    );
  });
});

describe('cached zone offsets (R-LINK-5: due dates in the calendar\'s zone)', () => {
  // Zones with DST at different hours, half-hour offsets, a 30-minute DST shift and a southern-hemisphere rule.
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham', 'UTC'];
  const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) });

  it('zoneOffsetMinutes agrees with luxon at every instant, including just around each DST change', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, fc.integer({ min: -3, max: 3 }), (name, ts, nudge) => {
        const zone = IANAZone.create(name);
        // Snap near an hour boundary half of the time: DST changes happen there.
        const at = nudge === 0 ? ts : Math.floor(ts / 3_600_000) * 3_600_000 + nudge;
        expect(zoneOffsetMinutes(zone, at)).toBe(zone.offset(at));
      }),
      { numRuns: 3000 },
    );
    // Every change of 2026 in Berlin and Lord Howe, to the millisecond.
    for (const [name, changes] of [
      ['Europe/Berlin', [Date.UTC(2026, 2, 29, 1), Date.UTC(2026, 9, 25, 1)]],
      ['Australia/Lord_Howe', [Date.UTC(2026, 3, 4, 15), Date.UTC(2026, 9, 3, 15, 30)]],
    ] as const) {
      const zone = IANAZone.create(name);
      for (const c of changes) for (const d of [-1, 0, 1]) expect(zoneOffsetMinutes(zone, c + d)).toBe(zone.offset(c + d));
    }
  });

  it('localTime agrees with luxon\'s wall clock', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (name, ts) => {
        const dt = DateTime.fromMillis(ts, { zone: name });
        expect(localTime(name, new Date(ts))).toEqual({ weekday: WEEKDAYS[dt.weekday - 1], hour: dt.hour, minute: dt.minute, date: dt.toISODate() });
      }),
      { numRuns: 2000 },
    );
  });
});
