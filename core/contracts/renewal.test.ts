import fc from 'fast-check';
import { addDays, compareDates } from '../dates';
import {
  assertDefaultChoiceMade,
  latestUnitPrice,
  proposeRenewal,
  unitsAsOf,
  type ContractLine,
  type ContractType,
  type RenewalOriginal,
} from './renewal';

const TODAY = '2025-06-15';

/** The seed's quarterly contract covering February. */
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
    services: [],
    bundles: [],
    billingRules: [],
    serviceMappings: [],
    ...over,
  };
}

const line = (itemId: string, units: string, unitPrice: string, adjustments: ContractLine['adjustments'] = []): ContractLine => ({
  itemId,
  units,
  unitPrice,
  unitCost: null,
  adjustments,
});

const code = (c: string) => expect.objectContaining({ code: c });
const field = (f: string) => expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(new RegExp(`^${f.replace(/\./g, '\\.')}:`)) });

describe('proposeRenewal — the seed examples verbatim', () => {
  it('R-REN-6: a quarterly contract covering February (1 Feb – 30 Apr) renewed from 1 May ends on 31 July, not 28 July', () => {
    const p = proposeRenewal(original(), { startDate: '2025-05-01' }, TODAY);
    expect(p.contract.startDate).toBe('2025-05-01');
    expect(p.contract.endDate).toBe('2025-07-31');
  });

  it('R-REN-8: price raised from 10 to 20 on 2 March, contract renewed as of 1 March: the renewal price is 20', () => {
    const o = original({
      startDate: '2025-01-01',
      endDate: '2025-03-31',
      services: [line('11', '5', '10', [{ effectiveDate: '2025-03-02', units: null, unitPrice: '20', seq: 1 }])],
    });
    const p = proposeRenewal(o, { startDate: '2025-03-01' }, TODAY);
    expect(p.services[0]?.unitPrice).toBe('20.00');
    expect(p.services[0]?.originalUnitPrice).toBe('20.00');
  });
});

