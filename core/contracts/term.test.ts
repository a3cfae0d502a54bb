import fc from 'fast-check';
import { addDays, compareDates, isLastDayOfMonth } from '../dates';
import { contractTerm, defaultRenewalStart, endDateForTerm, renewalEndDate } from './term';

describe('renewalEndDate', () => {
  it('R-REN-6: quarter covering February (1 Feb – 30 Apr) renewed from 1 May ends 31 July, not 28 July', () => {
    expect(renewalEndDate('2025-02-01', '2025-04-30', '2025-05-01')).toBe('2025-07-31');
  });

  it.each([
    { why: 'a calendar year renews to a calendar year', orig: ['2024-01-01', '2024-12-31'], start: '2025-01-01', end: '2025-12-31' },
    { why: 'January renews to all of February', orig: ['2025-01-01', '2025-01-31'], start: '2025-02-01', end: '2025-02-28' },
    { why: 'a leap-year February renews to all of March', orig: ['2024-02-01', '2024-02-29'], start: '2024-03-01', end: '2024-03-31' },
    { why: 'a half year ending in February renews to the end of August', orig: ['2024-09-01', '2025-02-28'], start: '2025-03-01', end: '2025-08-31' },
    { why: 'a year ending on 29 Feb renews to 28 Feb', orig: ['2023-03-01', '2024-02-29'], start: '2024-03-01', end: '2025-02-28' },
    { why: 'a year from 29 Feb is whole; its renewal from 1 Mar is a whole year', orig: ['2024-02-29', '2025-02-28'], start: '2025-03-01', end: '2026-02-28' },
    { why: 'mid-month quarters stay mid-month', orig: ['2025-01-15', '2025-04-14'], start: '2025-04-15', end: '2025-07-14' },
    { why: 'a back-dated start keeps the full term', orig: ['2025-02-01', '2025-04-30'], start: '2025-04-01', end: '2025-06-30' },
    { why: 'a later start keeps the full term', orig: ['2025-02-01', '2025-04-30'], start: '2025-06-01', end: '2025-08-31' },
    { why: 'one month from 31 Jan ends on the last day of February (BGB §188(3))', orig: ['2024-12-31', '2025-01-30'], start: '2025-01-31', end: '2025-02-28' },
    { why: 'a quarter from 31 Jan is anchored, not chained month by month (ends 30 Apr, not 27 Apr)', orig: ['2025-02-01', '2025-04-30'], start: '2025-01-31', end: '2025-04-30' },
    { why: 'months and remaining days: 1 Jan – 14 Feb is 1 month 14 days', orig: ['2025-01-01', '2025-02-14'], start: '2025-02-15', end: '2025-03-28' },
    { why: 'a one-day contract renews for one day', orig: ['2025-03-05', '2025-03-05'], start: '2025-03-06', end: '2025-03-06' },
    { why: 'a quarter crossing the year end', orig: ['2024-11-01', '2025-01-31'], start: '2025-02-01', end: '2025-04-30' },
  ])('R-REN-6: $why', ({ orig, start, end }) => {
    const [origStart, origEnd] = orig as [string, string];
    expect(renewalEndDate(origStart, origEnd, start)).toBe(end);
  });

  it.each([
    { args: ['2025-02-01', '2025-04-30', '2025-02-30'], field: 'startDate' },
    { args: ['2025-13-01', '2025-04-30', '2025-05-01'], field: 'originalStartDate' },
    { args: ['2025-02-01', '30.04.2025', '2025-05-01'], field: 'originalEndDate' },
    { args: ['2025-05-01', '2025-04-30', '2025-05-01'], field: 'originalEndDate' },
  ])('refuses bad input naming $field', ({ args, field }) => {
    const [a, b, c] = args as [string, string, string];
    expect(() => renewalEndDate(a, b, c)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(new RegExp(`^${field}:`)) }));
  });
});

describe('contractTerm', () => {
  it.each([
    { start: '2025-02-01', end: '2025-04-30', term: { months: 3, days: 0 } },
    { start: '2024-02-01', end: '2024-02-29', term: { months: 1, days: 0 } },
    { start: '2025-01-15', end: '2025-03-31', term: { months: 2, days: 17 } },
    { start: '2025-01-31', end: '2025-02-28', term: { months: 1, days: 0 } },
    { start: '2025-01-31', end: '2025-04-30', term: { months: 3, days: 0 } },
    { start: '2025-03-05', end: '2025-03-05', term: { months: 0, days: 1 } },
    { start: '2025-01-01', end: '2025-01-30', term: { months: 0, days: 30 } },
  ])('R-REN-6: $start – $end is $term.months months $term.days days', ({ start, end, term }) => {
    expect(contractTerm(start, end)).toEqual(term);
  });

  it('refuses an end before the start naming endDate', () => {
    expect(() => contractTerm('2025-05-01', '2025-04-30')).toThrow(/^endDate:/);
  });
});

describe('endDateForTerm', () => {
  it.each([
    { term: { months: -1, days: 0 }, field: 'term.months' },
    { term: { months: 1.5, days: 0 }, field: 'term.months' },
    { term: { months: 0, days: -2 }, field: 'term.days' },
    { term: { months: 0, days: 0 }, field: 'term' },
  ])('refuses $term naming $field', ({ term, field }) => {
    expect(() => endDateForTerm('2025-01-01', term)).toThrow(new RegExp(`^${field.replace('.', '\\.')}:`));
  });
});

