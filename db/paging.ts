import type { Knex } from 'knex';

/**
 * Keyset paging by a bigint id column: stable under concurrent inserts (an offset would skip or
 * repeat rows) and an index range scan at any depth. The cursor is the last id of the previous page.
 */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Runs `q` (not yet ordered or limited) one page at a time, in `direction` of `column`.
 * One extra row is fetched to know whether there is a next page without a count(*).
 */
export async function pageBy<T extends { id: string }>(
  q: Knex.QueryBuilder,
  page: PageRequest,
  column = 'id',
  direction: 'asc' | 'desc' = 'asc',
): Promise<Page<T>> {
  if (page.cursor !== undefined) q.where(column, direction === 'asc' ? '>' : '<', page.cursor);
  const rows = (await q.orderBy(column, direction).limit(page.limit + 1)) as T[];
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > page.limit && last ? String(last.id) : null };
}
