import fc from 'fast-check';
import { addDays } from '../dates';
import { formatMoney } from '../contracts/money';
import { exactLineRevenue, intersectRanges, labourTotal, lineRevenue, type PricedLine } from './revenue';

const line = (units: string, unitPrice: string, adjustments: PricedLine['adjustments'] = []): PricedLine => ({ units, unitPrice, adjustments });
const adj = (effectiveDate: string, units: string | null, unitPrice: string | null, seq = 1) => ({ effectiveDate, units, unitPrice, seq });
const always = { from: '2000-01-01', to: '2099-12-31' };
const money = (l: PricedLine, from: string, to: string, term = always) => formatMoney(lineRevenue(l, { from, to }, term));

describe('lineRevenue (R-LINK-6: revenue = units × monthly price, pro-rated by days of the month)', () => {
  it.each([
    // [what, line, from, to, expected, hand computation]
    ['full February 2026 earns one month', line('10', '20'), '2026-02-01', '2026-02-28', '200.00'], // 10 × 20
    ['full leap February earns one month', line('10', '20'), '2024-02-01', '2024-02-29', '200.00'],
    ['a full 31-day month earns one month', line('3', '9.99'), '2026-03-01', '2026-03-31', '29.97'], // 3 × 9.99
    ['16 days of January', line('10', '20'), '2026-01-16', '2026-01-31', '103.23'], // 200 × 16/31 = 103.2258…
    ['one day of February 2026', line('28', '1'), '2026-02-10', '2026-02-10', '1.00'], // 28 × 1 / 28
    ['a quarter', line('2', '50'), '2026-01-01', '2026-03-31', '300.00'], // 3 × 100
    ['across a year end', line('1', '31'), '2025-12-17', '2026-01-15', '30.00'], // 15/31·31 + 15/31·31
    ['zero units earn nothing', line('0', '99'), '2026-01-01', '2026-12-31', '0.00'],
    ['fractional units', line('2.5', '10'), '2026-04-01', '2026-04-30', '25.00'],
  ])('R-LINK-6: %s', (_what, l, from, to, expected) => {
    expect(money(l, from, to)).toBe(expected);
  });

  it('R-LINK-6: a unit adjustment mid-month splits the month, and the line is rounded once (56.77, not 16.13 + 40.65)', () => {
    // March 2026 (31 days), price 5: 1–10 March at 10 units = 500/31 = 16.129…, 11–31 March at 12 units = 1260/31 = 40.645…
    // total 1760/31 = 56.774… → 56.77.
    const l = line('10', '5', [adj('2026-03-11', '12', null)]);
    expect(money(l, '2026-03-01', '2026-03-31')).toBe('56.77');
  });

  it('R-LINK-6: units and price adjust independently, each from its effective date', () => {
    // April 2026 (30 days): 1–9 April 4 units × 10 = 40·9/30 = 12; 10–19 April 6 units × 10 = 60·10/30 = 20;
    // 20–30 April 6 units × 15 = 90·11/30 = 33 → 65.00.
    const l = line('4', '10', [adj('2026-04-20', null, '15'), adj('2026-04-10', '6', null)]);
    expect(money(l, '2026-04-01', '2026-04-30')).toBe('65.00');
  });

  it('R-LINK-6: an adjustment effective before the period applies from its first day', () => {
    const l = line('1', '10', [adj('2025-06-01', '3', '7')]);
    expect(money(l, '2026-02-01', '2026-02-28')).toBe('21.00'); // 3 × 7
  });

  it('R-LINK-6: an adjustment after the period changes nothing', () => {
    const l = line('1', '10', [adj('2026-03-01', '3', '7')]);
    expect(money(l, '2026-02-01', '2026-02-28')).toBe('10.00');
  });

  it('R-LINK-6: two adjustments of the same date: the one entered last wins', () => {
    const l = line('1', '10', [adj('2026-02-01', '2', null, 5), adj('2026-02-01', '4', null, 3)]);
    expect(money(l, '2026-02-01', '2026-02-28')).toBe('20.00'); // seq 5 (2 units) wins over seq 3
  });

  it('R-LINK-6: only the days inside the contract term count', () => {
    // Term 10 Jan – 20 Mar 2026, period Jan – Apr, 1 unit at 31: January 22/31·31 = 22, February 31, March 20/31·31 = 20 → 73.
    expect(money(line('1', '31'), '2026-01-01', '2026-04-30', { from: '2026-01-10', to: '2026-03-20' })).toBe('73.00');
  });

  it('R-LINK-6: a period outside the term earns nothing', () => {
    expect(money(line('5', '100'), '2026-01-01', '2026-01-31', { from: '2026-02-01', to: '2026-12-31' })).toBe('0.00');
  });

  it('rounds half up to cents', () => {
    // 1 unit × 0.05 for 15 days of a 30-day month = 0.025 → 0.03.
    expect(money(line('1', '0.05'), '2026-04-01', '2026-04-15')).toBe('0.03');
  });

  it('refuses a period whose end is before its start, naming the field', () => {
    expect(() => lineRevenue(line('1', '1'), { from: '2026-02-02', to: '2026-02-01' }, always)).toThrow(/period\.to/);
  });

  it('R-LINK-6: full months always earn exactly units × price × months (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 2090 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (year, month, months, units, priceCents) => {
          const from = `${year}-${String(month).padStart(2, '0')}-01`;
          const endMonth = new Date(Date.UTC(year, month - 1 + months, 1));
          const to = addDays(endMonth.toISOString().slice(0, 10), -1);
          const price = (priceCents / 100).toFixed(2);
          const expected = BigInt(units) * BigInt(priceCents) * BigInt(months) * 100n; // in ten-thousandths
          expect(lineRevenue(line(String(units), price), { from, to }, always)).toBe(expected);
        },
      ),
    );
  });

  it('R-LINK-6: splitting a period anywhere does not change the exact revenue (property)', () => {
    const day = fc.integer({ min: 0, max: 800 }).map((n) => addDays('2025-01-01', n));
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }), day, (from, a, b, adjDate) => {
        const mid = addDays(from, a);
        const to = addDays(mid, b + 1);
        const l = line('3', '17.5', [adj(adjDate, '5', '19.25')]);
        const whole = exactLineRevenue(l, { from, to });
        const parts = exactLineRevenue(l, { from, to: mid }) + exactLineRevenue(l, { from: addDays(mid, 1), to });
        expect(parts).toBe(whole);
      }),
    );
  });
});

