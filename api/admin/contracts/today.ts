import { todayIn, type IsoDate } from '../../../core/dates';
import type { AppDeps } from '../../context';

/**
 * Today's date in the hub's renewal zone (HUB_RENEWAL_TIMEZONE): the default `asOf`, the default
 * link date, and the day that decides whether a renewal's effects apply now or are scheduled.
 * One zone for the API and the renewal worker, so both agree on what "today" is.
 */
export function todayFor(deps: AppDeps): IsoDate {
  // AppDeps.services.clock: tests and demos pin it; absent = the system clock.
  const now = deps.services.clock?.() ?? new Date();
  return todayIn(deps.config.HUB_RENEWAL_TIMEZONE, now);
}
