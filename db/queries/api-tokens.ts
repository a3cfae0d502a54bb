import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { ApiTokenRow, Role } from '../tables';

/**
 * API token rows. A token's scope is `all_companies` (every company) or its api_token_companies
 * rows (only these; none = nothing — issue 13 item 1). The use cases are in app/tokens/.
 */
export type TokenWithCompanies = ApiTokenRow & { company_ids: string[] };

const withCompanies = (db: Db) =>
  db('api_tokens as t')
    .select('t.*', db.raw("coalesce(array_agg(c.company_id::text ORDER BY c.company_id) FILTER (WHERE c.company_id IS NOT NULL), '{}') AS company_ids"))
    .leftJoin('api_token_companies as c', 'c.token_id', 't.id')
    .groupBy('t.id');

export async function findActiveTokenByHash(db: Db, tokenHash: string): Promise<TokenWithCompanies | undefined> {
  return (await withCompanies(db).where('t.token_hash', tokenHash).whereNull('t.revoked_at').first()) as TokenWithCompanies | undefined;
}

/** By id (digits) or by prefix (`hub_xxxxxxxx`), revoked or not. */
export async function findToken(db: Db, idOrPrefix: string): Promise<TokenWithCompanies | undefined> {
  const q = withCompanies(db);
  if (/^\d{1,18}$/.test(idOrPrefix)) q.where('t.id', idOrPrefix);
  else q.where('t.prefix', idOrPrefix);
  return (await q.first()) as TokenWithCompanies | undefined;
}

export async function listTokenPage(db: Db, f: PageRequest & { includeRevoked: boolean; role?: Role | undefined }): Promise<Page<TokenWithCompanies>> {
  const q = withCompanies(db);
  if (!f.includeRevoked) q.whereNull('t.revoked_at');
  if (f.role) q.where('t.role', f.role);
  return pageBy<TokenWithCompanies>(q, f, 't.id');
}

/** Active tokens scoped to `companyId` (not the all-companies ones), with their whole company list. */
export async function listActiveTokensScopedTo(db: Db, companyId: string): Promise<TokenWithCompanies[]> {
  return (await withCompanies(db)
    .whereNull('t.revoked_at')
    .where('t.all_companies', false)
    .whereExists((sub) => sub.select(db.raw('1')).from('api_token_companies as s').whereRaw('s.token_id = t.id').where('s.company_id', companyId))
    .orderBy('t.id')) as TokenWithCompanies[];
}

export async function prefixTaken(db: Db, prefix: string): Promise<boolean> {
  return (await db('api_tokens').where('prefix', prefix).first('id')) !== undefined;
}

export async function insertToken(
  db: Db,
  t: { name: string; prefix: string; tokenHash: string; role: Role; createdBy: string; allCompanies: boolean },
): Promise<ApiTokenRow> {
  const [row] = await db('api_tokens')
    .insert({ name: t.name, prefix: t.prefix, token_hash: t.tokenHash, role: t.role, created_by: t.createdBy, all_companies: t.allCompanies })
    .returning('*');
  return row as ApiTokenRow;
}

/** The companies of a scoped token (a foreign key violation names a company that does not exist). */
export async function insertTokenCompanies(db: Db, tokenId: string, companyIds: readonly string[]): Promise<void> {
  if (companyIds.length === 0) return;
  await db('api_token_companies').insert(companyIds.map((company_id) => ({ token_id: tokenId, company_id })));
}

/** Revokes an active token by id; returns the revoked row, or undefined when none was active. */
export async function revokeToken(db: Db, id: string): Promise<ApiTokenRow | undefined> {
  const [row] = await db('api_tokens').whereNull('revoked_at').where('id', id).update({ revoked_at: db.fn.now() }).returning('*');
  return row as ApiTokenRow | undefined;
}

export async function touchToken(db: Db, id: string): Promise<void> {
  await db('api_tokens').where('id', id).update({ last_used_at: db.fn.now() });
}
