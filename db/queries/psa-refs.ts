import type { Db } from '../connection';
import type { PsaRefs } from '../tables';

/** The tables whose rows carry `psa_refs` (migration 20261206183000). */
export const PSA_REF_TABLES = ['companies', 'contracts', 'services', 'slas', 'devices'] as const;
export type PsaRefTable = (typeof PSA_REF_TABLES)[number];

/** `psa_refs` of some rows of one table, by id. */
export async function psaRefsOf(db: Db, table: PsaRefTable, ids: readonly string[]): Promise<Map<string, PsaRefs>> {
  if (ids.length === 0) return new Map();
  const rows = (await db(table).whereIn('id', [...ids]).select('id', 'psa_refs')) as Array<{ id: string; psa_refs: PsaRefs }>;
  return new Map(rows.map((r) => [String(r.id), r.psa_refs]));
}

/** Replaces a row's `psa_refs` (the API's POST and PATCH send the whole map). */
export async function setPsaRefs(db: Db, table: PsaRefTable, id: string, refs: PsaRefs): Promise<void> {
  await db(table).where('id', id).update({ psa_refs: JSON.stringify(refs) });
}

/** The ids of rows whose ref for `connection` is `psaId` (the import's "do we know it already"). */
export async function idsByPsaRef(db: Db, table: PsaRefTable, connection: string, psaId: string): Promise<string[]> {
  const rows = (await db(table)
    .whereRaw('psa_refs @> ?::jsonb', [JSON.stringify({ [connection]: psaId })])
    .select('id')) as Array<{ id: string }>;
  return rows.map((r) => String(r.id));
}
