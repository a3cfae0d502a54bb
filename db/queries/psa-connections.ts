import type { Db } from '../connection';
import { prepared } from '../prepared';
import type { PsaConnectionRow, PsaRefs } from '../tables';

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

/**
 * What the PSA outbox needs for a round's new tickets, in one round trip (it runs in the pipeline's
 * transaction for every batch): the enabled connections (id, name, type — not their config) and the
 * `psa_refs` of these companies. No enabled connection: no rows, and no refs are needed.
 *
 * The connections' rows are locked `FOR KEY SHARE` until the transaction ends: `psa_deliveries.connection_id`
 * has no foreign key (its per-row check was most of an outbox row's cost), so this one lock per statement
 * is what keeps a connection from being deleted between this read and the outbox rows' commit (migration
 * 20261208040000; a delete waits for it, and its trigger then deletes the rows written meanwhile).
 */
export async function outboxTargets(
  db: Db,
  companyIds: readonly string[],
): Promise<{ connections: Array<Pick<PsaConnectionRow, 'id' | 'name' | 'type'>>; companyRefs: Map<string, PsaRefs> }> {
  const r = (await db
    .raw(
      `SELECT c.id, c.name, c.type,
              (SELECT coalesce(jsonb_object_agg(co.id::text, co.psa_refs), '{}'::jsonb)
                 FROM companies co WHERE co.id = ANY(?::bigint[])) AS company_refs
         FROM psa_connections c WHERE c.enabled ORDER BY c.name
          FOR KEY SHARE OF c`,
      [[...companyIds]],
    )
    .options(prepared('outbox_targets'))) as { rows: Array<{ id: string | number; name: string; type: PsaConnectionRow['type']; company_refs: Record<string, PsaRefs> }> };
  const first = r.rows[0];
  return {
    connections: r.rows.map((row) => ({ id: String(row.id), name: row.name, type: row.type })),
    companyRefs: new Map(first ? Object.entries(first.company_refs) : []),
  };
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
