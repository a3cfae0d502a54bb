import fc from 'fast-check';
import { formatMoney, formatUnits, parseDecimal, parseUpliftPercent, toDbDecimal, upliftPrice } from './money';

const fieldError = (field: string) => expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(new RegExp(`^${field.replace('.', '\\.')}:`)) });

describe('parseDecimal', () => {
  it.each([
    [10, 100000n],
    ['10', 100000n],
    ['10.5', 105000n],
    [10.1, 101000n],
    ['0.0001', 1n],
    ['  7.25 ', 72500n],
    ['0012.3400', 123400n],
    ['9999999999.9999', 99999999999999n],
  ])('accepts %p', (input, scaled) => {
    expect(parseDecimal(input, 'unitPrice')).toBe(scaled);
  });

  it.each([
    ['12.34567', 'at most 4 decimals'],
    ['-1', 'must not be negative'],
    [-0.5, 'must not be negative'],
    ['1e3', 'must be a decimal number'],
    [1e21, 'must be a decimal number'],
    ['abc', 'must be a decimal number'],
    ['', 'must be a decimal number'],
    [Number.NaN, 'finite'],
    [true, 'number or a numeric string'],
    ['12345678901', 'at most 10 digits'],
  ])('refuses %p naming the field', (input, why) => {
    expect(() => parseDecimal(input, 'services.0.unitPrice')).toThrow(fieldError('services.0.unitPrice'));
    expect(() => parseDecimal(input, 'services.0.unitPrice')).toThrow(why);
  });

  it('allows negative values when asked (charges may be credits)', () => {
    expect(parseDecimal('-12.5', 'amount', { nonNegative: false })).toBe(-125000n);
  });
});

describe('formatting', () => {
  it.each([
    ['20.0000', '20.00'],
    ['12.3450', '12.345'],
    ['0.0001', '0.0001'],
    ['7', '7.00'],
  ])('money %s → %s (strings with 2 to 4 decimals)', (db, api) => {
    expect(formatMoney(db)).toBe(api);
  });

  it.each([
    ['5.0000', '5'],
    ['2.5000', '2.5'],
    ['0.0000', '0'],
  ])('units %s → %s', (db, api) => {
    expect(formatUnits(db)).toBe(api);
  });

  it('normalizes inputs for numeric(14,4) columns', () => {
    expect(toDbDecimal(12.5, 'unitPrice')).toBe('12.5000');
  });

  it('round-trips every 4-decimal value exactly (no float on the way)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 99999999999999n }), (scaled) => {
        expect(parseDecimal(formatMoney(scaled), 'x')).toBe(scaled);
      }),
    );
  });
});

describe('price uplift (R-REN-7)', () => {
  it.each([
    [undefined, null],
    [null, null],
    ['', null],
    ['  ', null],
    [0, 0n],
    ['10', 1000n],
    [2.5, 250n],
    ['1000.00', 100000n],
    [1000, 100000n],
  ])('R-REN-7: uplift %p parses to %p hundredths (empty = none)', (input, expected) => {
    expect(parseUpliftPercent(input)).toBe(expected);
  });

  it.each([
    ['-1', 'negative'],
    [-0.01, 'negative'],
    ['1000.01', 'at most 1000.00'],
    [5000, 'at most 1000.00'],
    ['10.123', 'at most 2 decimals'],
    ['ten', 'must be a decimal number'],
  ])('R-REN-7: refuses uplift %p', (input, why) => {
    expect(() => parseUpliftPercent(input)).toThrow(fieldError('priceUpliftPercent'));
    expect(() => parseUpliftPercent(input)).toThrow(why);
  });

  it.each([
    ['10', '10', '11.00'],
    ['10.10', '10', '11.11'],
    ['19.99', '3.5', '20.69'], // 20.68965 → 20.69
    ['0.05', '10', '0.06'], // 0.055 rounds half up
    ['10', '1000', '110.00'],
    ['12.3456', '0', '12.3456'], // no uplift: the price keeps its 4 decimals
  ])('R-REN-7: %s raised by %s %% is %s (rounded half up to cents)', (price, pct, expected) => {
    expect(formatMoney(upliftPrice(parseDecimal(price, 'p'), parseUpliftPercent(pct)))).toBe(expected);
  });

  it('R-REN-7: an uplift never lowers a price and never exceeds 11× (+ half a cent)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 100000 }), (price, pct) => {
        const up = upliftPrice(price, BigInt(pct));
        expect(up >= price - 50n).toBe(true);
        expect(up <= price * 11n + 50n).toBe(true);
        if (pct > 0) expect(up % 100n).toBe(0n);
      }),
    );
  });
});
