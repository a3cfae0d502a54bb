/**
 * R-TKT-2: where a ticket stands against its SLA. One definition, used by the API's `sla` object;
 * the list filter `slaState=` and the breach job state the same rules in SQL
 * (db/queries/ticket-sla.ts), held equal to this by test/integration/operator/ticket-sla.test.ts.
 *
 * - `none`: the ticket has no due dates (no SLA, or no target for its priority).
 * - `breached`: a breach was recorded, or a target's due date passed before it was met (the
 *   response by the first response, or by the resolution when there was none; the resolution by
 *   resolving or closing). While the SLA clock is paused (waiting for the customer) time stands at
 *   the pause's start.
 * - `met`: every target with a due date was met in time.
 * - `atRisk`: a target is still open and less than {@link AT_RISK_FRACTION} of its window is left
 *   (window = from the ticket's creation to its due date, wall-clock time).
 * - `onTrack`: every open target has at least that much left.
 */
export type SlaState = 'onTrack' | 'atRisk' | 'breached' | 'met' | 'none';
export type SlaTarget = 'response' | 'resolution';

/** Less than a quarter of a target's window left is "at risk". */
export const AT_RISK_FRACTION = 0.25;

export interface SlaClock {
  createdAt: Date;
  responseDueAt: Date | null;
  resolutionDueAt: Date | null;
  firstResponseAt: Date | null;
  /** Resolved, or closed without being resolved first. */
  resolvedAt: Date | null;
  /** The SLA clock is stopped since then (waiting for the customer). */
  pausedAt: Date | null;
  /** Breaches the job recorded. */
  breaches: ReadonlyArray<{ target: SlaTarget; at: Date }>;
}

interface TargetView {
  target: SlaTarget;
  due: Date;
  /** When it was met; null while open. */
  metAt: Date | null;
}

function targetsOf(c: SlaClock): TargetView[] {
  const out: TargetView[] = [];
  if (c.responseDueAt) out.push({ target: 'response', due: c.responseDueAt, metAt: c.firstResponseAt ?? c.resolvedAt });
  if (c.resolutionDueAt) out.push({ target: 'resolution', due: c.resolutionDueAt, metAt: c.resolvedAt });
  return out;
}

/** The targets missed by `now` (recorded or not yet recorded), response first. */
export function missedTargets(c: SlaClock, now: Date): SlaTarget[] {
  const clock = c.pausedAt ?? now;
  const missed = new Set<SlaTarget>(c.breaches.map((b) => b.target));
  for (const t of targetsOf(c)) if (t.due.getTime() < (t.metAt ?? clock).getTime()) missed.add(t.target);
  return (['response', 'resolution'] as const).filter((t) => missed.has(t));
}

export function slaStateOf(c: SlaClock, now: Date): SlaState {
  const targets = targetsOf(c);
  if (targets.length === 0) return 'none';
  if (missedTargets(c, now).length > 0) return 'breached';
  const open = targets.filter((t) => t.metAt === null);
  if (open.length === 0) return 'met';
  const clock = (c.pausedAt ?? now).getTime();
  const atRisk = open.some((t) => t.due.getTime() - clock < AT_RISK_FRACTION * (t.due.getTime() - c.createdAt.getTime()));
  return atRisk ? 'atRisk' : 'onTrack';
}

/** The earliest due date of a target still open (the list's `sort=nextDue`); null when none is open. */
export function nextDueAt(c: SlaClock): Date | null {
  const open = targetsOf(c).filter((t) => t.metAt === null);
  if (open.length === 0) return null;
  return open.reduce((a, b) => (b.due.getTime() < a.due.getTime() ? b : a)).due;
}
