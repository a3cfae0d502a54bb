import { HubError } from '../core/errors';

/**
 * Maps Postgres constraint errors to the hub's HubError, naming the API field, so that the
 * database stays the one judge of uniqueness and references (STYLE.md principle 4) while clients
 * still get a 409/400 that says which field is wrong instead of a 500.
 *
 * `fields` maps a constraint name (preferred: it is exact) or a column name to the API field,
 * e.g. `{ companies_name_unique: 'name', company_id: 'companyId' }`. Without an entry the column
 * named in Postgres's detail is camel-cased.
 */
export type PgFieldMap = Readonly<Record<string, string>>;

interface PgErrorLike {
  code: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_CHECK_VIOLATION = '23514';
export const PG_EXCLUSION_VIOLATION = '23P01';
export const PG_NOT_NULL_VIOLATION = '23502';

export function isPgError(e: unknown, code?: string): e is PgErrorLike {
  if (typeof e !== 'object' || e === null || !('code' in e)) return false;
  const c = (e as { code: unknown }).code;
  // pg's codes are five characters; node's own errors (ECONNREFUSED…) are not.
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) && (code === undefined || c === code);
}

const camel = (column: string): string => column.replace(/_([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());

/** `Key (company_id, lower(hostname))=(1, web01)` → columns ['company_id', 'hostname'], value '1, web01'. */
function parseKeyDetail(detail: string | undefined): { columns: string[]; value: string | null } {
  const m = /Key \((.+?)\)=\((.*)\)/.exec(detail ?? '');
  if (!m?.[1]) return { columns: [], value: null };
  const columns = m[1].split(',').map((c) => c.trim().replace(/^[a-z_]+\((.+)\)$/, '$1'));
  return { columns, value: m[2] ?? null };
}

function fieldOf(e: PgErrorLike, fields: PgFieldMap, columns: string[]): string {
  if (e.constraint && fields[e.constraint]) return fields[e.constraint] as string;
  if (e.column && fields[e.column]) return fields[e.column] as string;
  // The last column of a composite key is the one the caller chose (company_id, hostname → hostname).
  for (const c of [...columns].reverse()) if (fields[c]) return fields[c] as string;
  const col = e.column ?? columns[columns.length - 1];
  return col ? camel(col) : (e.constraint ?? 'body');
}

/**
 * The HubError for a Postgres constraint error, or undefined for anything else (which stays a
 * 500: an unexpected database error must not be dressed up as a client mistake).
 */
export function pgErrorToHubError(e: unknown, fields: PgFieldMap = {}): HubError | undefined {
  if (!isPgError(e)) return undefined;
  const { columns, value } = parseKeyDetail(e.detail);
  const field = fieldOf(e, fields, columns);
  const issue = (message: string) => [{ field, message }];
  switch (e.code) {
    case PG_UNIQUE_VIOLATION: {
      const shown = value === null ? '' : ` ${JSON.stringify(columns.length > 1 ? `(${value})` : value)}`;
      const message = `value${shown} is already taken`;
      return new HubError('DUPLICATE', `${field}: ${message}`, issue(message), { cause: e });
    }
    case PG_FOREIGN_KEY_VIOLATION: {
      const table = /table "([^"]+)"/.exec(e.detail ?? '')?.[1];
      if (/still referenced/.test(e.detail ?? '')) {
        // Deleting (or re-keying) a row other rows point at: the request is fine, the state is not.
        const message = `still referenced by ${table ?? 'other records'}; remove those first`;
        return new HubError('CONFLICT', message, [{ field: 'id', message }], { cause: e });
      }
      const message = `${value ?? 'the referenced id'} does not exist${table ? ` (${table})` : ''}`;
      return new HubError('VALIDATION_FAILED', `${field}: ${message}`, issue(message), { cause: e });
    }
    case PG_CHECK_VIOLATION:
    case PG_NOT_NULL_VIOLATION: {
      const message = e.code === PG_NOT_NULL_VIOLATION ? 'is required' : `violates ${e.constraint ?? 'a check constraint'}`;
      return new HubError('VALIDATION_FAILED', `${field}: ${message}`, issue(message), { cause: e });
    }
    case PG_EXCLUSION_VIOLATION: {
      const message = `overlaps an existing record (${e.constraint ?? 'exclusion constraint'})`;
      return new HubError('CONFLICT', `${field}: ${message}`, issue(message), { cause: e });
    }
    case '22P02': // invalid_text_representation (e.g. 'abc' for a bigint)
    case '22003': // numeric_value_out_of_range
    case '22008': // datetime_field_overflow
    case '22007': {
      const message = 'has an invalid value';
      return new HubError('VALIDATION_FAILED', `${field}: ${message}`, issue(message), { cause: e });
    }
    default:
      return undefined;
  }
}

/** Runs `fn`, turning Postgres constraint errors into HubErrors naming the field (see {@link pgErrorToHubError}). */
export async function withPgErrors<T>(fields: PgFieldMap, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw pgErrorToHubError(e, fields) ?? e;
  }
}

/** statement_timeout (and any other cancel), lock_timeout, idle_in_transaction_session_timeout. */
const BUSY_CODES = new Set(['57014', '55P03', '25P03']);

/**
 * True for the errors the connection limits produce (db/connection.ts ConnectionLimits): a
 * statement cancelled by statement_timeout, a lock not granted within lock_timeout, a session ended
 * by idle_in_transaction_session_timeout, or no pool connection within the acquire timeout (knex's
 * KnexTimeoutError). These say "the database is busy now", not "the request is wrong": the API
 * answers 503 with Retry-After, and a grouped insert does not retry its deliveries one by one.
 */
export function isDatabaseBusy(e: unknown): boolean {
  if (isPgError(e)) return BUSY_CODES.has(e.code);
  return e instanceof Error && e.name === 'KnexTimeoutError';
}
