import type { Db } from '../connection';
import type { PsaConnectionRow } from '../tables';

/** Everything the admin API writes; the secrets arrive sealed (app/psa/connection-secrets.ts). */
export interface PsaConnectionWrite {
  name: string;
  type: PsaConnectionRow['type'];
  enabled: boolean;
  config: Record<string, unknown>;
  secretsEnc: string;
  rateLimitPerHour: number | null;
}

const columns = (c: PsaConnectionWrite) => ({
  name: c.name,
  type: c.type,
  enabled: c.enabled,
  // jsonb: serialized, or knex sends an object as a record literal.
  config: JSON.stringify(c.config),
  secrets_enc: c.secretsEnc,
  rate_limit_per_hour: c.rateLimitPerHour,
});

export async function listPsaConnections(db: Db, f: { enabled?: boolean | undefined } = {}): Promise<PsaConnectionRow[]> {
  const q = db('psa_connections').select('*').orderBy('name');
  if (f.enabled !== undefined) q.where('enabled', f.enabled);
  return (await q) as PsaConnectionRow[];
}

export async function getPsaConnectionByName(db: Db, name: string): Promise<PsaConnectionRow | undefined> {
  return (await db('psa_connections').where('name', name).first()) as PsaConnectionRow | undefined;
}

export async function getPsaConnectionById(db: Db, id: string): Promise<PsaConnectionRow | undefined> {
  return (await db('psa_connections').where('id', id).first()) as PsaConnectionRow | undefined;
}

/** The row lock a PATCH or DELETE holds. */
export async function lockPsaConnection(db: Db, id: string): Promise<PsaConnectionRow | undefined> {
  return (await db('psa_connections').where('id', id).forUpdate().first()) as PsaConnectionRow | undefined;
}

export async function insertPsaConnection(db: Db, c: PsaConnectionWrite): Promise<PsaConnectionRow> {
  const [row] = (await db('psa_connections').insert(columns(c)).returning('*')) as PsaConnectionRow[];
  return row!;
}

export async function updatePsaConnection(db: Db, id: string, c: PsaConnectionWrite): Promise<PsaConnectionRow | undefined> {
  const [row] = (await db('psa_connections')
    .where('id', id)
    .update({ ...columns(c), updated_at: db.fn.now() })
    .returning('*')) as PsaConnectionRow[];
  return row;
}

/** Deletes the connection; its deliveries cascade (the PSA tickets stay in the PSA). */
export async function deletePsaConnection(db: Db, id: string): Promise<boolean> {
  return (await db('psa_connections').where('id', id).delete()) > 0;
}
