import type { Knex } from 'knex';
import { z } from 'zod';
import { setPsaRefs, type PsaRefTable } from '../../db/queries/psa-refs';
import type { PsaRefs } from '../../db/tables';

/**
 * SPEC §9 `psaRefs: { "<connection name>": "<PSA id>" }` on companies, contracts, services, SLAs
 * and devices. POST sets it; PATCH replaces the whole map (`{}` clears it). Delivery copies the
 * refs into the PSA ticket (companyID, contractID, serviceLevelAgreementID, configurationItemID).
 */
export const psaRefsInput = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a PSA connection name'),
    z.union([z.string().trim().min(1).max(100), z.number().int().nonnegative()]).transform(String),
  )
  .refine((r) => Object.keys(r).length <= 50, { message: 'at most 50 connections' })
  .openapi({ type: 'object', additionalProperties: { type: 'string' }, description: 'PSA connection name → the id of this record in that PSA.', example: { autotask: '29683' } });

export const psaRefsOutput = z.record(z.string(), z.string()).openapi({ description: 'PSA connection name → the id of this record in that PSA.' });

/** After an insert or update that returned `row`: stores the refs when given and returns the row with them. */
export async function withPsaRefs<R extends { id: string; psa_refs?: PsaRefs }>(trx: Knex.Transaction, table: PsaRefTable, refs: PsaRefs | undefined, row: R): Promise<R>;
export async function withPsaRefs<R extends { id: string; psa_refs?: PsaRefs }>(trx: Knex.Transaction, table: PsaRefTable, refs: PsaRefs | undefined, row: R | null | undefined): Promise<R | null | undefined>;
export async function withPsaRefs<R extends { id: string; psa_refs?: PsaRefs }>(trx: Knex.Transaction, table: PsaRefTable, refs: PsaRefs | undefined, row: R | null | undefined): Promise<R | null | undefined> {
  if (!row || refs === undefined) return row;
  await setPsaRefs(trx, table, String(row.id), refs);
  return { ...row, psa_refs: refs };
}

export const refsOf = (row: { psa_refs?: PsaRefs }): PsaRefs => row.psa_refs ?? {};
