import { companyRefGap, deliveryPlan } from './delivery';

/** Why a ticket cannot be created in a PSA yet: the same reason at its creation (deliveryPlan) and at each retry. */
describe('companyRefGap', () => {
  const autotask = { name: 'autotask', needsCompanyRef: true };
  const relay = { name: 'relay', needsCompanyRef: false };
  it.each([
    ['ref present', { companyId: '1', companyName: 'Acme' }, autotask, { autotask: '29683' }, null],
    ['ref of another connection only', { companyId: '1', companyName: 'Acme' }, autotask, { cw: '7' }, 'not sent to autotask: company Acme has no psaRefs.autotask (set it, then retry the delivery)'],
    ['empty ref', { companyId: '1', companyName: null }, autotask, { autotask: '' }, 'not sent to autotask: company 1 has no psaRefs.autotask (set it, then retry the delivery)'],
    ['no refs at all', { companyId: '1', companyName: 'Acme' }, autotask, undefined, 'not sent to autotask: company Acme has no psaRefs.autotask (set it, then retry the delivery)'],
    ['no company', { companyId: null, companyName: null }, autotask, undefined, 'not sent to autotask: the ticket has no company (triage it, then retry the delivery)'],
    ['a receiver without companies', { companyId: null, companyName: null }, relay, undefined, null],
  ] as const)('%s', (_what, t, c, refs, expected) => {
    expect(companyRefGap(t, c, refs)).toBe(expected);
  });

  it('is what deliveryPlan records for a skipped delivery', () => {
    const plan = deliveryPlan([{ ticketId: '5', companyId: '1', companyName: 'Acme', priority: 'high', deliver: undefined }], [{ id: '9', ...autotask }, { id: '10', ...relay }], new Map([['1', { cw: '7' }]]));
    expect(plan).toEqual([
      { ticketId: '5', connectionId: '9', rank: 2, state: 'skipped', lastError: companyRefGap({ companyId: '1', companyName: 'Acme' }, autotask, { cw: '7' }) },
      { ticketId: '5', connectionId: '10', rank: 2, state: 'pending', lastError: null },
    ]);
  });
});
