import type { Knex } from 'knex';
import { writeAudit } from '../../db/queries/audit';
import { resumeSkippedOfCompany, type DeliveryRef } from '../../db/queries/psa-deliveries';
import type { PsaRefs } from '../../db/tables';

/**
 * A ticket whose company has no PSA id for a connection is not sent there and says so (a `skipped`
 * delivery, issue 16 item 2). Once the company gets its id — `PATCH /api/v1/companies/:id` with
 * `psaRefs`, or `hub psa import` / `POST …/import` linking it — the skipped deliveries of its open
 * tickets go out by themselves, in the transaction that set the ref, one audit row each (before, the
 * admin had to find and retry them). Closed and resolved tickets stay skipped: a retry sends them when
 * wanted. The caller enqueues the returned refs once committed (else the delivery sweep finds them
 * within HUB_PSA_SWEEP_MS).
 */
export async function resumeSkippedForRefs(
  trx: Knex.Transaction,
  companyId: string,
  before: PsaRefs,
  after: PsaRefs,
  by: { actor: string; requestId?: string | null },
): Promise<DeliveryRef[]> {
  const gained = Object.keys(after).filter((name) => before[name] === undefined);
  if (gained.length === 0) return [];
  const resumed = await resumeSkippedOfCompany(trx, companyId, gained);
  for (const r of resumed) {
    await writeAudit(trx, {
      actor: by.actor,
      action: 'retry',
      entityType: 'psa_delivery',
      entityId: r.id,
      companyId,
      after: { connection: r.connectionName, reason: 'the company got its psaRefs entry for the connection' },
      requestId: by.requestId ?? null,
    });
  }
  return resumed;
}
