import type { Db } from '../../db/connection';
import { findToken, revokeToken } from '../../db/queries/api-tokens';
import { writeAudit } from '../../db/queries/audit';
import { tokenView, type TokenView } from './token-view';

/** Revokes an active token by id or prefix, with its audit row; undefined when no active token matched. */
export async function revokeTokenAudited(db: Db, idOrPrefix: string, actor: string, requestId?: string | null): Promise<TokenView | undefined> {
  return db.transaction(async (trx) => {
    const before = await findToken(trx, idOrPrefix);
    if (!before || before.revoked_at) return undefined;
    const row = await revokeToken(trx, String(before.id));
    if (!row) return undefined;
    const after = tokenView({ ...before, revoked_at: row.revoked_at });
    await writeAudit(trx, { actor, action: 'revoke', entityType: 'api_token', entityId: after.id, before: tokenView(before), after, requestId: requestId ?? null });
    return after;
  });
}
