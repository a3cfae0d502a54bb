/**
 * R-LINK-5: an SLA turns a ticket's priority into three due dates counted in the SLA's
 * business hours, and an SLA pause (waiting for the customer) moves the open ones later.
 */
import { z } from 'zod';
import { validationError } from '../errors';
import { assertValidInstant } from '../dates';
import { addBusinessMinutes, businessMinutesBetween, type SlaCalendar } from './business-calendar';

export type Priority = 'critical' | 'high' | 'medium' | 'low';

/** Most urgent first, as the database's CHECK lists them. */
export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'medium', 'low'];

export interface SlaTarget {
  firstResponseMinutes: number;
  resolutionPlanMinutes: number;
  resolutionMinutes: number;
}

export interface SlaDefinition {
  calendar: SlaCalendar;
  targets: Partial<Record<Priority, SlaTarget>>;
}

export interface DueDates {
  firstResponseDueAt: Date;
  resolutionPlanDueAt: Date;
  resolutionDueAt: Date;
}

/** Due dates as a ticket stores them: any may be missing (ticket without SLA, or cleared). */
export interface OpenDueDates {
  firstResponseDueAt: Date | null;
  resolutionPlanDueAt: Date | null;
  resolutionDueAt: Date | null;
}

const businessMinutesSchema = z
  .number({ error: 'must be a number of business minutes' })
  .int({ message: 'must be a whole number of minutes' })
  .min(0, { message: 'must not be negative' });

/** One priority's targets, in business minutes (the API's `targets.<priority>`). */
export const slaTargetSchema = z.strictObject({
  firstResponseMinutes: businessMinutesSchema,
  resolutionPlanMinutes: businessMinutesSchema,
  resolutionMinutes: businessMinutesSchema,
});

/** The API's `targets: { critical|high|medium|low: {...} }`; priorities without a target are left out. */
export const slaTargetsSchema = z.strictObject({
  critical: slaTargetSchema.optional(),
  high: slaTargetSchema.optional(),
  medium: slaTargetSchema.optional(),
  low: slaTargetSchema.optional(),
});

/**
 * The three due dates for a ticket of `priority` created at `createdAt`, or null when the SLA
 * has no target for that priority (the ticket then has no due dates rather than made-up ones).
 */
export function computeDueDates(sla: SlaDefinition, priority: Priority, createdAt: Date): DueDates | null {
  assertValidInstant(createdAt, 'createdAt');
  if (!PRIORITIES.includes(priority)) {
    throw validationError('priority', `must be one of ${PRIORITIES.join(', ')}, got ${JSON.stringify(priority)}`);
  }
  const target = sla.targets[priority];
  if (target === undefined) return null;
  return {
    firstResponseDueAt: addBusinessMinutes(sla.calendar, createdAt, target.firstResponseMinutes),
    resolutionPlanDueAt: addBusinessMinutes(sla.calendar, createdAt, target.resolutionPlanMinutes),
    resolutionDueAt: addBusinessMinutes(sla.calendar, createdAt, target.resolutionMinutes),
  };
}

/**
 * After an SLA pause from `pausedAt` to `resumedAt`, every due date still open when the clock
 * stopped (due > pausedAt) moves later by the business minutes the pause lasted, which keeps
 * the business time that was left on it. Dates already missed at `pausedAt` stay missed.
 */
export function shiftDueDatesForPause(
  cal: SlaCalendar,
  due: OpenDueDates,
  pausedAt: Date,
  resumedAt: Date,
): OpenDueDates {
  assertValidInstant(pausedAt, 'pausedAt');
  assertValidInstant(resumedAt, 'resumedAt');
  if (resumedAt.getTime() < pausedAt.getTime()) {
    throw validationError('resumedAt', 'must not be before pausedAt');
  }
  const pauseMinutes = businessMinutesBetween(cal, pausedAt, resumedAt);
  const shift = (at: Date | null, field: keyof OpenDueDates): Date | null => {
    if (at === null) return null;
    assertValidInstant(at, field);
    return at.getTime() > pausedAt.getTime() ? addBusinessMinutes(cal, at, pauseMinutes) : new Date(at.getTime());
  };
  return {
    firstResponseDueAt: shift(due.firstResponseDueAt, 'firstResponseDueAt'),
    resolutionPlanDueAt: shift(due.resolutionPlanDueAt, 'resolutionPlanDueAt'),
    resolutionDueAt: shift(due.resolutionDueAt, 'resolutionDueAt'),
  };
}
