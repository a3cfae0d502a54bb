import type { Db } from '../../db/connection';
import { listActiveTokensScopedTo } from '../../db/queries/api-tokens';
import { writeAudit } from '../../db/queries/audit';
import { tokenView } from './token-view';

/**
 * Call inside the transaction that deletes `companyId`, before the delete: the token-company rows
 * cascade away with the company, so every active token scoped to it gets an audit row saying what
 * it could see before and what it sees after (a token that loses its last company keeps working
 * but sees nothing — issue 13 item 1; revoke it if it is no longer needed).
 */
export async function auditTokensLosingCompany(trx: Db, e: { companyId: string; actor: string; requestId?: string | null }): Promise<number> {
  const tokens = await listActiveTokensScopedTo(trx, e.companyId);
  for (const t of tokens) {
    const before = tokenView(t);
    const after = tokenView({ ...t, company_ids: t.company_ids.filter((c) => c !== e.companyId) });
    await writeAudit(trx, {
      actor: e.actor,
      action: 'scope.company_deleted',
      entityType: 'api_token',
      entityId: before.id,
      companyId: e.companyId,
      before,
      after,
      requestId: e.requestId ?? null,
    });
  }
  return tokens.length;
}
