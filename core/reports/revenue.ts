/**
 * R-LINK-6 profitability: what a contract line earns over a period and what the labour on it
 * cost, as exact decimals (no float ever touches money).
 *
 * Revenue convention (documented in core/reports/README.md):
 * - A contract line's `unitPrice` is the price of one unit for one calendar month (MSP pricing:
 *   "per device per month"), whatever the contract's billing `periodType` (that only says how
 *   often it is invoiced).
 * - A day earns `units(day) × unitPrice(day) / daysInMonth(day)`: a full calendar month earns
 *   exactly units × price (February too), a part month earns its share of days. Units and price
 *   on a day are the line's values as adjusted by the latest adjustment effective on or before
 *   that day (units and price adjust independently; same date: the one entered last wins).
 * - Days counted: [from, to] ∩ [contract start, contract end], both inclusive.
 * - One line's revenue over the period is summed exactly (a rational number) and rounded half up
 *   to cents once; contract and report totals add the rounded lines, so a CSV adds up.
 */
import { addDays, compareDates, daysInMonth, maxDate, minDate, type IsoDate } from '../dates';
import { validationError } from '../errors';
import { unitPriceAsOf, unitsAsOf, type ContractLine, type LineAdjustment } from '../contracts/renewal';
import { parseDecimal, type Decimal } from '../contracts/money';

export type { LineAdjustment };

/** A priced contract line (service or bundle) as the report needs it. */
export interface PricedLine {
  units: Decimal;
  unitPrice: Decimal;
  adjustments: readonly LineAdjustment[];
}

/** An inclusive range of plain dates. */
export interface DateRange {
  from: IsoDate;
  to: IsoDate;
}

/** 28, 29, 30 and 31 all divide it, so every day's share of its month is a whole multiple of 1/LCM. */
const MONTH_LCM = 377_580n; // lcm(28, 29, 30, 31) = 2² · 3 · 5 · 7 · 29 · 31
/** units and price are each in ten-thousandths: their product is in 1e-8. */
const PRODUCT_SCALE = 100_000_000n;

/** The intersection of two inclusive ranges, or null when they do not meet. */
export function intersectRanges(a: DateRange, b: DateRange): DateRange | null {
  const from = maxDate(a.from, b.from);
  const to = minDate(a.to, b.to);
  return compareDates(from, to) <= 0 ? { from, to } : null;
}

const lastDayOfMonth = (d: IsoDate): IsoDate => `${d.slice(0, 8)}${String(daysInMonth(d)).padStart(2, '0')}`;

/**
 * The exact revenue of `line` over `range` (already clipped to the contract's term), as a
 * numerator over `PRODUCT_SCALE × MONTH_LCM` currency units. Walks constant stretches (month
 * boundaries and adjustment dates), not days, so a year costs a few dozen steps.
 */
export function exactLineRevenue(line: PricedLine, range: DateRange): bigint {
  if (compareDates(range.from, range.to) > 0) return 0n;
  const asLine: ContractLine = { itemId: '', units: line.units, unitPrice: line.unitPrice, unitCost: null, adjustments: line.adjustments };
  const changes = [...new Set(line.adjustments.map((a) => a.effectiveDate))].sort();
  let total = 0n;
  let day = range.from;
  while (compareDates(day, range.to) <= 0) {
    const monthEnd = minDate(lastDayOfMonth(day), range.to);
    const nextChange = changes.find((c) => compareDates(c, day) > 0 && compareDates(c, monthEnd) <= 0);
    const stretchEnd = nextChange ? addDays(nextChange, -1) : monthEnd;
    const days = BigInt(Number(stretchEnd.slice(8, 10)) - Number(day.slice(8, 10)) + 1);
    const units = parseDecimal(unitsAsOf(asLine, day), 'units');
    const price = parseDecimal(unitPriceAsOf(asLine, day), 'unitPrice');
    total += units * price * days * (MONTH_LCM / BigInt(daysInMonth(day)));
    day = addDays(stretchEnd, 1);
  }
  return total;
}

/** Rounds a non-negative `numerator / denominator` half up to cents, returned in ten-thousandths (the money scale). */
function roundToCents(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const cents = (abs * 100n + denominator / 2n) / denominator;
  return (negative ? -cents : cents) * 100n;
}

/**
 * The revenue of a line over `period` for a contract running `term`, rounded half up to cents,
 * in ten-thousandths (format with `formatMoney`). 0 when the period and the term do not meet.
 */
export function lineRevenue(line: PricedLine, period: DateRange, term: DateRange): bigint {
  assertRange(period, 'period');
  assertRange(term, 'term');
  const days = intersectRanges(period, term);
  if (!days) return 0n;
  return roundToCents(exactLineRevenue(line, days), PRODUCT_SCALE * MONTH_LCM);
}

/** One time entry's labour: hours (≤ 2 decimals) at a cost rate per hour (null = no rate recorded). */
export interface LabourEntry {
  hours: Decimal;
  costRate: Decimal | null;
}

export interface LabourTotal {
  /** Hours, in ten-thousandths. */
  hours: bigint;
  /** Hours of entries without a cost rate: they count 0 cost, and the report says how many there were. */
  unratedHours: bigint;
  /** Cost rounded half up to cents, in ten-thousandths. */
  cost: bigint;
}

/**
 * Labour cost = Σ hours × the entry's cost rate, summed exactly and rounded to cents once.
 * An entry without a rate costs 0 (a catalogue price per unit is not an hourly labour cost, so
 * there is no fallback to guess from); its hours are reported as `unratedHours`.
 */
export function labourTotal(entries: readonly LabourEntry[]): LabourTotal {
  let hours = 0n;
  let unratedHours = 0n;
  let exact = 0n;
  for (const [i, e] of entries.entries()) {
    const h = parseDecimal(e.hours, `entries[${i}].hours`);
    hours += h;
    if (e.costRate === null) unratedHours += h;
    else exact += h * parseDecimal(e.costRate, `entries[${i}].costRate`);
  }
  return { hours, unratedHours, cost: roundToCents(exact, PRODUCT_SCALE) };
}

function assertRange(r: DateRange, field: string): void {
  if (compareDates(r.from, r.to) > 0) throw validationError(`${field}.to`, `must not be before ${field}.from (${r.from})`);
}
