import { ALL_COMPANIES, describeScope, onlyCompanies, scopeIncludes } from './company-scope';

// Issue 13 item 1: an empty scope is a scope of nothing, never "every company".
describe('CompanyScope', () => {
  it.each<{ why: string; scope: ReturnType<typeof onlyCompanies>; companyId: string | number | null; expected: boolean }>([
    { why: 'all companies: any company', scope: ALL_COMPANIES, companyId: '7', expected: true },
    { why: 'all companies: an object of no company (triage)', scope: ALL_COMPANIES, companyId: null, expected: true },
    { why: 'a listed company (number or string)', scope: onlyCompanies(['1', 2]), companyId: 2, expected: true },
    { why: 'an unlisted company', scope: onlyCompanies(['1']), companyId: '3', expected: false },
    { why: 'scoped: an object of no company', scope: onlyCompanies(['1']), companyId: null, expected: false },
    { why: 'no companies left: nothing at all', scope: onlyCompanies([]), companyId: '1', expected: false },
    { why: 'no companies left: not even objects of no company', scope: onlyCompanies([]), companyId: null, expected: false },
  ])('$why', ({ scope, companyId, expected }) => {
    expect(scopeIncludes(scope, companyId)).toBe(expected);
  });

  it('deduplicates and describes itself', () => {
    expect(onlyCompanies(['1', 1, '2'])).toEqual({ all: false, companyIds: ['1', '2'] });
    expect(describeScope(ALL_COMPANIES)).toBe('all companies');
    expect(describeScope(onlyCompanies([]))).toBe('no companies');
    expect(describeScope(onlyCompanies(['4', '5']))).toBe('companies 4,5');
  });
});
