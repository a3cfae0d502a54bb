import type { Db } from '../../db/connection';
import { findToken, listTokenPage } from '../../db/queries/api-tokens';
import type { Page, PageRequest } from '../../db/paging';
import type { Role } from '../../db/tables';
import { tokenView, type TokenView } from './token-view';

/** One page of tokens as they may be shown (never a hash or a secret). */
export async function listTokens(db: Db, f: PageRequest & { includeRevoked: boolean; role?: Role | undefined }): Promise<Page<TokenView>> {
  const page = await listTokenPage(db, f);
  return { items: page.items.map(tokenView), nextCursor: page.nextCursor };
}

/** A token by id or prefix, revoked or not. */
export async function getToken(db: Db, idOrPrefix: string): Promise<TokenView | undefined> {
  const row = await findToken(db, idOrPrefix);
  return row ? tokenView(row) : undefined;
}
