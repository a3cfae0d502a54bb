import type { Knex } from 'knex';
import type { CompanyScope } from '../../core/access/company-scope';
import { writeAudit } from '../../db/queries/audit';
import { retryDeliveries, type DeliveryRef } from '../../db/queries/psa-deliveries';

/**
 * Retry of failed (and skipped) PSA deliveries (issue 16 item 3, "visible and retryable"): the
 * rows become pending with a fresh attempt count, in one transaction with one audit row per
 * delivery. The caller enqueues the returned refs once committed (the delivery worker's sweep
 * finds them anyway within HUB_PSA_SWEEP_MS). Used by `POST /api/v1/psa-deliveries/…/retry`
 * and `hub psa retry`.
 */
export async function retryPsaDeliveries(
  db: Knex,
  f: { ids?: readonly string[] | undefined; connection?: string | undefined },
  ctx: { scope: CompanyScope; actor: string; requestId?: string | null },
): Promise<DeliveryRef[]> {
  return db.transaction(async (trx) => {
    const refs = await retryDeliveries(trx, f, ctx.scope);
    for (const r of refs) {
      await writeAudit(trx, { actor: ctx.actor, action: 'retry', entityType: 'psa_delivery', entityId: r.id, after: { connection: r.connectionName }, requestId: ctx.requestId ?? null });
    }
    return refs;
  });
}
