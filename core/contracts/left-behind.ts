/**
 * R-REN-14: what a renewal does not transfer — open tickets and projects stay on the original,
 * and charges and time entries dated after the original's (new) end stay there too. The report's
 * shape and how much of it is listed are decided here; db/queries/renewals.ts counts and lists.
 */
import type { IsoDate } from '../dates';

/** Items listed per category in the report; counts are always complete. */
export const LEFT_BEHIND_ITEMS = 100;

export interface LeftBehindList<T> {
  count: number;
  items: T[];
}

export interface LeftBehindReport {
  /** The original's end date the report is measured against (its new end when it ends early). */
  originalEndDate: IsoDate;
  openTickets: LeftBehindList<{ id: string; title: string; status: string }>;
  openProjects: LeftBehindList<{ id: string; name: string }>;
  chargesAfterEnd: LeftBehindList<{ id: string; chargeDate: IsoDate; description: string; amount: string }>;
  timeEntriesAfterEnd: LeftBehindList<{ id: string; workDate: IsoDate; hours: string; ticketId: string | null; projectId: string | null }>;
}

/** The counts alone, as the renewal's audit row records them (the lists are in the response). */
export function leftBehindCounts(r: LeftBehindReport): { openTickets: number; openProjects: number; chargesAfterEnd: number; timeEntriesAfterEnd: number } {
  return {
    openTickets: r.openTickets.count,
    openProjects: r.openProjects.count,
    chargesAfterEnd: r.chargesAfterEnd.count,
    timeEntriesAfterEnd: r.timeEntriesAfterEnd.count,
  };
}
