/**
 * Status back (R-PSA-3): what the hub does with a ticket's state reported by a PSA (its webhook or
 * the polling fallback). Only "completed or closed in the PSA" has an effect: the hub ticket is
 * closed, so the next firing of the alert opens a new ticket (R-ALR-4). Every other report is
 * ignored with a reason (the hub's ticket is worked in the PSA; the PSA's intermediate statuses
 * are not the hub's business). Pure: the caller loads the hub ticket and passes both states in.
 */
export type HubTicketStatus = 'new' | 'in_progress' | 'waiting_customer' | 'resolved' | 'closed';

export type StatusBackDecision = { kind: 'close'; from: HubTicketStatus } | { kind: 'ignore'; reason: StatusBackIgnoreReason };

export type StatusBackIgnoreReason = 'not-a-hub-ticket' | 'status-unknown' | 'still-open-in-psa' | 'already-closed' | 'already-resolved' | 'deleted-in-psa';

export interface StatusBackInput {
  /** The hub ticket the PSA ticket was delivered for; null when no delivery has that external id. */
  hubStatus: HubTicketStatus | null;
  /** The PSA's status mapped to the hub's (the connector's status map reversed); null when it means nothing to the hub. */
  psaStatus: HubTicketStatus | null;
  /** The PSA reported the ticket deleted (Autotask Action "Delete"). */
  deleted?: boolean;
}

export function statusBackDecision(input: StatusBackInput): StatusBackDecision {
  if (input.hubStatus === null) return { kind: 'ignore', reason: 'not-a-hub-ticket' };
  // A ticket deleted in the PSA is not "worked and done": the hub keeps its ticket (an operator decides).
  if (input.deleted === true) return { kind: 'ignore', reason: 'deleted-in-psa' };
  if (input.psaStatus === null) return { kind: 'ignore', reason: 'status-unknown' };
  if (input.psaStatus !== 'resolved' && input.psaStatus !== 'closed') return { kind: 'ignore', reason: 'still-open-in-psa' };
  if (input.hubStatus === 'closed') return { kind: 'ignore', reason: 'already-closed' };
  // The hub resolved the ticket itself and told the PSA so: the PSA reporting that same state back is
  // our own change, not a technician's decision. Closing here would take away the resolved ticket's
  // reopen window (R-ALR-4: a re-fire soon after a resolution reopens it). Only a PSA status that is
  // distinctly "closed" (ConnectWise's Closed beside its Resolved) closes a resolved hub ticket.
  if (input.hubStatus === 'resolved' && input.psaStatus === 'resolved') return { kind: 'ignore', reason: 'already-resolved' };
  return { kind: 'close', from: input.hubStatus };
}

/**
 * The PSA's status value → the hub status, from the connector's hub → PSA status map. When several
 * hub statuses share one PSA value (Autotask's "Complete" for both resolved and closed), the value
 * reads as the least final of the done statuses ("resolved"): a PSA ticket in that status is done —
 * an open hub ticket is closed by it — but it cannot say more than the hub's own resolution did, so a
 * hub ticket the hub resolved keeps its reopen window (statusBackDecision).
 */
export function reverseStatusMap(map: Readonly<Record<HubTicketStatus, string>>, psaValue: string | number | null | undefined): HubTicketStatus | null {
  if (psaValue === null || psaValue === undefined) return null;
  const value = String(psaValue);
  const order: HubTicketStatus[] = ['resolved', 'closed', 'waiting_customer', 'in_progress', 'new'];
  return order.find((s) => map[s] === value) ?? null;
}
