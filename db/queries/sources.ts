import type { Db } from '../connection';
import { pageBy, type Page, type PageRequest } from '../paging';
import type { SourceRow } from '../tables';

/** A sources row with the siteField option (migration 20261123054500). */
export type SourceRecord = SourceRow & { site_field: string | null };

/** Everything the admin API writes; secrets arrive already encrypted. */
export interface SourceWrite {
  name: string;
  plugin: string;
  config: Record<string, unknown>;
  authType: SourceRow['auth_type'];
  authSettings: Record<string, unknown>;
  authSecretsEnc: string;
  siteField: string | null;
  maxBodyBytes: number | null;
  rateLimitPerSecond: number | null;
  enabled: boolean;
}

const columns = (s: SourceWrite) => ({
  name: s.name,
  plugin: s.plugin,
  // jsonb: knex would send a plain object as a Postgres record/array literal, so serialize it.
  config: JSON.stringify(s.config),
  auth_type: s.authType,
  auth_settings: JSON.stringify(s.authSettings),
  auth_secrets_enc: s.authSecretsEnc,
  site_field: s.siteField,
  max_body_bytes: s.maxBodyBytes,
  rate_limit_per_second: s.rateLimitPerSecond,
  enabled: s.enabled,
});

export async function listSources(
  db: Db,
  f: PageRequest & { plugin?: string | undefined; enabled?: boolean | undefined; origin?: 'api' | 'file' | undefined },
): Promise<Page<SourceRecord>> {
  const q = db('sources').select('*');
  if (f.plugin) q.where('plugin', f.plugin);
  if (f.enabled !== undefined) q.where('enabled', f.enabled);
  if (f.origin) q.where('origin', f.origin);
  return pageBy<SourceRecord>(q, f);
}

/** By id (digits) or by name: webhooks know a source by its name, the API by either. */
export async function getSource(db: Db, idOrName: string): Promise<SourceRecord | undefined> {
  const q = db('sources');
  if (/^\d{1,18}$/.test(idOrName)) q.where('id', idOrName);
  else q.where('name', idOrName);
  return (await q.first()) as SourceRecord | undefined;
}

/** By name only (the webhook path: a source named "2024" is a name there, not an id). */
export async function getSourceByName(db: Db, name: string): Promise<SourceRecord | undefined> {
  return (await db('sources').where('name', name).first()) as SourceRecord | undefined;
}

/** Every source's name, enabled or not (the webhook intake's "could this name exist" set). */
export async function listSourceNames(db: Db): Promise<string[]> {
  const rows = (await db('sources').select('name')) as Array<{ name: string }>;
  return rows.map((r) => r.name);
}

export async function insertSource(db: Db, s: SourceWrite): Promise<SourceRecord> {
  const [row] = (await db('sources')
    .insert({ ...columns(s), origin: 'api' })
    .returning('*')) as SourceRecord[];
  if (!row) throw new Error('insert into sources returned no row');
  return row;
}

export async function updateSource(db: Db, id: string, s: SourceWrite): Promise<SourceRecord | undefined> {
  const [row] = (await db('sources')
    .where('id', id)
    .update({ ...columns(s), updated_at: db.fn.now() })
    .returning('*')) as SourceRecord[];
  return row;
}

/** Fails with a foreign-key error once deliveries were received (disable the source instead). */
export async function deleteSource(db: Db, id: string): Promise<boolean> {
  return (await db('sources').where('id', id).delete()) > 0;
}

/** One page of sources' sealed secrets in id order (the re-encrypt command walks them all). */
export async function listSealedSecretsAfter(db: Db, afterId: string, limit: number): Promise<{ id: string; name: string; auth_secrets_enc: string }[]> {
  return (await db('sources').select('id', 'name', 'auth_secrets_enc').where('id', '>', afterId).orderBy('id').limit(limit)) as { id: string; name: string; auth_secrets_enc: string }[];
}

export async function countSources(db: Db): Promise<number> {
  const [row] = (await db('sources').count<{ count: string }[]>('* as count')) as { count: string }[];
  return Number(row?.count ?? 0);
}

/**
 * Compare-and-set of a source's sealed secrets: written only while the row still holds `expected`,
 * so an edit made meanwhile (a PATCH, a rename) is never overwritten. True when written.
 */
export async function replaceSealedSecrets(db: Db, id: string, expected: string, next: string): Promise<boolean> {
  return (await db('sources').where({ id, auth_secrets_enc: expected }).update({ auth_secrets_enc: next, updated_at: db.fn.now() })) > 0;
}

export async function getSealedSecrets(db: Db, id: string): Promise<{ id: string; name: string; auth_secrets_enc: string } | undefined> {
  return (await db('sources').select('id', 'name', 'auth_secrets_enc').where('id', id).first()) as { id: string; name: string; auth_secrets_enc: string } | undefined;
}

/** Locks a source's row for the rest of the transaction (an update that re-reads its sealed secrets). */
export async function lockSource(trx: Db, id: string): Promise<SourceRow | undefined> {
  return (await trx('sources').where('id', id).forUpdate().first()) as SourceRow | undefined;
}
