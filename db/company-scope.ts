import type { Knex } from 'knex';
import type { CompanyScope } from '../core/access/company-scope';

export type { CompanyScope } from '../core/access/company-scope';

/**
 * Restricts `q` to rows whose `column` is a company of `scope`. An empty company list yields no
 * rows (knex turns `whereIn(x, [])` into a false condition), never every row; rows of no company
 * (NULL) only reach an unscoped caller. Issue 13 item 1.
 */
export function whereInScope<Q extends Knex.QueryBuilder>(q: Q, column: string, scope: CompanyScope): Q {
  if (!scope.all) q.whereIn(column, [...scope.companyIds]);
  return q;
}