describe('proposeRenewal', () => {
  it.each<ContractType>(['time_and_materials', 'fixed_price', 'block_hours', 'retainer', 'per_ticket'])(
    'R-REN-1: a %s contract is not renewable',
    (type) => {
      expect(() => proposeRenewal(original({ type }), {}, TODAY)).toThrow(code('CONTRACT_NOT_RENEWABLE'));
    },
  );

  it('R-REN-2: a contract that was renewed already cannot be renewed again', () => {
    expect(() => proposeRenewal(original({ renewedById: '9' }), {}, TODAY)).toThrow(code('CONTRACT_ALREADY_RENEWED'));
  });

  it('R-REN-2: the renewal can itself be renewed (a chain)', () => {
    const first = proposeRenewal(original(), {}, TODAY);
    const renewal = original({ id: '2', name: first.contract.name, startDate: first.contract.startDate, endDate: first.contract.endDate });
    const second = proposeRenewal(renewal, {}, TODAY);
    expect(second.contract).toMatchObject({ name: 'Renewal of Renewal of Managed workstations', startDate: '2025-08-01', endDate: '2025-10-31' });
  });

  it('R-REN-3: copies every field except the name, which defaults to "Renewal of <old name>"', () => {
    const p = proposeRenewal(original(), {}, TODAY);
    expect(p.contract).toEqual({
      companyId: '7',
      name: 'Renewal of Managed workstations',
      description: 'Q1 coverage',
      type: 'recurring_service',
      periodType: 'quarterly',
      startDate: '2025-05-01',
      endDate: '2025-07-31',
      slaId: '3',
      isDefaultServiceDesk: false,
      integratedBilling: false,
      purchaseOrder: 'PO-1',
      contactName: 'Jane',
      autoRenew: true,
      autoRenewDaysBefore: 14,
    });
  });

  it('R-REN-3: the name can be edited, but not blanked', () => {
    expect(proposeRenewal(original(), { name: '  FY26 workstations ' }, TODAY).contract.name).toBe('FY26 workstations');
    expect(() => proposeRenewal(original(), { name: '  ' }, TODAY)).toThrow(field('name'));
  });

  it('R-REN-4: the start defaults to the day after the original ends', () => {
    expect(proposeRenewal(original(), {}, TODAY).contract.startDate).toBe('2025-05-01');
  });

  it.each([
    { why: 'earlier (back-dated, inside the original term)', start: '2025-04-01', end: '2025-06-30' },
    { why: 'later (leaving a gap)', start: '2025-06-01', end: '2025-08-31' },
    { why: 'in the past', start: '2025-03-01', end: '2025-05-31' },
  ])('R-REN-4: the start can be edited $why', ({ start, end }) => {
    const p = proposeRenewal(original(), { startDate: start }, TODAY);
    expect(p.contract).toMatchObject({ startDate: start, endDate: end });
  });

  it('R-REN-4: the start must leave the original at least one day of its own', () => {
    expect(() => proposeRenewal(original(), { startDate: '2025-02-01' }, TODAY)).toThrow(field('startDate'));
    expect(() => proposeRenewal(original(), { startDate: '2025-01-15' }, TODAY)).toThrow(field('startDate'));
    expect(() => proposeRenewal(original(), { startDate: '2025-02-30' }, TODAY)).toThrow(field('startDate'));
  });

  it('R-REN-5: an original still running on the start date ends the day before and is deactivated on it', () => {
    const p = proposeRenewal(original(), { startDate: '2025-04-10' }, TODAY);
    expect(p.original).toEqual({ id: '1', endsEarly: true, currentEndDate: '2025-04-30', newEndDate: '2025-04-09', deactivatedOn: '2025-04-10' });
  });

  it('R-REN-5: a renewal starting on the original’s last day still cuts it short', () => {
    const p = proposeRenewal(original(), { startDate: '2025-04-30' }, TODAY);
    expect(p.original).toMatchObject({ endsEarly: true, newEndDate: '2025-04-29' });
  });

  it('R-REN-5: an original that has expired keeps its end date and stays as it is', () => {
    for (const start of ['2025-05-01', '2025-06-01']) {
      const p = proposeRenewal(original(), { startDate: start }, TODAY);
      expect(p.original).toEqual({ id: '1', endsEarly: false, currentEndDate: '2025-04-30', newEndDate: '2025-04-30', deactivatedOn: null });
    }
  });

  it('R-REN-6: the end date can be edited, but not before the start', () => {
    expect(proposeRenewal(original(), { endDate: '2026-04-30' }, TODAY).contract.endDate).toBe('2026-04-30');
    expect(() => proposeRenewal(original(), { endDate: '2025-04-30' }, TODAY)).toThrow(field('endDate'));
  });

  describe('R-REN-7: price uplift', () => {
    const o = original({
      services: [line('11', '5', '10'), line('12', '1', '99.99')],
      bundles: [line('21', '2', '40')],
    });

    it('R-REN-7: empty means prices stay the same', () => {
      for (const priceUpliftPercent of [undefined, null, '']) {
        const p = proposeRenewal(o, { priceUpliftPercent }, TODAY);
        expect(p.services.map((s) => s.unitPrice)).toEqual(['10.00', '99.99']);
        expect(p.priceUpliftPercent).toBeNull();
      }
    });

    it('R-REN-7: raises every service and bundle price by the percentage', () => {
      const p = proposeRenewal(o, { priceUpliftPercent: 10 }, TODAY);
      expect(p.services.map((s) => [s.originalUnitPrice, s.upliftedUnitPrice, s.unitPrice])).toEqual([
        ['10.00', '11.00', '11.00'],
        ['99.99', '109.99', '109.99'],
      ]);
      expect(p.bundles[0]?.unitPrice).toBe('44.00');
      expect(p.priceUpliftPercent).toBe('10');
    });

    it('R-REN-7: at most 1000.00 %, negative refused', () => {
      expect(proposeRenewal(o, { priceUpliftPercent: '1000.00' }, TODAY).services[0]?.unitPrice).toBe('110.00');
      expect(() => proposeRenewal(o, { priceUpliftPercent: '1000.01' }, TODAY)).toThrow(field('priceUpliftPercent'));
      expect(() => proposeRenewal(o, { priceUpliftPercent: -5 }, TODAY)).toThrow(field('priceUpliftPercent'));
    });

    it('R-REN-7: after the uplift each unit price can still be edited up or down', () => {
      const p = proposeRenewal(o, { priceUpliftPercent: 10, unitPrices: { '11': '9.50', '12': 150 }, bundleUnitPrices: { '21': '39' } }, TODAY);
      expect(p.services.map((s) => [s.upliftedUnitPrice, s.unitPrice, s.priceOverridden])).toEqual([
        ['11.00', '9.50', true],
        ['109.99', '150.00', true],
      ]);
      expect(p.bundles[0]).toMatchObject({ upliftedUnitPrice: '44.00', unitPrice: '39.00' });
    });

    it('R-REN-7: an edited price for a service not on the contract, or a bad price, names the field', () => {
      expect(() => proposeRenewal(o, { unitPrices: { '999': 1 } }, TODAY)).toThrow(field('unitPrices.999'));
      expect(() => proposeRenewal(o, { unitPrices: { '11': '-1' } }, TODAY)).toThrow(field('unitPrices.11'));
      expect(() => proposeRenewal(o, { bundleUnits: { '11': 1 } }, TODAY)).toThrow(field('bundleUnits.11'));
    });
  });

  describe('R-REN-8: units and prices as they stand', () => {
    const adjusted = line('11', '5', '10', [
      { effectiveDate: '2025-03-01', units: '8', unitPrice: null, seq: 1 },
      { effectiveDate: '2025-05-15', units: '12', unitPrice: '14', seq: 2 },
      { effectiveDate: '2025-04-01', units: null, unitPrice: '12', seq: 3 },
      { effectiveDate: '2025-05-15', units: '13', unitPrice: '15', seq: 4 },
    ]);

    it.each([
      ['2025-02-15', '5'],
      ['2025-03-01', '8'],
      ['2025-05-14', '8'],
      ['2025-05-15', '13'],
      ['2025-09-01', '13'],
    ])('R-REN-8: units as of %s are %s (same-day adjustments: the one entered last wins)', (date, units) => {
      expect(unitsAsOf(adjusted, date)).toBe(units);
    });

    it('R-REN-8: the price is the latest adjusted price, whatever the start date', () => {
      expect(latestUnitPrice(adjusted)).toBe('15');
      for (const startDate of ['2025-03-01', '2025-05-01', '2025-06-01']) {
        const p = proposeRenewal(original({ services: [adjusted] }), { startDate }, TODAY);
        expect(p.services[0]?.unitPrice).toBe('15.00');
      }
    });

    it('R-REN-8: units come from the start date; a unit edit overrides them', () => {
      const o = original({ services: [adjusted] });
      expect(proposeRenewal(o, { startDate: '2025-04-01' }, TODAY).services[0]?.units).toBe('8');
      expect(proposeRenewal(o, {}, TODAY).services[0]?.units).toBe('8');
      expect(proposeRenewal(o, { startDate: '2025-06-01' }, TODAY).services[0]?.units).toBe('13');
      expect(proposeRenewal(o, { units: { '11': '20.5' } }, TODAY).services[0]).toMatchObject({ units: '20.5', unitsOverridden: true });
    });

    it('R-REN-8: bundles follow the same rules', () => {
      const o = original({ bundles: [line('21', '2', '40', [{ effectiveDate: '2025-06-01', units: '3', unitPrice: '45', seq: 1 }])] });
      expect(proposeRenewal(o, {}, TODAY).bundles[0]).toMatchObject({ itemId: '21', units: '2', unitPrice: '45.00' });
    });
  });

  it('R-REN-10: device links move on the start date; the original links end the day before', () => {
    expect(proposeRenewal(original(), { startDate: '2025-04-10' }, TODAY).deviceLinks).toEqual({
      moveOn: '2025-04-10',
      originalLinksEndOn: '2025-04-09',
    });
  });

  it('R-REN-11: billing rules are copied inactive, starting on the start date, without an end date', () => {
    const o = original({
      billingRules: [{ id: '5', name: 'Monthly fee', description: null, serviceId: '11', amount: '100', frequency: 'monthly' }],
    });
    expect(proposeRenewal(o, {}, TODAY).billingRules).toEqual([
      { sourceRuleId: '5', name: 'Monthly fee', description: null, serviceId: '11', amount: '100.00', frequency: 'monthly', active: false, startDate: '2025-05-01', endDate: null },
    ]);
  });

  describe('R-REN-12: default service-desk contract', () => {
    const other = { id: '8', name: 'Interim desk', startDate: '2025-06-01', endDate: '2025-12-31' };

    it('R-REN-12: the renewal of the default contract is the default too', () => {
      const p = proposeRenewal(original({ isDefaultServiceDesk: true }), {}, TODAY, []);
      expect(p.contract.isDefaultServiceDesk).toBe(true);
      expect(p.defaultServiceDesk).toMatchObject({ originalIsDefault: true, choiceRequired: false, renewalIsDefault: true });
      expect(() => assertDefaultChoiceMade(p)).not.toThrow();
    });

    it('R-REN-12: the renewal of a contract that is not the default is not the default and asks nothing', () => {
      const p = proposeRenewal(original(), {}, TODAY, [other]);
      expect(p.contract.isDefaultServiceDesk).toBe(false);
      expect(p.defaultServiceDesk).toMatchObject({ conflicts: [], choiceRequired: false });
    });

    it('R-REN-12: another default on the renewal’s dates → the API asks, listing the candidates', () => {
      const p = proposeRenewal(original({ isDefaultServiceDesk: true }), {}, TODAY, [other]);
      expect(p.defaultServiceDesk).toMatchObject({ choiceRequired: true, conflicts: [other] });
      expect(() => assertDefaultChoiceMade(p)).toThrow(
        expect.objectContaining({
          code: 'DEFAULT_CONTRACT_CHOICE_REQUIRED',
          details: expect.objectContaining({
            candidates: [expect.objectContaining({ choice: 'renewal' }), { choice: 'existing', contract: other }],
          }),
        }),
      );
    });

    it('R-REN-12: a default that does not overlap the renewal’s dates is no conflict', () => {
      const p = proposeRenewal(original({ isDefaultServiceDesk: true }), {}, TODAY, [{ ...other, startDate: '2025-08-01' }]);
      expect(p.defaultServiceDesk).toMatchObject({ choiceRequired: false, renewalIsDefault: true });
    });

    it('R-REN-12: choosing the renewal makes it the default and clears the other; choosing the existing keeps it', () => {
      const chosen = proposeRenewal(original({ isDefaultServiceDesk: true }), { defaultContract: 'renewal' }, TODAY, [other]);
      expect(chosen.defaultServiceDesk).toMatchObject({ choiceRequired: false, renewalIsDefault: true, clearDefaultOf: ['8'] });
      expect(chosen.contract.isDefaultServiceDesk).toBe(true);
      const kept = proposeRenewal(original({ isDefaultServiceDesk: true }), { defaultContract: 'existing' }, TODAY, [other]);
      expect(kept.defaultServiceDesk).toMatchObject({ choiceRequired: false, renewalIsDefault: false, clearDefaultOf: [] });
      expect(kept.contract.isDefaultServiceDesk).toBe(false);
    });
  });

  it('R-REN-13: the service mapping is copied only with integrated billing', () => {
    const serviceMappings = [{ moduleBillingType: 'backup', serviceId: '11' }];
    expect(proposeRenewal(original({ serviceMappings, integratedBilling: true }), {}, TODAY)).toMatchObject({
      serviceMappings,
      serviceMappingsCopied: true,
    });
    expect(proposeRenewal(original({ serviceMappings }), {}, TODAY)).toMatchObject({ serviceMappings: [], serviceMappingsCopied: false });
  });

  it('R-REN-15: a renewal starting after today is scheduled; one starting today or earlier applies at once', () => {
    expect(proposeRenewal(original(), {}, '2025-04-30').schedule).toEqual({ effectiveDate: '2025-05-01', scheduled: true });
    expect(proposeRenewal(original(), {}, '2025-05-01').schedule).toEqual({ effectiveDate: '2025-05-01', scheduled: false });
  });
});

