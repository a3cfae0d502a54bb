import type { Knex } from 'knex';
import { connectors } from '../../connectors';
import type { CompanyScope } from '../../core/access/company-scope';
import { companyRefGap } from '../../core/psa/delivery';
import { writeAudit } from '../../db/queries/audit';
import { keepSkipped, retryCandidates, retryDeliveries, type DeliveryRef } from '../../db/queries/psa-deliveries';

/**
 * Retry of failed (and skipped) PSA deliveries (issue 16 item 3, "visible and retryable"): the
 * rows become pending with a fresh attempt count, in one transaction with one audit row per
 * delivery. The caller enqueues the returned refs once committed (the delivery worker's sweep
 * finds them anyway within HUB_PSA_SWEEP_MS). Used by `POST /api/v1/psa-deliveries/…/retry`
 * and `hub psa retry`.
 *
 * A delivery not yet created in its PSA is checked again first, as at the ticket's creation: a
 * connection that needs the company's PSA id (Autotask, ConnectWise) gets the ticket once the
 * company has its `psaRefs[<connection>]` (read now, so a ref set after the skip counts). While
 * the ref (or the ticket's company) is still missing the delivery stays `skipped` with the reason
 * and is answered as such — before, it went pending, failed in the connector without a call, and
 * ended `failed` with the connector's message, the "set the ref" hint lost.
 */
export interface RetryOutcome {
  /** Pending again, to be enqueued. */
  retried: DeliveryRef[];
  /** Still not sendable: skipped, with the reason. */
  stillSkipped: Array<{ id: string; connectionName: string; reason: string }>;
}

export async function retryPsaDeliveries(
  db: Knex,
  f: { ids?: readonly string[] | undefined; connection?: string | undefined },
  ctx: { scope: CompanyScope; actor: string; requestId?: string | null },
): Promise<RetryOutcome> {
  return db.transaction(async (trx) => {
    const candidates = await retryCandidates(trx, f, ctx.scope);
    const stillSkipped: RetryOutcome['stillSkipped'] = [];
    const sendable: string[] = [];
    for (const c of candidates) {
      // A type this build lacks is treated as needing the ref, as when the delivery was recorded (app/psa/outbox.ts).
      const needsCompanyRef = c.externalId === null && (connectors[c.connectionType]?.needsCompanyRef ?? true);
      const gap = companyRefGap(c, { name: c.connectionName, needsCompanyRef }, c.companyRefs ?? undefined);
      if (gap === null) sendable.push(c.id);
      else stillSkipped.push({ id: c.id, connectionName: c.connectionName, reason: gap });
    }
    await keepSkipped(trx, stillSkipped);
    const retried = sendable.length === 0 ? [] : await retryDeliveries(trx, { ids: sendable }, ctx.scope);
    for (const r of retried) {
      await writeAudit(trx, { actor: ctx.actor, action: 'retry', entityType: 'psa_delivery', entityId: r.id, after: { connection: r.connectionName }, requestId: ctx.requestId ?? null });
    }
    for (const s of stillSkipped) {
      await writeAudit(trx, { actor: ctx.actor, action: 'retry', entityType: 'psa_delivery', entityId: s.id, after: { connection: s.connectionName, state: 'skipped', reason: s.reason }, requestId: ctx.requestId ?? null });
    }
    return { retried, stillSkipped };
  });
}