describe('intersectRanges', () => {
  it('meets, touches and misses', () => {
    expect(intersectRanges({ from: '2026-01-01', to: '2026-01-31' }, { from: '2026-01-15', to: '2026-02-15' })).toEqual({ from: '2026-01-15', to: '2026-01-31' });
    expect(intersectRanges({ from: '2026-01-01', to: '2026-01-31' }, { from: '2026-01-31', to: '2026-02-15' })).toEqual({ from: '2026-01-31', to: '2026-01-31' });
    expect(intersectRanges({ from: '2026-01-01', to: '2026-01-31' }, { from: '2026-02-01', to: '2026-02-15' })).toBeNull();
  });
});

describe('labourTotal (R-LINK-6: labour cost = hours × the entry’s cost rate)', () => {
  it('R-LINK-6: sums exactly and rounds once; entries without a rate cost nothing but are counted', () => {
    // 1.5 h × 40 = 60; 2.25 h × 33.3333 = 74.999925; 1 h without rate → 134.999925 → 135.00.
    const t = labourTotal([
      { hours: '1.5', costRate: '40' },
      { hours: '2.25', costRate: '33.3333' },
      { hours: '1', costRate: null },
    ]);
    expect(formatMoney(t.cost)).toBe('135.00');
    expect(t.hours).toBe(47_500n); // 4.75 h in ten-thousandths
    expect(t.unratedHours).toBe(10_000n);
  });

  it('no entries: zero', () => {
    expect(labourTotal([])).toEqual({ hours: 0n, unratedHours: 0n, cost: 0n });
  });

  it('names the offending entry', () => {
    expect(() => labourTotal([{ hours: '1', costRate: '1' }, { hours: 'x', costRate: null }])).toThrow(/entries\[1\]\.hours/);
  });
});
