import { countAction, emptySummary, planRecord, psaDate, psaId, psaMoney } from './import-plan';

/** R-PSA-4: the import's plan per record, idempotent. */
describe('planRecord', () => {
  it('creates what matches nothing', () => {
    expect(planRecord({ name: 'Contoso' }, null)).toEqual({ kind: 'create', values: { name: 'Contoso' } });
  });
  it('is unchanged when matched by ref with equal values (a second run)', () => {
    expect(planRecord({ name: 'Contoso' }, { id: '4', values: { name: 'Contoso' }, byRef: true })).toEqual({ kind: 'unchanged', id: '4' });
  });
  it('updates only the differing fields', () => {
    expect(planRecord({ name: 'B', endDate: '2027-01-31' }, { id: '4', values: { name: 'A', endDate: '2027-01-31' }, byRef: true })).toEqual({
      kind: 'update',
      id: '4',
      patch: { name: 'B' },
      linkRef: false,
    });
  });
  it('links the ref of a record matched by its natural key even when nothing else differs', () => {
    expect(planRecord({ name: 'Contoso' }, { id: '4', values: { name: 'Contoso' }, byRef: false })).toEqual({ kind: 'update', id: '4', patch: {}, linkRef: true });
  });
  it('refuses with the reason', () => {
    expect(planRecord({ refused: 'company 9 was not imported' }, null)).toEqual({ kind: 'refused', reason: 'company 9 was not imported' });
  });
  it('counts and lists refusals', () => {
    const s = emptySummary();
    countAction(s, 'device', { kind: 'refused', reason: 'no company' }, { externalId: '7', name: 'FS01' });
    countAction(s, 'device', { kind: 'create', values: {} }, { externalId: '8', name: 'FS02' });
    expect(s.counts.device).toEqual({ created: 1, updated: 0, unchanged: 0, refused: 1 });
    expect(s.refused).toEqual([{ kind: 'device', externalId: '7', name: 'FS01', reason: 'no company' }]);
  });
});

describe('PSA value normalization', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01'],
    ['2026-03-31', '2026-03-31'],
    [null, null],
    ['soon', null],
  ])('psaDate(%p) = %p', (v, out) => expect(psaDate(v)).toBe(out));
  it.each([
    [12.5, '12.5'],
    ['99.9900', '99.9900'],
    [-1, null],
    ['abc', null],
  ])('psaMoney(%p) = %p', (v, out) => expect(psaMoney(v)).toBe(out));
  it.each([
    [29683561, '29683561'],
    ['250', '250'],
    [1.5, null],
    ['a b', null],
  ])('psaId(%p) = %p', (v, out) => expect(psaId(v)).toBe(out));
});
