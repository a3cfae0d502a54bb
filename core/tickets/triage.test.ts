import { computeDueDates, type SlaDefinition } from '../slas/due-dates';
import { assertReasonGiven, changedFields, needsTriageAfter, nextAssignment, recomputeDueDates, type TicketAssignment } from './triage';

const base: TicketAssignment = { companyId: '1', deviceId: '10', contractId: '100', serviceId: '1000', priority: 'high', assignee: null, queue: null };
const sla: SlaDefinition = {
  calendar: { timezone: 'UTC', businessHours: '24x7', holidays: [] },
  targets: { high: { firstResponseMinutes: 30, resolutionPlanMinutes: 120, resolutionMinutes: 480 } },
};

describe('R-TKT-1 triage decisions', () => {
  it.each<[string, Partial<TicketAssignment>, boolean, Partial<TicketAssignment>]>([
    ['fields left out are kept', { assignee: 'alice' }, false, { ...base, assignee: 'alice' }],
    ['a new company clears device, contract and service it does not name', { companyId: '2' }, false, { companyId: '2', deviceId: null, contractId: null, serviceId: null }],
    ['a new company keeps what the request names', { companyId: '2', deviceId: '20' }, false, { companyId: '2', deviceId: '20', contractId: null }],
    ['a new contract drops a service it does not carry', { contractId: '101' }, false, { contractId: '101', serviceId: null }],
    ['a new contract keeps a service it carries', { contractId: '101' }, true, { contractId: '101', serviceId: '1000' }],
    ['no contract: no service', { contractId: null }, false, { contractId: null, serviceId: null }],
    ['a service named without a contract stays to be refused', { contractId: null, serviceId: '1000' }, false, { contractId: null, serviceId: '1000' }],
  ])('%s', (_name, requested, keep, expected) => {
    expect(nextAssignment(base, requested, keep)).toMatchObject(expected);
  });

  it('needs a reason exactly when company, device, contract, service or priority change', () => {
    expect(() => assertReasonGiven(changedFields(base, { ...base, assignee: 'a', queue: 'q' }), undefined)).not.toThrow();
    for (const f of ['companyId', 'deviceId', 'contractId', 'serviceId'] as const) {
      expect(() => assertReasonGiven(changedFields(base, { ...base, [f]: 'x' }), undefined)).toThrow(/reason: required/);
      expect(() => assertReasonGiven(changedFields(base, { ...base, [f]: 'x' }), '  ')).toThrow(/reason: required/);
      expect(() => assertReasonGiven(changedFields(base, { ...base, [f]: 'x' }), 'why')).not.toThrow();
    }
    expect(() => assertReasonGiven(changedFields(base, { ...base, priority: 'low' }), undefined)).toThrow(/priority/);
  });

  it('R-LINK-4: a ticket without a contract is marked for triage; getting a contract leaves it; an unchanged contract keeps the mark', () => {
    expect(needsTriageAfter(null, { needsTriage: false, contractId: '1' })).toBe(true);
    expect(needsTriageAfter('2', { needsTriage: true, contractId: null })).toBe(false);
    expect(needsTriageAfter('2', { needsTriage: true, contractId: '2' })).toBe(true);
  });

  it('due dates count from the creation; finished pauses move them later (in order), an open pause does not yet', () => {
    const created = new Date('2026-03-02T08:00:00Z');
    expect(recomputeDueDates(sla, 'high', created, [])).toEqual(computeDueDates(sla, 'high', created));
    expect(recomputeDueDates(undefined, 'high', created, [])).toEqual({ firstResponseDueAt: null, resolutionPlanDueAt: null, resolutionDueAt: null });
    expect(recomputeDueDates(sla, 'low', created, [])).toEqual({ firstResponseDueAt: null, resolutionPlanDueAt: null, resolutionDueAt: null });
    const due = recomputeDueDates(sla, 'high', created, [
      { pausedAt: new Date('2026-03-02T09:00:00Z'), resumedAt: new Date('2026-03-02T10:00:00Z') },
      { pausedAt: new Date('2026-03-02T08:10:00Z'), resumedAt: new Date('2026-03-02T08:20:00Z') },
      { pausedAt: new Date('2026-03-02T12:00:00Z'), resumedAt: null },
    ]);
    // Response 08:30 +10 min (the first pause; the 09:00 pause starts after it was due) = 08:40.
    expect(due.firstResponseDueAt?.toISOString()).toBe('2026-03-02T08:40:00.000Z');
    // Plan 10:00 + 10 + 60 = 11:10; resolution 16:00 + 70 = 17:10.
    expect(due.resolutionPlanDueAt?.toISOString()).toBe('2026-03-02T11:10:00.000Z');
    expect(due.resolutionDueAt?.toISOString()).toBe('2026-03-02T17:10:00.000Z');
  });
});
