import { leftBehindCounts, type LeftBehindReport } from './left-behind';
import { proposeRenewal, type RenewalOriginal } from './renewal';
import {
  AUTO_RENEW_OVERRIDES,
  planRenewalApplication,
  renewalContractFields,
  renewalLines,
  renewalNote,
  renewedBillingRuleTerms,
  renewedDeviceLinks,
  renewedLinkEnd,
} from './renewal-effects';

/** The seed's quarterly contract covering February to April. */
function original(over: Partial<RenewalOriginal> = {}): RenewalOriginal {
  return {
    id: '1',
    companyId: '7',
    name: 'Managed workstations',
    description: 'Q1 coverage',
    type: 'recurring_service',
    periodType: 'quarterly',
    status: 'active',
    startDate: '2025-02-01',
    endDate: '2025-04-30',
    slaId: '3',
    isDefaultServiceDesk: false,
    integratedBilling: false,
    purchaseOrder: 'PO-1',
    contactName: 'Jane',
    autoRenew: true,
    autoRenewDaysBefore: 14,
    renewedById: null,
    services: [{ itemId: '11', units: '5', unitPrice: '20.00', unitCost: '12.00', adjustments: [] }],
    bundles: [],
    billingRules: [],
    serviceMappings: [],
    ...over,
  };
}

describe('R-REN-10: renewedLinkEnd — how a device link of the original continues on the renewal', () => {
  const ORIGINAL_END = '2025-04-30';
  it.each([
    { previous: null, expected: null, why: 'an open-ended link stays open-ended' },
    { previous: '2025-04-30', expected: null, why: 'a link running to the original’s end becomes open-ended' },
    { previous: '2025-06-30', expected: null, why: 'a link running past the original’s end becomes open-ended' },
    { previous: '2025-04-29', expected: '2025-04-29', why: 'a link ending the day before the original’s end keeps its end' },
    { previous: '2025-03-31', expected: '2025-03-31', why: 'a device leaving earlier keeps leaving on its date' },
  ])('$why', ({ previous, expected }) => {
    expect(renewedLinkEnd(previous, ORIGINAL_END)).toBe(expected);
  });

  it('R-REN-10: every cut link continues on the renewal from its start, same device and service', () => {
    const links = renewedDeviceLinks(
      [
        { deviceId: '1', serviceId: '11', previousValidTo: null },
        { deviceId: '2', serviceId: null, previousValidTo: '2025-05-15' },
      ],
      { startDate: '2025-04-01', originalEndDate: '2025-06-30' },
    );
    expect(links).toEqual([
      { deviceId: '1', serviceId: '11', validFrom: '2025-04-01', validTo: null },
      { deviceId: '2', serviceId: null, validFrom: '2025-04-01', validTo: '2025-05-15' },
    ]);
  });
});

describe('R-REN-5, R-REN-15: planRenewalApplication — when the date-dependent effects happen', () => {
  it.each([
    {
      why: 'renewed on the default start, before it: scheduled; the original expires by itself (not deactivated)',
      startDate: undefined,
      today: '2025-04-20',
      expected: { effectiveDate: '2025-05-01', deactivateOriginal: false, appliesNow: false, deactivateOriginalNow: false },
    },
    {
      why: 'renewed after the original expired (start in the past): applies now, nothing to deactivate',
      startDate: undefined,
      today: '2025-05-10',
      expected: { effectiveDate: '2025-05-01', deactivateOriginal: false, appliesNow: true, deactivateOriginalNow: false },
    },
    {
      why: 'early renewal starting today: the original ends yesterday and is deactivated at once',
      startDate: '2025-04-01',
      today: '2025-04-01',
      expected: { effectiveDate: '2025-04-01', deactivateOriginal: true, appliesNow: true, deactivateOriginalNow: true },
    },
    {
      why: 'early renewal starting in the future: the scheduler deactivates the original on that date',
      startDate: '2025-04-15',
      today: '2025-04-01',
      expected: { effectiveDate: '2025-04-15', deactivateOriginal: true, appliesNow: false, deactivateOriginalNow: false },
    },
  ])('$why', ({ startDate, today, expected }) => {
    const proposal = proposeRenewal(original(), startDate === undefined ? {} : { startDate }, today);
    expect(planRenewalApplication(proposal)).toEqual(expected);
  });
});

describe('R-REN-3, R-REN-7/8, R-REN-9, R-REN-11: what the renewal rows get', () => {
  const proposal = proposeRenewal(original({ integratedBilling: true }), { priceUpliftPercent: 10 }, '2025-04-20');

  it('R-REN-3: every proposed field, linked to the original; the unique code is not copied', () => {
    expect(renewalContractFields(proposal)).toEqual({ ...proposal.contract, code: null, renewalOfId: '1' });
  });

  it('R-REN-7/8: lines get the proposed units and prices and the original cost', () => {
    expect(renewalLines(proposal.services)).toEqual([{ itemId: '11', units: '5', unitPrice: '22.00', unitCost: '12.00' }]);
  });

  it('R-REN-11: billing rules are copied inactive, from the start, without end — the same terms the proposal shows', () => {
    const p = proposeRenewal(
      original({ billingRules: [{ id: '9', name: 'Backup', description: null, serviceId: null, amount: '5', frequency: 'monthly' }] }),
      {},
      '2025-04-20',
    );
    expect(renewedBillingRuleTerms('2025-05-01')).toEqual({ active: false, startDate: '2025-05-01', endDate: null });
    expect(p.billingRules[0]).toMatchObject(renewedBillingRuleTerms(p.contract.startDate));
  });

  it('R-REN-9: the note on the original names the renewal', () => {
    expect(renewalNote('42', 'Renewal of Managed workstations')).toEqual({ kind: 'renewal', body: 'Renewed by contract 42 Renewal of Managed workstations' });
  });

  it('R-REN-12: the scheduler keeps the existing default instead of asking', () => {
    const p = proposeRenewal(
      original({ isDefaultServiceDesk: true }),
      { ...AUTO_RENEW_OVERRIDES },
      '2025-04-20',
      [{ id: '5', name: 'Other desk', startDate: '2025-05-01', endDate: '2025-12-31' }],
    );
    expect(p.defaultServiceDesk).toMatchObject({ choiceRequired: false, renewalIsDefault: false, clearDefaultOf: [] });
  });
});

describe('R-REN-14: leftBehindCounts', () => {
  it('records the complete counts, not the listed items', () => {
    const report: LeftBehindReport = {
      originalEndDate: '2025-04-30',
      openTickets: { count: 150, items: [{ id: '1', title: 't', status: 'open' }] },
      openProjects: { count: 0, items: [] },
      chargesAfterEnd: { count: 2, items: [] },
      timeEntriesAfterEnd: { count: 3, items: [] },
    };
    expect(leftBehindCounts(report)).toEqual({ openTickets: 150, openProjects: 0, chargesAfterEnd: 2, timeEntriesAfterEnd: 3 });
  });
});
