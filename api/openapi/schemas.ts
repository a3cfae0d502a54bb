import { z } from 'zod';
import { HubError } from '../../core/errors';
import { isIsoDate } from '../../core/dates';
import './registry'; // extends zod with .openapi() before any schema here is built

/**
 * Schemas shared by the admin resources, so every list pages the same way, every id and amount
 * looks the same on the wire (SPEC §8: ids are strings, dates 'YYYY-MM-DD', instants ISO 8601).
 */

/** Page size cap of every list route: big enough for scripts, small enough to bound a response. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

export const idSchema = z.string().regex(/^\d+$/).openapi({ example: '42' });

/** A bigint id as sent in a body (a string of digits, or a number for convenience). */
export const idInputSchema = z
  .union([z.string().regex(/^[1-9]\d{0,17}$/, { message: 'must be an id (digits)' }), z.number().int().positive().max(Number.MAX_SAFE_INTEGER)])
  .openapi({ description: 'An id (string of digits; a JSON number is accepted too).', example: '42' });

/** Normalizes an {@link idInputSchema} value to the string form the database layer takes. */
export const idString = (v: string | number): string => String(v);

const ID_PARAM = /^[1-9]\d{0,17}$/;
/**
 * A path id: anything that cannot be an id (letters, too long for a bigint) is simply not found,
 * never a database error.
 */
export function parseId(raw: string | undefined, what: string): string {
  if (raw === undefined || !ID_PARAM.test(raw)) throw new HubError('NOT_FOUND', `${what} ${raw ?? ''} not found`.trim());
  return raw;
}

export const pageQueryShape = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE, { message: `must be at most ${MAX_PAGE_SIZE}` })
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ description: `Page size, 1–${MAX_PAGE_SIZE}.` }),
  cursor: z
    .string()
    .regex(ID_PARAM, { message: 'must be the nextCursor of a previous page' })
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page.' }),
};

/** A strict list query: paging plus the resource's filters; an unknown parameter is a 400. */
export const listQuery = <S extends z.ZodRawShape>(filters: S) => z.strictObject({ ...pageQueryShape, ...filters });

/** `{ items, nextCursor }`: nextCursor is null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), nextCursor: z.string().nullable() });

/** 'true' / 'false' in a query string (z.coerce.boolean would read 'false' as true). */
export const queryBoolean = z.enum(['true', 'false']).openapi({ type: 'string', enum: ['true', 'false'] });

export const isoDate = z.string().refine(isIsoDate, { message: 'must be a calendar date written YYYY-MM-DD' }).openapi({ format: 'date', example: '2026-05-01' });

/** An instant in a query (since/until): ISO 8601, with offset or Z. */
export const instantQuery = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 instant, e.g. 2026-05-01T08:00:00Z',
  })
  .openapi({ format: 'date-time' });

export const instant = z.string().openapi({ format: 'date-time', example: '2026-05-01T08:00:00.000Z' });
export const toInstant = (d: Date | null): string | null => (d ? d.toISOString() : null);

const MONEY_MAX = 9_999_999_999.9999; // numeric(14,4)
/**
 * An amount (price, cost) as sent: a JSON number or a decimal string, ≥ 0, at most 4 decimals
 * (the column is numeric(14,4); silently rounding money would be worse than refusing it).
 */
export const moneyInput = z
  .union([
    z
      .number()
      .nonnegative()
      .max(MONEY_MAX)
      .refine((v) => Math.round(v * 1e4) / 1e4 === v, { message: 'must have at most 4 decimal places' }),
    z.string().regex(/^\d{1,10}(\.\d{1,4})?$/, { message: 'must be a non-negative decimal with at most 4 decimal places' }),
  ])
  .openapi({ description: 'Non-negative amount, at most 4 decimals (number or decimal string).', example: 49.5 });

/** The database form of a {@link moneyInput} value. */
export const moneyString = (v: number | string): string => (typeof v === 'number' ? v.toFixed(4) : v);
/** numeric(14,4) comes back as a string; the API answers numbers (exact to the 4 stored decimals). */
export const moneyOut = (v: string | null): number | null => (v === null ? null : Number(v));

/** A short name: trimmed, non-empty, bounded. */
export const nameSchema = z.string().trim().min(1, { message: 'must not be empty' }).max(200);
/** An optional external code (unique per resource); null clears it on update. */
export const codeSchema = z.string().trim().min(1, { message: 'must not be empty' }).max(64).nullable();

/** Rejects an empty PATCH: a no-op update is almost always a client bug. */
export const nonEmptyPatch = <T extends z.ZodObject>(schema: T) =>
  schema.refine((v: Record<string, unknown>) => Object.values(v).some((x) => x !== undefined), {
    message: 'must set at least one field',
  });
