import fc from 'fast-check';
import { activeDefaultContract, chooseContract, effectiveLink, isLinkEffective, linkCutFor } from './links';

interface Link {
  id: string;
  contractId: string;
  serviceId: string | null;
  validFrom: string;
  validTo: string | null;
}

interface Contract {
  id: string;
  isDefaultServiceDesk: boolean;
  status: 'active' | 'inactive';
  renewed?: boolean;
  startDate: string;
  endDate: string;
}

const link = (id: string, validFrom: string, validTo: string | null): Link => ({ id, contractId: `c-${id}`, serviceId: null, validFrom, validTo });

describe('effectiveLink', () => {
  // The mail server moves from contract A to its renewal B on 1 May (R-REN-10 style).
  const links = [link('A', '2025-02-01', '2025-04-30'), link('B', '2025-05-01', null)];

  it.each([
    { date: '2025-01-31', expected: null, why: 'no link before the first one starts' },
    { date: '2025-02-01', expected: 'A', why: 'validFrom is inclusive' },
    { date: '2025-04-30', expected: 'A', why: 'validTo is inclusive' },
    { date: '2025-05-01', expected: 'B', why: 'a scheduled change takes effect on its date' },
    { date: '2031-12-31', expected: 'B', why: 'an open-ended link never ends' },
  ])('R-LINK-3: on $date → $expected ($why)', ({ date, expected }) => {
    expect(effectiveLink(links, date)?.id ?? null).toBe(expected);
  });

  it('R-LINK-3: a gap between links means no link', () => {
    expect(effectiveLink([link('A', '2025-01-01', '2025-01-31'), link('B', '2025-03-01', null)], '2025-02-15')).toBeNull();
  });

  it('R-LINK-3: overlapping rows (not allowed by the database) resolve to the later start', () => {
    expect(effectiveLink([link('new', '2025-03-01', null), link('old', '2025-01-01', null)], '2025-04-01')?.id).toBe('new');
  });

  it('R-LINK-3: no links, no link', () => {
    expect(effectiveLink([], '2025-04-01')).toBeNull();
  });

  it('names the broken field', () => {
    expect(() => effectiveLink(links, '2025-04-31')).toThrow(/^date:/);
    expect(() => effectiveLink([link('A', '2025-02-01', '2025/04/30')], '2025-03-01')).toThrow(/^links\[0\]\.validTo:/);
  });

  it('R-LINK-3: a link is effective exactly on the days of its inclusive range', () => {
    const day = fc.integer({ min: 0, max: 400 }).map((n) => new Date(Date.UTC(2025, 0, 1 + n)).toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, day, fc.option(day), (date, from, to) => {
        const expected = from <= date && (to === null || date <= to);
        expect(isLinkEffective({ validFrom: from, validTo: to }, date)).toBe(expected);
      }),
    );
  });
});

