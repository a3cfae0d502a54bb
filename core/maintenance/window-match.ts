/**
 * Maintenance windows, scope part, and which window (if any) silences a firing alert.
 *
 * A window applies to an alert when every scope field it sets matches (company, site, device,
 * category; none set = every alert) and its time matches ({@link isInWindow}). Windows come from
 * two places that mean the same thing: the admin API (ids: company and device by database id) and
 * the `"maintenanceWindows"` array of a rules file (company by name or code, device by hostname,
 * since rules files never carry database ids). Resolved alerts are never asked about: a resolve
 * always passes.
 *
 * Pure: the caller loads the windows and the alert's company/device and passes them in.
 *
 * One piece (about 340 lines): scope matching, window timing and the rules-file window parser
 * share the MatchableWindow model and must agree on it; time intervals already live apart (time-
 * intervals.ts).
 */
import { z } from 'zod';
import { isValidTimeZone } from '../dates';
import { isInWindow, timeIntervalsSchema, type MaintenanceWindowTiming, type TimeInterval } from './time-intervals';

/** What a window is limited to. An unset (null/absent) field matches every alert. */
export interface WindowScope {
  /** API windows: the company's id. */
  companyId?: string | null;
  /** Rules-file windows: the company's code (exact) or name (case-insensitive). */
  companyRef?: string | null;
  /** The sender's site / customer id of the alert, or the device's site (case-insensitive). */
  site?: string | null;
  /** API windows: the device's id. */
  deviceId?: string | null;
  /** Rules-file windows: the device's hostname (case-insensitive). */
  deviceHostname?: string | null;
  /** The alert's category (case-insensitive). */
  category?: string | null;
}

export type WindowOrigin = 'api' | 'rules';

/** A window ready to match, whichever place it was declared in. */
export interface MatchableWindow {
  /** Stable identity across processes and restarts: `api:<id>` or `rules:<name>`. */
  key: string;
  /** Database id of an API window; null for a rules-file window. */
  id: string | null;
  name: string;
  origin: WindowOrigin;
  /** The rules file that declares it (rules-file windows). */
  file: string | null;
  scope: WindowScope;
  timing: MaintenanceWindowTiming;
  /** Alerts still firing when the window ends are processed then. */
  processAfter: boolean;
}

/** What the matcher needs to know about one firing alert. */
export interface AlertScope {
  companyId: string | null;
  companyName: string | null;
  companyCode: string | null;
  deviceId: string | null;
  /** The device's hostname when the device is known, else the alert's. */
  hostname: string | null;
  /** The alert's site / customer id as the sender sent it. */
  site: string | null;
  /** The site recorded on the device. */
  deviceSite: string | null;
  category: string | null;
}

const isSet = (v: string | null | undefined): v is string => v !== null && v !== undefined;
const sameText = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();

/** True when every scope field the window sets matches the alert. */
export function scopeMatches(scope: WindowScope, alert: AlertScope): boolean {
  if (isSet(scope.companyId) && scope.companyId !== alert.companyId) return false;
  if (isSet(scope.companyRef) && scope.companyRef !== alert.companyCode && !sameText(alert.companyName, scope.companyRef)) return false;
  if (isSet(scope.deviceId) && scope.deviceId !== alert.deviceId) return false;
  if (isSet(scope.deviceHostname) && !sameText(alert.hostname, scope.deviceHostname)) return false;
  if (isSet(scope.site) && !sameText(alert.site, scope.site) && !sameText(alert.deviceSite, scope.site)) return false;
  if (isSet(scope.category) && !sameText(alert.category, scope.category)) return false;
  return true;
}

export function windowApplies(window: MatchableWindow, alert: AlertScope, at: Date): boolean {
  return scopeMatches(window.scope, alert) && isInWindow(window.timing, at);
}

/**
 * The window that silences a firing alert at `at`, or null. When several apply, one without
 * `processAfter` wins: if any window covering the alert says "never raise it", a second window
 * must not raise it later. Otherwise the first in the given order (API windows by id, then
 * rules-file windows in file order), so the answer is the same on every worker.
 */
export function pickWindow(windows: readonly MatchableWindow[], alert: AlertScope, at: Date): MatchableWindow | null {
  let deferred: MatchableWindow | null = null;
  for (const w of windows) {
    if (!windowApplies(w, alert, at)) continue;
    if (!w.processAfter) return w;
    deferred ??= w;
  }
  return deferred;
}

/**
 * Whether alerts a window silenced may be processed now: the window is no longer in force at
 * `now`. For a one-off window that is its end; for a recurring one, the end of the occurrence (a
 * window that is in force again by the time anyone looks keeps holding its alerts).
 */
