import { ALL_COMPANIES } from '../../core/access/company-scope';
import { isHubError } from '../../core/errors';
import { AUTO_RENEW_OVERRIDES, MAX_AUTO_RENEW_ROUNDS } from '../../core/contracts/renewal-effects';
import type { IsoDate } from '../../core/dates';
import { writeAudit } from '../../db/queries/audit';
import { deactivateContract, findContract } from '../../db/queries/contracts';
import { findApplicationByRenewal, listDueApplications, lockDueApplication, markApplicationApplied } from '../../db/queries/renewal-applications';
import { listAutoRenewCandidates } from '../../db/queries/renewals';
import type { Logger } from '../../lib/logger';
import { metrics } from '../../lib/metrics';
import type { RenewalDeps } from './preview-renewal';
import { renewContract } from './renew-contract';

/**
 * R-REN-15, the scheduler's side: applying due renewal applications exactly once, and the daily
 * auto-renewals. workers/renewal.worker.ts is the adapter (parses the job, knows the clock).
 */

export interface ScheduledRenewalDeps extends RenewalDeps {
  logger: Logger;
}

export type ApplyResult = 'applied' | 'skipped';

/** The audit actor of everything the scheduler does. */
export const SCHEDULER_ACTOR = 'scheduler';

/**
 * Applies one due application's date-dependent effects exactly once: the row is taken with
 * FOR UPDATE SKIP LOCKED and only while applied_at is NULL, and the effects and applied_at are
 * written in the same transaction. A concurrent run skips it (the other one is applying it); a
 * run that crashed rolled back and leaves it for the next run.
 */
export async function applyRenewalApplication(
  deps: RenewalDeps,
  applicationId: string,
  ctx: { today: IsoDate; actor: string },
): Promise<ApplyResult> {
  return deps.db.transaction(async (trx) => {
    const app = await lockDueApplication(trx, applicationId, ctx.today);
    if (!app) return 'skipped';
    // R-REN-5: decided when the renewal was made (core planRenewalApplication) and stored on the row.
    if (app.deactivate_original) await deactivateContract(trx, String(app.original_contract_id));
    await markApplicationApplied(trx, String(app.id), ctx.actor);
    const original = await findContract(trx, String(app.original_contract_id), ALL_COMPANIES);
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'contract.renewal.apply',
      entityType: 'contract',
      entityId: String(app.renewal_contract_id),
      companyId: original?.company_id ?? null,
      after: { originalId: String(app.original_contract_id), effectiveDate: app.effective_date, deactivatedOriginal: app.deactivate_original },
    });
    return 'applied';
  });
}

export interface ScheduledRunResult {
  today: IsoDate;
  /** Renewal contract ids whose effects this run applied. */
  applied: string[];
  /** Due applications another run held (or had applied) at the time. */
  skipped: string[];
  autoRenewed: Array<{ originalId: string; renewalId: string; startDate: IsoDate; scheduled: boolean }>;
  failed: Array<{ contractId: string; error: string }>;
}

const emptyResult = (today: IsoDate): ScheduledRunResult => ({ today, applied: [], skipped: [], autoRenewed: [], failed: [] });

/**
 * The application of one renewal (a job "apply" for that renewal contract): nothing when the
 * contract has no application (logged), else applied once.
 */
export async function applyScheduledRenewal(deps: ScheduledRenewalDeps, renewalContractId: string, today: IsoDate): Promise<ScheduledRunResult> {
  const result = emptyResult(today);
  const app = await findApplicationByRenewal(deps.db, renewalContractId);
  if (!app) {
    deps.logger.warn({ renewalContractId }, 'no renewal application for this contract; nothing to apply');
    return result;
  }
  await applyOne(deps, String(app.id), String(app.renewal_contract_id), today, result);
  return result;
}

/** The daily (and catch-up) run: first the auto-renewals, then every due application. */
export async function runScheduledRenewals(deps: ScheduledRenewalDeps, today: IsoDate): Promise<ScheduledRunResult> {
  const result = emptyResult(today);
  await autoRenew(deps, today, result);
  for (const app of await listDueApplications(deps.db, today)) {
    await applyOne(deps, String(app.id), String(app.renewal_contract_id), today, result);
  }
  return result;
}

async function applyOne(deps: ScheduledRenewalDeps, applicationId: string, renewalId: string, today: IsoDate, result: ScheduledRunResult): Promise<void> {
  const outcome = await applyRenewalApplication(deps, applicationId, { today, actor: SCHEDULER_ACTOR });
  if (outcome === 'applied') {
    result.applied.push(renewalId);
    metrics.renewalsApplied.inc({ kind: 'scheduled' });
    deps.logger.info({ renewalContractId: renewalId, today }, 'scheduled renewal applied');
  } else {
    result.skipped.push(renewalId);
  }
}

/** Auto-renewals with core's AUTO_RENEW_OVERRIDES, up to MAX_AUTO_RENEW_ROUNDS rounds per run. */
async function autoRenew(deps: ScheduledRenewalDeps, today: IsoDate, result: ScheduledRunResult): Promise<void> {
  const failed = new Set<string>();
  for (let round = 0; round < MAX_AUTO_RENEW_ROUNDS; round++) {
    const candidates = (await listAutoRenewCandidates(deps.db, today)).filter((id) => !failed.has(id));
    if (candidates.length === 0) return;
    for (const contractId of candidates) {
      try {
        const r = await renewContract(deps, contractId, { ...AUTO_RENEW_OVERRIDES }, { scope: ALL_COMPANIES, actor: SCHEDULER_ACTOR, today });
        metrics.renewalsApplied.inc({ kind: 'auto' });
        result.autoRenewed.push({
          originalId: contractId,
          renewalId: String(r.renewal.id),
          startDate: r.renewal.start_date,
          scheduled: r.application.applied_at === null,
        });
        deps.logger.info({ contractId, renewalContractId: r.renewal.id, startDate: r.renewal.start_date }, 'contract auto-renewed');
      } catch (err) {
        // Another worker renewed it a moment ago: that is the outcome we wanted.
        if (isHubError(err) && err.code === 'CONTRACT_ALREADY_RENEWED') continue;
        failed.add(contractId);
        const message = err instanceof Error ? err.message : String(err);
        result.failed.push({ contractId, error: message });
        deps.logger.error({ err, contractId }, 'auto-renewal failed');
      }
    }
  }
}