describe('activeDefaultContract', () => {
  const base: Contract = { id: 'sd', isDefaultServiceDesk: true, status: 'active', startDate: '2025-01-01', endDate: '2025-12-31' };

  it.each<{ why: string; contracts: Contract[]; date: string; expected: string | null }>([
    { why: 'the flagged, active contract covering the date', contracts: [base], date: '2025-06-15', expected: 'sd' },
    { why: 'start date is inclusive', contracts: [base], date: '2025-01-01', expected: 'sd' },
    { why: 'end date is inclusive', contracts: [base], date: '2025-12-31', expected: 'sd' },
    { why: 'not before it starts', contracts: [base], date: '2024-12-31', expected: null },
    { why: 'not after it ends', contracts: [base], date: '2026-01-01', expected: null },
    { why: 'not when inactive', contracts: [{ ...base, status: 'inactive' }], date: '2025-06-15', expected: null },
    { why: 'not when not flagged default', contracts: [{ ...base, isDefaultServiceDesk: false }], date: '2025-06-15', expected: null },
    {
      why: 'issue 15 item 6: a default a back-dated renewal deactivated is still the default on its own dates',
      contracts: [
        { ...base, id: 'old', status: 'inactive', renewed: true, endDate: '2025-02-28' },
        { ...base, id: 'renewal', startDate: '2025-03-01', endDate: '2025-12-31' },
      ],
      date: '2025-02-15',
      expected: 'old',
    },
    {
      why: 'issue 15 item 6: ... and the renewal from its start',
      contracts: [
        { ...base, id: 'old', status: 'inactive', renewed: true, endDate: '2025-02-28' },
        { ...base, id: 'renewal', startDate: '2025-03-01', endDate: '2025-12-31' },
      ],
      date: '2025-03-01',
      expected: 'renewal',
    },
    {
      why: 'the renewal takes over on its start date',
      contracts: [
        { ...base, id: 'old', endDate: '2025-04-30' },
        { ...base, id: 'renewal', startDate: '2025-05-01', endDate: '2025-07-31' },
      ],
      date: '2025-05-01',
      expected: 'renewal',
    },
    {
      why: 'other contracts of the company are not the default',
      contracts: [{ ...base, id: 'backup', isDefaultServiceDesk: false }, base],
      date: '2025-06-15',
      expected: 'sd',
    },
  ])('R-LINK-4: $why', ({ contracts, date, expected }) => {
    expect(activeDefaultContract(contracts, date)?.id ?? null).toBe(expected);
  });

  it('names the broken field', () => {
    expect(() => activeDefaultContract([{ ...base, startDate: '2025-1-1' }], '2025-06-15')).toThrow(/^contracts\[0\]\.startDate:/);
  });
});

describe('chooseContract', () => {
  const deviceLink = link('L', '2025-01-01', null);
  const defaultContract: Contract = { id: 'sd', isDefaultServiceDesk: true, status: 'active', startDate: '2025-01-01', endDate: '2025-12-31' };

  it('R-LINK-4: a contract linked to the device overrides the default service-desk contract', () => {
    expect(chooseContract(deviceLink, defaultContract)).toEqual({ kind: 'device', link: deviceLink });
  });

  it('R-LINK-4: without an effective device link the default service-desk contract applies', () => {
    expect(chooseContract(null, defaultContract)).toEqual({ kind: 'default', contract: defaultContract });
  });

  it('R-LINK-4: with neither the ticket is created without contract and marked for triage', () => {
    expect(chooseContract<Link, Contract>(null, null)).toEqual({ kind: 'none', triage: true });
    expect(chooseContract<Link, Contract>(undefined, undefined)).toEqual({ kind: 'none', triage: true });
  });

  it('R-LINK-3 + R-LINK-4: selection on the alert date, end to end', () => {
    const links = [link('A', '2025-02-01', '2025-04-30')];
    const contracts = [defaultContract];
    const on = (date: string) => chooseContract(effectiveLink(links, date), activeDefaultContract(contracts, date)).kind;
    expect(on('2025-03-01')).toBe('device');
    expect(on('2025-05-01')).toBe('default');
    expect(on('2026-01-01')).toBe('none');
  });
});

describe('R-LINK-1/8: linkCutFor — the link in force when a change takes effect', () => {
  it.each([
    { currentFrom: '2025-01-01', from: '2025-05-01', expected: { kind: 'end', validTo: '2025-04-30' }, why: 'an older link ends the day before (history stays)' },
    { currentFrom: '2025-04-30', from: '2025-05-01', expected: { kind: 'end', validTo: '2025-04-30' }, why: 'a link started the day before keeps that one day' },
    { currentFrom: '2025-05-01', from: '2025-05-01', expected: { kind: 'delete' }, why: 'a link starting that very day would have no day left: removed' },
    { currentFrom: '2025-03-01', from: '2025-03-01', expected: { kind: 'delete' }, why: 'same-day replacement, any date' },
  ])('$why', ({ currentFrom, from, expected }) => {
    expect(linkCutFor(currentFrom, from)).toEqual(expected);
  });
});
