import type { CompanyScope } from '../../core/access/company-scope';
import type { Db } from '../../db/connection';
import { findToken, insertToken, insertTokenCompanies, prefixTaken, type TokenWithCompanies } from '../../db/queries/api-tokens';
import { writeAudit } from '../../db/queries/audit';
import type { Role } from '../../db/tables';
import { generateToken } from '../../lib/tokens';
import { tokenView, type TokenView } from './token-view';

export interface IssueTokenInput {
  name: string;
  role: Role;
  /** `ALL_COMPANIES`, or `onlyCompanies([...])` with at least one company (a token of nothing is useless). */
  scope: CompanyScope;
  /** The audit actor and created_by, e.g. 'token:3:ops' or 'cli:alice'. */
  actor: string;
  requestId?: string | null;
}

/**
 * Creates a token and its audit row in one transaction, for `POST /api/v1/tokens` and `hub tokens
 * create` alike; the returned `token` is the only time the secret exists outside the caller's
 * hands (only its SHA-256 is stored). A company that does not exist fails with the foreign key
 * violation of api_token_companies (callers map it to their field name).
 */
export async function issueToken(db: Db, t: IssueTokenInput): Promise<{ token: string; view: TokenView }> {
  if (!t.scope.all && t.scope.companyIds.length === 0) throw new Error('issueToken: a scoped token needs at least one company');
  return db.transaction(async (trx) => {
    // A prefix collision (32 random bits) is unlikely but possible: retry with a fresh token rather than fail.
    for (let attempt = 0; ; attempt++) {
      const g = generateToken();
      if (attempt < 5 && (await prefixTaken(trx, g.prefix))) continue;
      const row = await insertToken(trx, { name: t.name, prefix: g.prefix, tokenHash: g.hash, role: t.role, createdBy: t.actor, allCompanies: t.scope.all });
      if (!t.scope.all) await insertTokenCompanies(trx, String(row.id), t.scope.companyIds);
      const view = tokenView((await findToken(trx, String(row.id))) as TokenWithCompanies);
      await writeAudit(trx, { actor: t.actor, action: 'create', entityType: 'api_token', entityId: view.id, after: view, requestId: t.requestId ?? null });
      return { token: g.token, view };
    }
  });
}
