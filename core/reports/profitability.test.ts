import { buildProfitability, csvField, profitabilityCsv, type ProfitabilityInput } from './profitability';

const input = (over: Partial<ProfitabilityInput> = {}): ProfitabilityInput => ({
  period: { from: '2026-01-01', to: '2026-02-28' },
  contracts: [
    {
      id: '7',
      name: 'Managed servers',
      companyId: '1',
      companyName: 'Acme',
      startDate: '2026-01-16',
      endDate: '2026-12-31',
      services: [
        { serviceId: '3', name: 'Server monitoring', units: '10', unitPrice: '20', adjustments: [] },
        { serviceId: '4', name: 'Backup', units: '2', unitPrice: '50', adjustments: [{ effectiveDate: '2026-02-15', units: '4', unitPrice: null, seq: 1 }] },
      ],
      bundles: [{ bundleId: '9', name: 'Office pack', units: '1', unitPrice: '62', adjustments: [] }],
    },
  ],
  timeEntries: [
    { contractId: '7', serviceId: '3', serviceName: 'Server monitoring', hours: '2', costRate: '45' },
    { contractId: '7', serviceId: '3', serviceName: 'Server monitoring', hours: '0.5', costRate: null },
    { contractId: '7', serviceId: null, serviceName: null, hours: '1.25', costRate: '40' },
    { contractId: '7', serviceId: '8', serviceName: 'Antivirus', hours: '1', costRate: '30' },
  ],
  uncontractedEntries: [{ hours: '3', costRate: '20' }],
  ...over,
});

describe('buildProfitability (R-LINK-6)', () => {
  it('R-LINK-6: per contract and per service: revenue, labour cost and margin, computed by hand', () => {
    // Contract runs from 16 Jan; period Jan–Feb 2026.
    // Server monitoring: 10 × 20 = 200/month. Jan: 16/31 × 200 = 103.2258; Feb: 200 → 303.2258 → 303.23.
    //   labour 2 h × 45 = 90 (+ 0.5 h without rate) → cost 90.00, margin 213.23.
    // Backup: Jan 16/31 × 2 × 50 = 51.6129; Feb 1–14: 2 × 50 × 14/28 = 50; Feb 15–28: 4 × 50 × 14/28 = 100
    //   → 201.6129 → 201.61; no labour.
    // Antivirus (labour only, not a contract line): cost 1 × 30 = 30.00, revenue 0.
    // No service: 1.25 × 40 = 50.00.
    // Bundle Office pack: 1 × 62: Jan 16/31 × 62 = 32; Feb 62 → 94.00.
    // Contract: revenue 303.23 + 201.61 + 94.00 = 598.84; cost 90 + 30 + 50 = 170.00; margin 428.84.
    const r = buildProfitability(input());
    expect(r.from).toBe('2026-01-01');
    expect(r.to).toBe('2026-02-28');
    expect(r.contracts).toHaveLength(1);
    const c = r.contracts[0]!;
    expect(c).toMatchObject({ contractId: '7', name: 'Managed servers', companyId: '1', revenue: '598.84', cost: '170.00', margin: '428.84', hours: '4.75', unratedHours: '0.5' });
    expect(c.services).toEqual([
      { serviceId: '8', name: 'Antivirus', revenue: '0.00', cost: '30.00', margin: '-30.00', hours: '1', unratedHours: '0' },
      { serviceId: '4', name: 'Backup', revenue: '201.61', cost: '0.00', margin: '201.61', hours: '0', unratedHours: '0' },
      { serviceId: '3', name: 'Server monitoring', revenue: '303.23', cost: '90.00', margin: '213.23', hours: '2.5', unratedHours: '0.5' },
      { serviceId: null, name: '(no service)', revenue: '0.00', cost: '50.00', margin: '-50.00', hours: '1.25', unratedHours: '0' },
    ]);
    expect(c.bundles).toEqual([{ bundleId: '9', name: 'Office pack', revenue: '94.00' }]);
    expect(r.totals).toEqual({ revenue: '598.84', cost: '170.00', margin: '428.84', hours: '4.75', unratedHours: '0.5' });
    // Uncontracted labour is shown, not folded into any contract or the totals.
    expect(r.uncontracted).toEqual({ hours: '3', unratedHours: '0', cost: '60.00' });
  });

  it('R-LINK-6: a contract that does not run in the period still shows (labour booked on it), with no revenue', () => {
    const r = buildProfitability(
      input({
        period: { from: '2025-12-01', to: '2025-12-31' },
        timeEntries: [{ contractId: '7', serviceId: '3', serviceName: 'Server monitoring', hours: '1', costRate: '10' }],
      }),
    );
    expect(r.contracts[0]).toMatchObject({ revenue: '0.00', cost: '10.00', margin: '-10.00' });
  });

  it('orders contracts by company then name', () => {
    const base = input().contracts[0]!;
    const r = buildProfitability(
      input({
        timeEntries: [],
        contracts: [
          { ...base, id: '1', name: 'B', companyName: 'Zeta' },
          { ...base, id: '2', name: 'Z', companyName: 'Acme' },
          { ...base, id: '3', name: 'A', companyName: 'Acme' },
        ],
      }),
    );
    expect(r.contracts.map((c) => c.contractId)).toEqual(['3', '2', '1']);
  });

  it('refuses to before from', () => {
    expect(() => buildProfitability(input({ period: { from: '2026-02-01', to: '2026-01-01' } }))).toThrow(/^to: /);
  });
});

describe('profitabilityCsv', () => {
  it('R-LINK-6: one row per contract × service and contract × bundle, figures as in the JSON', () => {
    const csv = profitabilityCsv(buildProfitability(input()));
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('contractId,contractName,companyId,companyName,lineType,itemId,itemName,revenue,hours,unratedHours,cost,margin');
    expect(rows.slice(1)).toEqual([
      '7,Managed servers,1,Acme,service,8,Antivirus,0.00,1,0,30.00,-30.00',
      '7,Managed servers,1,Acme,service,4,Backup,201.61,0,0,0.00,201.61',
      '7,Managed servers,1,Acme,service,3,Server monitoring,303.23,2.5,0.5,90.00,213.23',
      '7,Managed servers,1,Acme,service,,(no service),0.00,1.25,0,50.00,-50.00',
      '7,Managed servers,1,Acme,bundle,9,Office pack,94.00,0,0,0.00,94.00',
    ]);
  });

  it('quotes commas and quotes, and defuses spreadsheet formulas in names', () => {
    expect(csvField('Acme, Inc. "HQ"')).toBe('"Acme, Inc. ""HQ"""');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-12.00', false)).toBe('-12.00');
  });
});
