import { generateToken } from '../../lib/tokens';
import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { ApiTokenRow, Role } from '../tables';
import { insertToken, revokeToken } from './api-tokens';
import { writeAudit } from './audit';

/**
 * Token administration shared by `POST/GET/DELETE /api/v1/tokens` and `hub tokens …`, so the API
 * and the CLI issue, show and revoke tokens the same way and both leave an audit row.
 */
export type TokenWithCompanies = ApiTokenRow & { company_ids: string[] };

const withCompanies = (db: Db) =>
  db('api_tokens as t')
    .select('t.*', db.raw("coalesce(array_agg(c.company_id::text ORDER BY c.company_id) FILTER (WHERE c.company_id IS NOT NULL), '{}') AS company_ids"))
    .leftJoin('api_token_companies as c', 'c.token_id', 't.id')
    .groupBy('t.id');

/** What may be shown about a token: never its hash, never the secret. */
export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  /** Empty = every company. */
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
  companyIds: t.company_ids,
  createdAt: t.created_at.toISOString(),
  createdBy: t.created_by,
  lastUsedAt: t.last_used_at ? t.last_used_at.toISOString() : null,
  revokedAt: t.revoked_at ? t.revoked_at.toISOString() : null,
});

export async function listTokenPage(db: Db, f: PageRequest & { includeRevoked: boolean; role?: Role | undefined }): Promise<Page<TokenWithCompanies>> {
  const q = withCompanies(db);
  if (!f.includeRevoked) q.whereNull('t.revoked_at');
  if (f.role) q.where('t.role', f.role);
  return pageBy<TokenWithCompanies>(q, f, 't.id');
}

/** By id (digits) or by prefix (`hub_xxxxxxxx`), revoked or not. */
export async function findToken(db: Db, idOrPrefix: string): Promise<TokenWithCompanies | undefined> {
  const q = withCompanies(db);
  if (/^\d{1,18}$/.test(idOrPrefix)) q.where('t.id', idOrPrefix);
  else q.where('t.prefix', idOrPrefix);
  return (await q.first()) as TokenWithCompanies | undefined;
}

export interface IssueTokenInput {
  name: string;
  role: Role;
  companyIds: string[];
  /** The audit actor and created_by, e.g. 'token:3:ops' or 'cli:alice'. */
  actor: string;
  requestId?: string | null;
}

/**
 * Creates a token and its audit row in one transaction; the returned `token` is the only time
 * the secret exists outside the caller's hands (only its SHA-256 is stored).
 */
export async function issueToken(db: Db, t: IssueTokenInput): Promise<{ token: string; view: TokenView }> {
  return db.transaction(async (trx) => {
    // A prefix collision (32 random bits) is unlikely but possible: retry with a fresh token rather than fail.
    for (let attempt = 0; ; attempt++) {
      const g = generateToken();
      const clash = await trx('api_tokens').where('prefix', g.prefix).first('id');
      if (clash && attempt < 5) continue;
      const row = await insertToken(trx, { name: t.name, prefix: g.prefix, tokenHash: g.hash, role: t.role, createdBy: t.actor, companyIds: t.companyIds });
      const view = tokenView((await findToken(trx, row.id)) as TokenWithCompanies);
      await writeAudit(trx, { actor: t.actor, action: 'create', entityType: 'api_token', entityId: view.id, after: view, requestId: t.requestId ?? null });
      return { token: g.token, view };
    }
  });
}

/** Revokes an active token by id or prefix, with its audit row; undefined when no active token matched. */
export async function revokeTokenAudited(db: Db, idOrPrefix: string, actor: string, requestId?: string | null): Promise<TokenView | undefined> {
  return db.transaction(async (trx) => {
    const before = await findToken(trx, idOrPrefix);
    if (!before || before.revoked_at) return undefined;
    const row = await revokeToken(trx, String(before.id));
    if (!row) return undefined;
    const after = tokenView({ ...before, revoked_at: row.revoked_at });
    await writeAudit(trx, { actor, action: 'revoke', entityType: 'api_token', entityId: after.id, before: tokenView(before), after, requestId: requestId ?? null });
    return after;
  });
}
