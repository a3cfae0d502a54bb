/**
 * Grouping (R-STORM-1): when more than N alerts with equal values of a rule's `by` fields open
 * tickets within M seconds, they become children of one parent incident ticket. Each child keeps
 * its own ticket (dedup key, repeats, resolution — R-ALR-4 unchanged); the parent resolves when
 * its last child does. Pure: the caller holds the group's row lock and passes what it found.
 */

/** A ticket of the group that has no parent yet (a candidate). */
export interface GroupCandidate {
  /** Ticket id, or a placeholder for a ticket the same batch is about to create. */
  ref: string;
  firstOccurredAt: Date;
}

export interface GroupInput {
  moreThan: number;
  withinSeconds: number;
  /** The group's open parent, if any. */
  openParentId: string | null;
  /** When the joining alert occurred. */
  occurredAt: Date;
  /** The group's candidates (open tickets without a parent). */
  candidates: readonly GroupCandidate[];
}

export type GroupStep =
  /** The group has an open parent: the new ticket is its child. */
  | { kind: 'join'; parentId: string }
  /** This alert makes more than N within the window: open the parent; these candidates and the new ticket become its children. */
  | { kind: 'open-parent'; adopt: GroupCandidate[] }
  /** Not (yet) a storm: an ordinary ticket, counted as a candidate of the group. */
  | { kind: 'candidate' };

/** Candidates within `withinSeconds` of the alert (either side: deliveries arrive in any order). */
export function inWindow(candidates: readonly GroupCandidate[], at: Date, withinSeconds: number): GroupCandidate[] {
  const span = withinSeconds * 1000;
  return candidates.filter((c) => Math.abs(c.firstOccurredAt.getTime() - at.getTime()) <= span);
}

export function groupStep(input: GroupInput): GroupStep {
  if (input.openParentId !== null) return { kind: 'join', parentId: input.openParentId };
  const near = inWindow(input.candidates, input.occurredAt, input.withinSeconds);
  // "More than N": with this alert, the window holds near.length + 1 alerts.
  if (near.length + 1 > input.moreThan) return { kind: 'open-parent', adopt: near };
  return { kind: 'candidate' };
}

/** The parent resolves when none of its children is open any more. */
export function parentResolves(openChildren: number): boolean {
  return openChildren === 0;
}
