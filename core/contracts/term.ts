/**
 * R-REN-4 / R-REN-6: the renewal's default start and end dates.
 *
 * A contract runs from its start date to its end date inclusive; its term is measured from the
 * start to the day *after* the end ("end exclusive") in whole calendar months plus remaining
 * days. The renewal gets the same term from its own start. Measuring to the day after the end
 * is what makes month ends come out right: 1 Feb – 30 Apr is "3 months" (1 Feb → 1 May), so a
 * renewal from 1 May ends the day before 1 Aug, i.e. 31 July, not 28 July (the seed's example).
 *
 * Month arithmetic is anchored (start + n months in one step, never month by month) and
 * month-end aware the way German civil law counts periods (BGB §188(3)): when the start's day
 * does not exist in the target month, the period ends on that month's last day, i.e. the
 * exclusive end rolls over to the 1st of the next month. So one month from 31 January ends on
 * 28 (or 29) February, and a chain of renewals never drifts away from month ends.
 */
import { validationError } from '../errors';
import { addDays, assertIsoDate, compareDates, daysBetween, type IsoDate } from '../dates';

export interface ContractTerm {
  /** Whole calendar months from the start. */
  months: number;
  /** Days left over after the months, 0–30. */
  days: number;
}

const fields = (date: IsoDate): { year: number; month: number; day: number } => ({
  year: Number(date.slice(0, 4)),
  month: Number(date.slice(5, 7)),
  day: Number(date.slice(8, 10)),
});

const daysInMonthOf = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const isoOf = (year: number, month: number, day: number): IsoDate =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/**
 * `date` + `months`, anchored on `date`'s day of month; a day the target month does not have
 * rolls over to the 1st of the following month (31 Jan + 1 → 1 Mar, as an exclusive end).
 */
function addMonthsRollingOver(date: IsoDate, months: number): IsoDate {
  const { year, month, day } = fields(date);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = (index % 12) + 1;
  if (day <= daysInMonthOf(targetYear, targetMonth)) return isoOf(targetYear, targetMonth, day);
  return targetMonth === 12 ? isoOf(targetYear + 1, 1, 1) : isoOf(targetYear, targetMonth + 1, 1);
}

/** The term of a contract running `startDate`..`endDate` inclusive (R-REN-6). */
export function contractTerm(startDate: IsoDate, endDate: IsoDate): ContractTerm {
  assertIsoDate(startDate, 'startDate');
  assertIsoDate(endDate, 'endDate');
  if (compareDates(endDate, startDate) < 0) {
    throw validationError('endDate', `must not be before startDate (${startDate}), got ${endDate}`);
  }
  const endExclusive = addDays(endDate, 1);
  const start = fields(startDate);
  const end = fields(endExclusive);
  // The calendar-month difference is right or one too many; settle it against the real dates.
  let months = end.year * 12 + end.month - (start.year * 12 + start.month);
  while (months > 0 && compareDates(addMonthsRollingOver(startDate, months), endExclusive) > 0) months--;
  while (compareDates(addMonthsRollingOver(startDate, months + 1), endExclusive) <= 0) months++;
  return { months, days: daysBetween(addMonthsRollingOver(startDate, months), endExclusive) };
}

/** The last day (inclusive) of a contract starting `startDate` that runs for `term`. */
export function endDateForTerm(startDate: IsoDate, term: ContractTerm): IsoDate {
  assertIsoDate(startDate, 'startDate');
  if (!Number.isInteger(term.months) || term.months < 0) {
    throw validationError('term.months', `must be a whole number ≥ 0, got ${term.months}`);
  }
  if (!Number.isInteger(term.days) || term.days < 0) {
    throw validationError('term.days', `must be a whole number ≥ 0, got ${term.days}`);
  }
  if (term.months === 0 && term.days === 0) throw validationError('term', 'must be at least one day long');
  return addDays(addMonthsRollingOver(startDate, term.months), term.days - 1);
}

/**
 * R-REN-6: the renewal's default end date: the original's full term, measured in calendar
 * months and remaining days, applied from the renewal's start `startDate`.
 */
export function renewalEndDate(originalStartDate: IsoDate, originalEndDate: IsoDate, startDate: IsoDate): IsoDate {
  assertIsoDate(originalStartDate, 'originalStartDate');
  assertIsoDate(originalEndDate, 'originalEndDate');
  assertIsoDate(startDate, 'startDate');
  if (compareDates(originalEndDate, originalStartDate) < 0) {
    throw validationError('originalEndDate', `must not be before originalStartDate (${originalStartDate}), got ${originalEndDate}`);
  }
  return endDateForTerm(startDate, contractTerm(originalStartDate, originalEndDate));
}

/** R-REN-4: the renewal starts by default the day after the original's end date. */
export function defaultRenewalStart(originalEndDate: IsoDate): IsoDate {
  assertIsoDate(originalEndDate, 'originalEndDate');
  return addDays(originalEndDate, 1);
}
