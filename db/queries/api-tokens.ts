import type { Db } from '../connection';
import type { ApiTokenRow, Role } from '../tables';

export async function findActiveTokenByHash(db: Db, tokenHash: string): Promise<(ApiTokenRow & { company_ids: string[] }) | undefined> {
  const row = await db('api_tokens as t')
    .select('t.*', db.raw("coalesce(array_agg(c.company_id::text) FILTER (WHERE c.company_id IS NOT NULL), '{}') AS company_ids"))
    .leftJoin('api_token_companies as c', 'c.token_id', 't.id')
    .where('t.token_hash', tokenHash)
    .whereNull('t.revoked_at')
    .groupBy('t.id')
    .first();
  return row as (ApiTokenRow & { company_ids: string[] }) | undefined;
}

export async function insertToken(
  db: Db,
  t: { name: string; prefix: string; tokenHash: string; role: Role; createdBy: string; companyIds: string[] },
): Promise<ApiTokenRow> {
  const [row] = await db('api_tokens')
    .insert({ name: t.name, prefix: t.prefix, token_hash: t.tokenHash, role: t.role, created_by: t.createdBy })
    .returning('*');
  const token = row as ApiTokenRow;
  if (t.companyIds.length > 0) {
    await db('api_token_companies').insert(t.companyIds.map((company_id) => ({ token_id: token.id, company_id })));
  }
  return token;
}

export async function listTokens(db: Db): Promise<Array<ApiTokenRow & { company_ids: string[] }>> {
  return (await db('api_tokens as t')
    .select('t.*', db.raw("coalesce(array_agg(c.company_id::text) FILTER (WHERE c.company_id IS NOT NULL), '{}') AS company_ids"))
    .leftJoin('api_token_companies as c', 'c.token_id', 't.id')
    .groupBy('t.id')
    .orderBy('t.id')) as Array<ApiTokenRow & { company_ids: string[] }>;
}

/** Revokes by id or prefix; returns the revoked row, or undefined when none was active. */
export async function revokeToken(db: Db, idOrPrefix: string): Promise<ApiTokenRow | undefined> {
  const q = db('api_tokens').whereNull('revoked_at');
  if (/^\d+$/.test(idOrPrefix)) q.where('id', idOrPrefix);
  else q.where('prefix', idOrPrefix);
  const [row] = await q.update({ revoked_at: db.fn.now() }).returning('*');
  return row as ApiTokenRow | undefined;
}

export async function touchToken(db: Db, id: string): Promise<void> {
  await db('api_tokens').where('id', id).update({ last_used_at: db.fn.now() });
}