describe('defaultRenewalStart', () => {
  it.each([
    ['2025-04-30', '2025-05-01'],
    ['2024-12-31', '2025-01-01'],
    ['2024-02-28', '2024-02-29'],
    ['2025-02-28', '2025-03-01'],
  ])('R-REN-4: a contract ending %s is renewed from %s by default', (end, start) => {
    expect(defaultRenewalStart(end)).toBe(start);
  });

  it('refuses a bad date naming originalEndDate', () => {
    expect(() => defaultRenewalStart('2025-02-29')).toThrow(/^originalEndDate:/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties, with dates biased towards month ends, leap years and 28–31-day months.

const lastDay = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();
const iso = (y: number, m: number, d: number): string => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

const dateArb: fc.Arbitrary<string> = fc
  .record({
    year: fc.integer({ min: 2019, max: 2031 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.oneof(fc.constantFrom(1, 2, 27, 28, 29, 30, 31, 'last' as const), fc.integer({ min: 1, max: 31 })),
  })
  .map(({ year, month, day }) => iso(year, month, day === 'last' ? lastDay(year, month) : Math.min(day, lastDay(year, month))));

const firstOfMonthArb: fc.Arbitrary<string> = fc
  .record({ year: fc.integer({ min: 2019, max: 2031 }), month: fc.integer({ min: 1, max: 12 }) })
  .map(({ year, month }) => iso(year, month, 1));

const contractArb: fc.Arbitrary<[string, string]> = fc
  .tuple(dateArb, fc.integer({ min: 0, max: 800 }))
  .map(([start, length]) => [start, addDays(start, length)]);

/** A contract of k whole months from a month's 1st to a month's last day. */
const wholeMonthsArb: fc.Arbitrary<{ start: string; end: string; months: number }> = fc
  .tuple(firstOfMonthArb, fc.integer({ min: 1, max: 36 }))
  .map(([start, months]) => {
    const index = Number(start.slice(0, 4)) * 12 + Number(start.slice(5, 7)) - 1 + months - 1;
    const year = Math.floor(index / 12);
    const month = (index % 12) + 1;
    return { start, end: iso(year, month, lastDay(year, month)), months };
  });

describe('renewal term properties', () => {
  it('R-REN-6: renewing from the original start reproduces the original end', () => {
    fc.assert(
      fc.property(contractArb, ([start, end]) => {
        expect(renewalEndDate(start, end, start)).toBe(end);
      }),
      { numRuns: 500 },
    );
  });

  it('R-REN-6: the renewal never ends before it starts', () => {
    fc.assert(
      fc.property(contractArb, dateArb, ([start, end], newStart) => {
        expect(compareDates(renewalEndDate(start, end, newStart), newStart)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('R-REN-6: a whole-months contract renewed from a 1st ends on the last day of a month, k months on', () => {
    fc.assert(
      fc.property(wholeMonthsArb, firstOfMonthArb, ({ start, end, months }, newStart) => {
        expect(contractTerm(start, end)).toEqual({ months, days: 0 });
        const renewalEnd = renewalEndDate(start, end, newStart);
        expect(isLastDayOfMonth(renewalEnd)).toBe(true);
        const monthsCovered = (Number(renewalEnd.slice(0, 4)) - Number(newStart.slice(0, 4))) * 12 + Number(renewalEnd.slice(5, 7)) - Number(newStart.slice(5, 7)) + 1;
        expect(monthsCovered).toBe(months);
      }),
      { numRuns: 500 },
    );
  });

  it('R-REN-6: a whole-months term stays whole months from any start, also from a month end', () => {
    fc.assert(
      fc.property(wholeMonthsArb, dateArb, ({ start, end, months }, newStart) => {
        expect(contractTerm(newStart, renewalEndDate(start, end, newStart))).toEqual({ months, days: 0 });
      }),
      { numRuns: 500 },
    );
  });

  it('R-REN-6: the default renewal of the default renewal stays on month ends (no drift in a chain)', () => {
    fc.assert(
      fc.property(wholeMonthsArb, fc.integer({ min: 1, max: 6 }), ({ start, end }, links) => {
        let [s, e] = [start, end];
        for (let i = 0; i < links; i++) {
          const next = defaultRenewalStart(e);
          [s, e] = [next, renewalEndDate(s, e, next)];
          expect(s.endsWith('-01')).toBe(true);
          expect(isLastDayOfMonth(e)).toBe(true);
        }
      }),
    );
  });

  it('R-REN-6: a later renewal start never gives an earlier end', () => {
    fc.assert(
      fc.property(contractArb, dateArb, fc.integer({ min: 0, max: 400 }), ([start, end], newStart, later) => {
        const a = renewalEndDate(start, end, newStart);
        const b = renewalEndDate(start, end, addDays(newStart, later));
        expect(compareDates(b, a)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 500 },
    );
  });

  it('R-REN-6: a term is whole months plus 0–30 days', () => {
    fc.assert(
      fc.property(contractArb, ([start, end]) => {
        const { months, days } = contractTerm(start, end);
        expect(months).toBeGreaterThanOrEqual(0);
        expect(days).toBeGreaterThanOrEqual(0);
        expect(days).toBeLessThanOrEqual(30);
      }),
      { numRuns: 500 },
    );
  });
});
