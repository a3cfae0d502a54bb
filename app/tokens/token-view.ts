import { ALL_COMPANIES, onlyCompanies, type CompanyScope } from '../../core/access/company-scope';
import type { TokenWithCompanies } from '../../db/queries/api-tokens';
import type { Role } from '../../db/tables';

/** The scope a token row grants: its all-companies flag, else exactly its company rows (none = nothing). */
export const scopeOfToken = (t: Pick<TokenWithCompanies, 'all_companies' | 'company_ids'>): CompanyScope =>
  t.all_companies ? ALL_COMPANIES : onlyCompanies(t.company_ids);

/** What may be shown about a token: never its hash, never the secret. */
export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  /** true = every company (companyIds is then empty). */
  allCompanies: boolean;
  /** The companies of a scoped token; empty with allCompanies false = its companies were deleted: it sees nothing. */
  companyIds: string[];
  createdAt: string;
  createdBy: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export const tokenView = (t: TokenWithCompanies): TokenView => ({
  id: String(t.id),
  name: t.name,
  prefix: t.prefix,
  role: t.role,
  allCompanies: t.all_companies,
  companyIds: t.all_companies ? [] : t.company_ids,
  createdAt: t.created_at.toISOString(),
  createdBy: t.created_by,
  lastUsedAt: t.last_used_at ? t.last_used_at.toISOString() : null,
  revokedAt: t.revoked_at ? t.revoked_at.toISOString() : null,
});
