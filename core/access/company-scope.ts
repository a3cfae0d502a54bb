/**
 * The companies a caller may see and change (issue 13 item 1). A discriminated union, not
 * `string[] | null`: with a nullable list, "no companies left" and "every company" were one
 * `.length > 0 ? … : null` apart, and a scoped token whose companies were deleted silently became
 * unscoped. Here the only way to say "every company" is `{ all: true }`, and an empty list means
 * exactly what it says: nothing.
 */
export type CompanyScope = { readonly all: true } | { readonly all: false; readonly companyIds: readonly string[] };

export const ALL_COMPANIES: CompanyScope = Object.freeze({ all: true as const });

/** A scope of exactly these companies (deduplicated, as strings); an empty list is a scope of nothing. */
export function onlyCompanies(ids: Iterable<string | number>): CompanyScope {
  return Object.freeze({ all: false as const, companyIds: Object.freeze([...new Set([...ids].map(String))]) });
}

/**
 * Whether an object of `companyId` lies inside `scope`. An object without a company (a discovered
 * device, a ticket awaiting triage, a global maintenance window) belongs to no company, so only an
 * unscoped caller sees it.
 */
export function scopeIncludes(scope: CompanyScope, companyId: string | number | null | undefined): boolean {
  if (scope.all) return true;
  if (companyId === null || companyId === undefined) return false;
  return scope.companyIds.includes(String(companyId));
}

/** The company-scoped half of the union, for callers that must refuse global writes to scoped tokens. */
export const isCompanyScoped = (scope: CompanyScope): scope is { readonly all: false; readonly companyIds: readonly string[] } => !scope.all;

/** How a scope reads in a list or a log line. */
export const describeScope = (scope: CompanyScope): string =>
  scope.all ? 'all companies' : scope.companyIds.length > 0 ? `companies ${scope.companyIds.join(',')}` : 'no companies';
