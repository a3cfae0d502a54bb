/**
 * Money and unit counts as exact decimals. The database stores numeric(14,4) and hands it back
 * as strings; we never pass through a float, so "10.10" plus 10 % is 11.11, not 11.110000000000001.
 * Internally a value is a bigint of ten-thousandths (4 decimals, the column's scale).
 */
import { validationError } from '../errors';

/** A decimal as a string, e.g. '20.00', '12.345', '5'. */
export type Decimal = string;

const SCALE = 4;
const FACTOR = 10n ** BigInt(SCALE);
/** numeric(14,4): at most 10 digits before the point. */
const MAX_INTEGER_DIGITS = 10;
const DECIMAL_SHAPE = /^(-)?(\d+)(?:\.(\d+))?$/;

export interface DecimalOptions {
  /** Most decimals accepted. @defaultValue 4 */
  maxDecimals?: number;
  /** Refuse values below zero. @defaultValue true */
  nonNegative?: boolean;
}

/**
 * Parses a number or numeric string (request bodies accept both) into ten-thousandths. Throws a
 * VALIDATION_FAILED naming `field` for anything else: NaN, exponents, more decimals than allowed,
 * negative values (unless allowed), more than 10 integer digits.
 */
export function parseDecimal(value: unknown, field: string, opts: DecimalOptions = {}): bigint {
  const maxDecimals = opts.maxDecimals ?? SCALE;
  const nonNegative = opts.nonNegative ?? true;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw validationError(field, 'must be a finite number');
    // Shortest round-trip form: 10.1 → '10.1', never '10.0999999…'; exponent forms are refused below.
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    throw validationError(field, 'must be a number or a numeric string');
  }
  const m = DECIMAL_SHAPE.exec(text);
  if (!m) throw validationError(field, `must be a decimal number such as 12.5, got ${JSON.stringify(value)}`);
  const [, sign, intPart = '0', fracPart = ''] = m;
  if (fracPart.length > maxDecimals) throw validationError(field, `at most ${maxDecimals} decimals allowed, got ${text}`);
  const intDigits = intPart.replace(/^0+(?=\d)/, '');
  if (intDigits.length > MAX_INTEGER_DIGITS) throw validationError(field, `at most ${MAX_INTEGER_DIGITS} digits before the decimal point`);
  const scaled = BigInt(intDigits) * FACTOR + BigInt(fracPart.padEnd(SCALE, '0'));
  const signed = sign ? -scaled : scaled;
  if (nonNegative && signed < 0n) throw validationError(field, 'must not be negative');
  return signed;
}

/** Formats ten-thousandths with at least `minDecimals` and at most 4 decimals ('20.00', '12.345', '5'). */
export function formatScaled(scaled: bigint, minDecimals: number): Decimal {
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  const int = abs / FACTOR;
  let frac = (abs % FACTOR).toString().padStart(SCALE, '0');
  while (frac.length > minDecimals && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${negative ? '-' : ''}${int.toString()}${frac ? `.${frac}` : ''}`;
}

/**
 * The API's one money format: a string with 2 to 4 decimals ('20.00', '12.345'). Strings, not JSON
 * numbers, so no client ever parses money into a float by accident.
 */
export const formatMoney = (value: Decimal | bigint): Decimal =>
  formatScaled(typeof value === 'bigint' ? value : parseDecimal(value, 'money', { nonNegative: false }), 2);

/** Unit counts: a string with as few decimals as needed ('5', '2.5'). */
export const formatUnits = (value: Decimal | bigint): Decimal =>
  formatScaled(typeof value === 'bigint' ? value : parseDecimal(value, 'units', { nonNegative: false }), 0);

/** A nullable database numeric in the API's money format. */
export const formatMoneyOrNull = (value: Decimal | null | undefined): Decimal | null =>
  value === null || value === undefined ? null : formatMoney(value);

/** Normalizes an input to the 4-decimal string the database column takes ('12.5' → '12.5000'). */
export const toDbDecimal = (value: unknown, field: string, opts: DecimalOptions = {}): Decimal =>
  formatScaled(parseDecimal(value, field, opts), SCALE);

/** Largest uplift the renewal wizard accepts (R-REN-7): 1,000.00 %. */
export const MAX_UPLIFT_PERCENT = 1000n * 100n;

/**
 * Parses a price uplift percent (R-REN-7): empty (undefined, null or '') means none; 0 to 1000.00
 * with at most 2 decimals; negative values (price cuts) are refused. Returns hundredths of a percent,
 * or null for "no uplift".
 */
export function parseUpliftPercent(value: unknown, field = 'priceUpliftPercent'): bigint | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  const scaled = parseDecimal(value, field, { maxDecimals: 2, nonNegative: false });
  if (scaled < 0n) throw validationError(field, 'negative values (price cuts) are not supported; edit unit prices instead');
  const hundredths = scaled / 100n;
  if (hundredths > MAX_UPLIFT_PERCENT) throw validationError(field, 'must be at most 1000.00 (%)');
  return hundredths;
}

/**
 * `price` raised by `percentHundredths` / 100 %, rounded half up to 2 decimals (cents): an uplifted
 * price is a new price list entry, and price lists are in cents. Without an uplift the price is
 * returned unchanged (4 decimals kept).
 */
export function upliftPrice(price: bigint, percentHundredths: bigint | null): bigint {
  if (percentHundredths === null || percentHundredths === 0n) return price;
  // price · (1 + p/10000) in ten-thousandths = price · (10000 + p) / 10000; then to cents (÷ 100).
  const numerator = price * (10000n + percentHundredths);
  const divisor = 10000n * 100n;
  const cents = (numerator + divisor / 2n) / divisor;
  return cents * 100n;
}
