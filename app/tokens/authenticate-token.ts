import type { CompanyScope } from '../../core/access/company-scope';
import type { Db } from '../../db/connection';
import { findActiveTokenByHash, touchToken } from '../../db/queries/api-tokens';
import type { Role } from '../../db/tables';
import { hashToken } from '../../lib/tokens';
import { scopeOfToken } from './token-view';

/** Who a valid token is: what the API's auth middleware puts on the request. */
export interface TokenPrincipal {
  tokenId: string;
  name: string;
  role: Role;
  scope: CompanyScope;
}

/**
 * Looks a bearer token up by its SHA-256 (only active tokens). Returns an authenticator that
 * remembers, per process, when it last wrote `last_used_at`: at most once a minute per token, not
 * a write per request.
 */
export function tokenAuthenticator(db: Db, now: () => number = Date.now): (token: string) => Promise<TokenPrincipal | undefined> {
  const touched = new Map<string, number>();
  return async (token) => {
    const row = await findActiveTokenByHash(db, hashToken(token));
    if (!row) return undefined;
    const id = String(row.id);
    const t = now();
    if ((touched.get(id) ?? 0) < t - 60_000) {
      touched.set(id, t);
      void touchToken(db, id).catch(() => undefined);
    }
    return { tokenId: id, name: row.name, role: row.role, scope: scopeOfToken(row) };
  };
}
