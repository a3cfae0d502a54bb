import { reverseStatusMap, statusBackDecision, type HubTicketStatus } from './status-back';

/** R-PSA-3 / R-ALR-4: only completed or closed in the PSA closes the hub ticket. */
describe('statusBackDecision', () => {
  const cases: Array<[HubTicketStatus | null, HubTicketStatus | null, boolean | undefined, string]> = [
    ['new', 'closed', undefined, 'close'],
    ['in_progress', 'resolved', undefined, 'close'],
    ['resolved', 'closed', undefined, 'close'],
    // The hub's own resolution reported back (Autotask's Complete): the reopen window stays (R-ALR-4).
    ['resolved', 'resolved', undefined, 'already-resolved'],
    ['waiting_customer', 'closed', undefined, 'close'],
    ['closed', 'closed', undefined, 'already-closed'],
    ['new', 'in_progress', undefined, 'still-open-in-psa'],
    ['new', 'new', undefined, 'still-open-in-psa'],
    ['new', null, undefined, 'status-unknown'],
    [null, 'closed', undefined, 'not-a-hub-ticket'],
    ['new', 'closed', true, 'deleted-in-psa'],
  ];
  it.each(cases)('hub %s, PSA %s, deleted %s → %s', (hubStatus, psaStatus, deleted, expected) => {
    const d = statusBackDecision({ hubStatus, psaStatus, deleted });
    expect(d.kind === 'close' ? 'close' : d.reason).toBe(expected);
  });
});

describe('reverseStatusMap', () => {
  const autotask = { new: '1', in_progress: '8', waiting_customer: '7', resolved: '5', closed: '5' };
  it('maps a shared "Complete" value to closed, others to their status, unknown to null', () => {
    // Complete stands for both resolved and closed: it reads as resolved (done, but no more final than the hub's own resolution).
    expect(reverseStatusMap(autotask, 5)).toBe('resolved');
    expect(reverseStatusMap(autotask, '8')).toBe('in_progress');
    expect(reverseStatusMap(autotask, 42)).toBeNull();
    expect(reverseStatusMap(autotask, undefined)).toBeNull();
  });
});
