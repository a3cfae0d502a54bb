import { slaAttainment, withSlaAttainment } from './sla-attainment';

describe('R-TKT-2: SLA attainment per contract', () => {
  it.each([
    [0, 0, null],
    [3, 0, 100],
    [0, 2, 0],
    [2, 1, 66.7],
    [1, 2, 33.3],
  ])('%i met, %i breached → %p %%', (met, breached, pct) => {
    expect(slaAttainment(met, breached)).toEqual({ met, breached, attainmentPercent: pct });
  });

  it('gives every contract its counts, zero where none are settled', () => {
    expect(withSlaAttainment([{ contractId: '1' }, { contractId: '2' }], [{ contract_id: '2', met: 1, breached: 1 }])).toEqual([
      { contractId: '1', sla: { met: 0, breached: 0, attainmentPercent: null } },
      { contractId: '2', sla: { met: 1, breached: 1, attainmentPercent: 50 } },
    ]);
  });
});