describe('proposeRenewal properties', () => {
  const day = fc.integer({ min: 0, max: 3000 }).map((n) => addDays('2020-01-01', n));

  it('R-REN-4/5/6: the renewal never overlaps what is left of the original, and never ends before it starts', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 800 }), fc.integer({ min: 1, max: 1200 }), (start, length, offset) => {
        const o = original({ startDate: start, endDate: addDays(start, length) });
        const p = proposeRenewal(o, { startDate: addDays(start, offset) }, TODAY);
        expect(compareDates(p.original.newEndDate, p.contract.startDate)).toBe(-1);
        expect(compareDates(p.original.newEndDate, o.startDate)).toBeGreaterThanOrEqual(0);
        expect(compareDates(p.original.newEndDate, o.endDate)).toBeLessThanOrEqual(0);
        expect(compareDates(p.contract.endDate, p.contract.startDate)).toBeGreaterThanOrEqual(0);
        expect(p.original.endsEarly).toBe(compareDates(p.contract.startDate, o.endDate) <= 0);
      }),
    );
  });

  it('R-REN-8: the renewal price does not depend on the start date; the units do only through adjustments up to it', () => {
    const adjustment = fc.record({
      effectiveDate: day,
      units: fc.option(fc.integer({ min: 0, max: 500 }).map(String), { nil: null }),
      unitPrice: fc.option(fc.integer({ min: 0, max: 100000 }).map((c) => (c / 100).toFixed(2)), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(adjustment, { maxLength: 8 }), day, day, (adjs, a, b) => {
        const services = [line('11', '3', '10', adjs.map((x, i) => ({ ...x, seq: i })))];
        const o = original({ startDate: '2019-01-01', endDate: '2019-12-31', services });
        const pa = proposeRenewal(o, { startDate: a }, TODAY);
        const pb = proposeRenewal(o, { startDate: b }, TODAY);
        expect(pa.services[0]?.unitPrice).toBe(pb.services[0]?.unitPrice);
        const unitsAdjustmentsBetween = adjs.some((x) => x.units !== null && ((x.effectiveDate > a && x.effectiveDate <= b) || (x.effectiveDate > b && x.effectiveDate <= a)));
        if (!unitsAdjustmentsBetween) expect(pa.services[0]?.units).toBe(pb.services[0]?.units);
      }),
    );
  });
});