export const windowHasEnded = (timing: MaintenanceWindowTiming, now: Date): boolean => !isInWindow(timing, now);

// ---- definitions: what may be declared ----

export interface WindowIssuePath {
  path: (string | number)[];
  message: string;
}

const RESTRICTING_FIELDS = ['times', 'weekdays', 'days_of_month', 'months', 'years'] as const;

/** An interval without any restricting field matches every instant. */
export const isUnrestrictedInterval = (interval: TimeInterval): boolean =>
  RESTRICTING_FIELDS.every((f) => {
    const list = interval[f];
    return list === undefined || list.length === 0;
  });

/**
 * Cross-field checks of a window definition, shared by the API body and rules files:
 * - a window needs an end (`endsAt`) or recurring `timeIntervals`: with neither it would suppress
 *   every alert in its scope forever;
 * - an interval that restricts nothing matches always, so it is the same mistake;
 * - `endsAt` must be after `startsAt`.
 */
export function checkWindowDefinition(w: {
  startsAt?: Date | null | undefined;
  endsAt?: Date | null | undefined;
  timeIntervals?: readonly TimeInterval[] | null | undefined;
}): WindowIssuePath[] {
  const issues: WindowIssuePath[] = [];
  const intervals = w.timeIntervals ?? [];
  const hasEnd = w.endsAt !== null && w.endsAt !== undefined;
  if (!hasEnd && intervals.length === 0) {
    issues.push({
      path: ['endsAt'],
      message: 'a window needs endsAt or timeIntervals: with neither it would suppress every alert in its scope forever',
    });
  }
  if (!hasEnd) {
    intervals.forEach((interval, i) => {
      if (isUnrestrictedInterval(interval)) {
        issues.push({
          path: ['timeIntervals', i],
          message: 'restricts nothing (no times, weekdays, days_of_month, months or years), so it matches always: without endsAt the window would suppress forever',
        });
      }
    });
  }
  if (w.startsAt && w.endsAt && w.endsAt.getTime() <= w.startsAt.getTime()) {
    issues.push({ path: ['endsAt'], message: `must be after startsAt (${w.startsAt.toISOString()})` });
  }
  return issues;
}

/** An instant as written in a body or a rules file: ISO 8601 with an offset (`Z` or `+01:00`). */
export const windowInstantSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 instant with offset, e.g. 2026-11-28T22:00:00+01:00' })
  .transform((s) => new Date(s));

export const windowTimezoneSchema = z
  .string({ error: 'is required: the IANA time zone the intervals are read in, e.g. "Europe/Berlin"' })
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' });

const scopeText = (max: number) => z.string().trim().min(1, { message: 'must not be empty (leave it out to match every alert)' }).max(max);

/**
 * One entry of `"maintenanceWindows": [...]` at the top level of a rules file. Same meaning as
 * `POST /api/v1/maintenance-windows`, but the company is named by code or name and the device by
 * hostname: rules files never carry database ids.
 */
