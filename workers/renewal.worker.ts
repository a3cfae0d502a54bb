import { ALL_COMPANIES } from '../core/access/company-scope';
import { UnrecoverableError, type Queue } from 'bullmq';
import type { Knex } from 'knex';
import { todayIn, type IsoDate } from '../core/dates';
import { isHubError } from '../core/errors';
import {
  applyRenewalApplication,
  findApplicationByRenewal,
  listAutoRenewCandidates,
  listDueApplications,
  renewContract,
} from '../db/queries/renewals';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { jobCatalog, jobOptions, type JobPayload } from './catalog';

/**
 * The `renewals` queue (R-REN-15). A renewal dated in the future has its date-dependent effects
 * (the original's deactivation, R-REN-5) applied on that date by this worker; device links and
 * the original's new end date are dated and were written with the renewal. The daily run (and
 * the catch-up run at start-up) applies every due application and creates the auto-renewals.
 * Applying is idempotent in Postgres (renewal_applications + row lock): two workers, a retry or a
 * rerun after a crash take effect once.
 */

export interface RenewalJobDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  /** Zone whose calendar date is "today" (HUB_RENEWAL_TIMEZONE). @defaultValue 'UTC' */
  timezone?: string;
}

export interface RenewalJobResult {
  kind: JobPayload<'renewals'>['kind'];
  today: IsoDate;
  /** Renewal contract ids whose effects this run applied. */
  applied: string[];
  /** Due applications another run held (or had applied) at the time. */
  skipped: string[];
  autoRenewed: Array<{ originalId: string; renewalId: string; startDate: IsoDate; scheduled: boolean }>;
  failed: Array<{ contractId: string; error: string }>;
}

/** The audit actor of everything the scheduler does. */
export const SCHEDULER_ACTOR = 'scheduler';
/** Rounds of auto-renewal per run: a long-expired auto-renew contract catches up a few terms per run, never loops forever. */
const MAX_AUTO_RENEW_ROUNDS = 10;

/** Processes one renewals job; `payload` is parsed here (STYLE.md principle 5). */
export async function processRenewalJob(deps: RenewalJobDeps, payload: unknown): Promise<RenewalJobResult> {
  const parsed = jobCatalog.renewals.payload.safeParse(payload);
  if (!parsed.success) throw new UnrecoverableError(`invalid renewals job payload: ${parsed.error.message}`);
  const job = parsed.data;
  const today = todayIn(deps.timezone ?? 'UTC', deps.now());
  const result: RenewalJobResult = { kind: job.kind, today, applied: [], skipped: [], autoRenewed: [], failed: [] };
  const end = metrics.jobDuration.startTimer({ queue: 'renewals' });
  try {
    if (job.kind === 'apply') {
      if (!job.renewalContractId) throw new UnrecoverableError('renewals job "apply" needs renewalContractId');
      const app = await findApplicationByRenewal(deps.db, job.renewalContractId);
      if (!app) {
        deps.logger.warn({ renewalContractId: job.renewalContractId }, 'no renewal application for this contract; nothing to apply');
        return result;
      }
      await applyOne(deps, String(app.id), String(app.renewal_contract_id), today, result);
      return result;
    }

    await autoRenew(deps, today, result);
    for (const app of await listDueApplications(deps.db, today)) {
      await applyOne(deps, String(app.id), String(app.renewal_contract_id), today, result);
    }
    deps.logger.info(
      { kind: job.kind, today, applied: result.applied.length, skipped: result.skipped.length, autoRenewed: result.autoRenewed.length, failed: result.failed.length },
      'renewals run done',
    );
    return result;
  } finally {
    end();
  }
}

async function applyOne(deps: RenewalJobDeps, applicationId: string, renewalId: string, today: IsoDate, result: RenewalJobResult): Promise<void> {
  const outcome = await applyRenewalApplication(deps.db, applicationId, { today, actor: SCHEDULER_ACTOR });
  if (outcome === 'applied') {
    result.applied.push(renewalId);
    metrics.renewalsApplied.inc({ kind: 'scheduled' });
    deps.logger.info({ renewalContractId: renewalId, today }, 'scheduled renewal applied');
  } else {
    result.skipped.push(renewalId);
  }
}

/**
 * Auto-renewals with the wizard's defaults (name, start the day after the end, full term, no
 * uplift). The scheduler cannot answer R-REN-12's question, so when another contract is already
 * the default on the renewal's dates it keeps being the default ("existing").
 */
async function autoRenew(deps: RenewalJobDeps, today: IsoDate, result: RenewalJobResult): Promise<void> {
  const failed = new Set<string>();
  for (let round = 0; round < MAX_AUTO_RENEW_ROUNDS; round++) {
    const candidates = (await listAutoRenewCandidates(deps.db, today)).filter((id) => !failed.has(id));
    if (candidates.length === 0) return;
    for (const contractId of candidates) {
      try {
        const r = await renewContract(deps.db, contractId, { defaultContract: 'existing' }, { scope: ALL_COMPANIES, actor: SCHEDULER_ACTOR, today });
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

/** '00:15' → '15 0 * * *' (minute hour, every day). */
export function cronPattern(time: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!m) throw new Error(`renewal time must be HH:MM (00:00–23:59), got ${JSON.stringify(time)}`);
  return `${Number(m[2])} ${Number(m[1])} * * *`;
}

export const DAILY_SCHEDULER_ID = 'renewals-daily';

/**
 * The daily renewal run at `time` in `timezone` (upserted, so every starting worker may call it),
 * plus one catch-up run now: a job scheduler does not replay runs missed while no worker was up.
 * Duplicate catch-ups are harmless: applying is idempotent in Postgres.
 */
export async function scheduleRenewals(queue: Queue, opts: { time: string; timezone: string }): Promise<void> {
  const o = jobOptions('renewals');
  await queue.upsertJobScheduler(
    DAILY_SCHEDULER_ID,
    { pattern: cronPattern(opts.time), tz: opts.timezone },
    { name: 'daily', data: { v: 1, kind: 'daily' }, opts: o },
  );
  await queue.add('catchup', { v: 1, kind: 'catchup' }, o);
}
