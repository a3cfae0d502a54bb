import type { Request } from 'express';
import type { Knex } from 'knex';
import { notFound } from '../../core/errors';
import type { Page } from '../../db/paging';
import { withPgErrors, type PgFieldMap } from '../../db/pg-errors';
import { parseId } from '../openapi/schemas';
import { audit } from './audit/admin-write';

/**
 * The steps every admin CRUD route repeats: load-or-404, a page of rows in their API shape, and a
 * create / update / delete written in one transaction together with its audit row. Permission
 * checks, validation and the route specs stay in the routes: they differ in meaning per entity.
 */

/** `row`, or the standard 404 naming what was looked for (also when it is outside the caller's scope). */
export function orNotFound<T>(row: T | null | undefined, what: string, id: string): T {
  if (row === null || row === undefined) throw notFound(what, id);
  return row;
}

/** Parses the `:id` path parameter and loads it, 404 when the id is malformed or nothing is found. */
export async function loadOr404<T>(what: string, rawId: string | undefined, load: (id: string) => Promise<T | null | undefined>): Promise<T> {
  const id = parseId(rawId, what);
  return orNotFound(await load(id), what, id);
}

/** A keyset page (from `pageBy`) as the API's `{ items, nextCursor }`. */
export function pageBody<Row, Out>(page: Page<Row>, out: (row: Row) => Out): Page<Out> {
  return { items: page.items.map(out), nextCursor: page.nextCursor };
}

/**
 * The same for a query asked for `limit + 1` rows after the cursor id: the extra row only says that
 * another page exists, and the cursor is the last id shown.
 */
export function pageOfExtraRow<Row extends { id: string | number }, Out>(rows: Row[], limit: number, out: (row: Row) => Out): Page<Out> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map(out), nextCursor: rows.length > limit && last ? String(last.id) : null };
}

/**
 * How a write turns constraint errors into HubErrors naming the field: {@link pgErrors} with the
 * route's field map, a module's own mapper (`withContractErrors`), or {@link noErrorMapping}.
 */
export type ErrorMapping = <T>(fn: () => Promise<T>) => Promise<T>;

export const pgErrors =
  (fields: PgFieldMap): ErrorMapping =>
  (fn) =>
    withPgErrors(fields, fn);

/** For writes whose constraint errors are not a client's mistake (they stay a 500). */
export const noErrorMapping: ErrorMapping = (fn) => fn();

/** Which company an audit row belongs to (scoped tokens see only their companies' rows); omitted for global objects. */
type CompanyOf<Out> = ((out: Out) => string | null) | undefined;

/** Inserts with `insert` (which returns the API shape) and writes the `create` audit row in the same transaction. */
export async function createAudited<Out extends { id: string }>(
  db: Knex,
  req: Request,
  errors: ErrorMapping,
  entityType: string,
  insert: (trx: Knex.Transaction) => Promise<Out>,
  companyOf?: CompanyOf<Out>,
): Promise<Out> {
  return errors(() =>
    db.transaction(async (trx) => {
      const after = await insert(trx);
      await audit(trx, req, { action: 'create', entityType, entityId: after.id, companyId: companyOf?.(after), after });
      return after;
    }),
  );
}

export interface AuditedChange<Row, Out> {
  entityType: string;
  /** How a 404 names the entity ('service bundle'). */
  what: string;
  id: string;
  /** Loads (and where needed locks) the current row; undefined (e.g. outside the caller's scope) is a 404. */
  load: (trx: Knex.Transaction) => Promise<Row | null | undefined>;
  out: (row: Row) => Out;
  /** Taken from the API shape: `after` for an update, `before` for a delete. */
  companyOf?: CompanyOf<Out>;
}

/**
 * Load-or-404, `update` (which may validate against `before` and throw), 404 if the row vanished,
 * and the `update` audit row with before and after, all in one transaction.
 */
export async function updateAudited<Row, Out>(
  db: Knex,
  req: Request,
  errors: ErrorMapping,
  c: AuditedChange<Row, Out> & { update: (trx: Knex.Transaction, before: Row) => Promise<Row | null | undefined> },
): Promise<Out> {
  return errors(() =>
    db.transaction(async (trx) => {
      const before = orNotFound(await c.load(trx), c.what, c.id);
      const after = c.out(orNotFound(await c.update(trx, before), c.what, c.id));
      await audit(trx, req, { action: 'update', entityType: c.entityType, entityId: c.id, companyId: c.companyOf?.(after), before: c.out(before), after });
      return after;
    }),
  );
}

/**
 * Load-or-404, `remove` (a still-referenced row becomes a 409 through `errors`), and the `delete`
 * audit row with what was removed, all in one transaction. Returns the removed row.
 */
export async function deleteAudited<Row, Out>(
  db: Knex,
  req: Request,
  errors: ErrorMapping,
  c: AuditedChange<Row, Out> & { remove: (trx: Knex.Transaction, before: Row) => Promise<unknown> },
): Promise<Row> {
  return errors(() =>
    db.transaction(async (trx) => {
      const before = orNotFound(await c.load(trx), c.what, c.id);
      await c.remove(trx, before);
      const shown = c.out(before);
      await audit(trx, req, { action: 'delete', entityType: c.entityType, entityId: c.id, companyId: c.companyOf?.(shown), before: shown });
      return before;
    }),
  );
}

/**
 * For deletes whose query returns the removed row (`DELETE … RETURNING`): 404 when nothing was
 * removed, else the `delete` audit row with what was removed, in one transaction.
 */
export async function removeAudited<Row, Out>(
  db: Knex,
  req: Request,
  c: { entityType: string; what: string; id: string; companyId: string | null; remove: (trx: Knex.Transaction) => Promise<Row | undefined>; out: (row: Row) => Out },
): Promise<void> {
  await db.transaction(async (trx) => {
    const before = orNotFound(await c.remove(trx), c.what, c.id);
    await audit(trx, req, { action: 'delete', entityType: c.entityType, entityId: c.id, companyId: c.companyId, before: c.out(before) });
  });
}