export const rulesFileWindowSchema = z
  .strictObject({
    name: z.string({ error: 'every maintenance window needs a "name"' }).trim().min(1, { message: 'must not be empty' }).max(200),
    description: z.string().max(1000).optional(),
    /** A company's code or name. */
    company: scopeText(200).optional(),
    site: scopeText(200).optional(),
    /** A device's hostname. */
    device: scopeText(255).optional(),
    category: scopeText(100).optional(),
    timezone: windowTimezoneSchema,
    timeIntervals: timeIntervalsSchema.max(100).optional(),
    startsAt: windowInstantSchema.optional(),
    endsAt: windowInstantSchema.optional(),
    processAfter: z.boolean().optional(),
  })
  .superRefine((w, ctx) => {
    for (const issue of checkWindowDefinition(w)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

export type RulesFileWindow = z.output<typeof rulesFileWindowSchema>;

/** A finding about a rules-file window, shaped like the rules engine's issues (file, rule, pointer). */
export interface WindowIssue {
  severity: 'error';
  file: string;
  rule: null;
  /** RFC 6901 pointer into the file, e.g. `/maintenanceWindows/0/timeIntervals/1/times/0/end_time`. */
  pointer: string;
  message: string;
}

const escapePointer = (segment: string | number): string => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
const pointerOf = (segments: readonly (string | number)[]): string => segments.map((s) => `/${escapePointer(s)}`).join('');

export function rulesWindowToMatchable(w: RulesFileWindow, file: string): MatchableWindow {
  return {
    key: `rules:${w.name}`,
    id: null,
    name: w.name,
    origin: 'rules',
    file,
    scope: {
      companyRef: w.company ?? null,
      site: w.site ?? null,
      deviceHostname: w.device ?? null,
      category: w.category ?? null,
    },
    timing: { timezone: w.timezone, timeIntervals: w.timeIntervals ?? [], startsAt: w.startsAt ?? null, endsAt: w.endsAt ?? null },
    processAfter: w.processAfter ?? false,
  };
}

/**
 * Validates the windows of a ruleset (the entries the rules engine passes through, in file order)
 * and returns the valid ones ready to match, plus one issue per problem naming the file and the
 * JSON pointer. Names must be unique across the ruleset: the name is the window's identity in the
 * alerts it silenced.
 */
export function parseRulesFileWindows(entries: ReadonlyArray<{ file: string; window: unknown }>): {
  windows: MatchableWindow[];
  issues: WindowIssue[];
} {
  const windows: MatchableWindow[] = [];
  const issues: WindowIssue[] = [];
  const indexInFile = new Map<string, number>();
  const names = new Map<string, { file: string; pointer: string }>();
  for (const { file, window } of entries) {
    const index = indexInFile.get(file) ?? 0;
    indexInFile.set(file, index + 1);
    const base: (string | number)[] = ['maintenanceWindows', index];
    const parsed = rulesFileWindowSchema.safeParse(window);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [null];
        for (const key of keys) {
          issues.push({
            severity: 'error',
            file,
            rule: null,
            pointer: pointerOf([...base, ...path, ...(key === null ? [] : [key])]),
            message: key === null ? issue.message : `unknown field "${key}" of a maintenance window`,
          });
        }
      }
      continue;
    }
    const pointer = pointerOf([...base, 'name']);
    const seen = names.get(parsed.data.name);
    if (seen) {
      issues.push({ severity: 'error', file, rule: null, pointer, message: `maintenance window name "${parsed.data.name}" is already used in ${seen.file} ${seen.pointer}` });
      continue;
    }
    names.set(parsed.data.name, { file, pointer });
    windows.push(rulesWindowToMatchable(parsed.data, file));
  }
  return { windows, issues };
}

/** What is stored with an alert receipt a window silenced: enough to release it later even if the window changed. */
export interface WindowSnapshot {
  key: string;
  id: string | null;
  name: string;
  origin: WindowOrigin;
  file: string | null;
  processAfter: boolean;
  timezone: string;
  timeIntervals: TimeInterval[];
  startsAt: string | null;
  endsAt: string | null;
}

export function snapshotOf(w: MatchableWindow): WindowSnapshot {
  return {
    key: w.key,
    id: w.id,
    name: w.name,
    origin: w.origin,
    file: w.file,
    processAfter: w.processAfter,
    timezone: w.timing.timezone,
    timeIntervals: [...w.timing.timeIntervals],
    startsAt: w.timing.startsAt ? w.timing.startsAt.toISOString() : null,
    endsAt: w.timing.endsAt ? w.timing.endsAt.toISOString() : null,
  };
}

export const windowSnapshotSchema = z.object({
  key: z.string(),
  id: z.string().nullable(),
  name: z.string(),
  origin: z.enum(['api', 'rules']),
  file: z.string().nullable(),
  processAfter: z.boolean(),
  timezone: z.string(),
  timeIntervals: timeIntervalsSchema,
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
});

export const timingOfSnapshot = (s: WindowSnapshot): MaintenanceWindowTiming => ({
  timezone: s.timezone,
  timeIntervals: s.timeIntervals,
  startsAt: s.startsAt ? new Date(s.startsAt) : null,
  endsAt: s.endsAt ? new Date(s.endsAt) : null,
});

/** What happened to a held receipt when its window ended (stored as alert_receipts.window_release). */
export type ReleaseKind = 'requeued' | 'resolved' | 'superseded' | 'kept';

/**
 * The release of one held receipt, from whether its window (as it stands now) still asks to
 * process after, and what arrived later for the same condition (dedup key):
 * - `kept`: the window no longer asks to process after (edited since);
 * - `resolved`: a resolve for the same condition arrived after it — nothing is still firing;
 * - `superseded`: a later firing of the same condition exists — that one carries the condition;
 * - `requeued`: processed now, as if it had just arrived.
 */
export function releaseKindOf(processAfter: boolean, later: { resolved: boolean; firing: boolean }): ReleaseKind {
  if (!processAfter) return 'kept';
  if (later.resolved) return 'resolved';
  if (later.firing) return 'superseded';
  return 'requeued';
}
