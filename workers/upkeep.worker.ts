import { UnrecoverableError, type Job } from 'bullmq';
import type { Knex } from 'knex';
import { processEndedWindows } from '../app/maintenance/process-ended-windows';
import { recordSlaBreachesNow } from '../app/tickets/record-sla-breaches';
import { pollPsaStatus } from '../app/psa/poll-status';
import { resolveStale } from '../app/tickets/stale-tickets';
import { applyRetention, type RetentionPolicy } from '../app/retention/apply-retention';
import type { MatchableWindow } from '../core/maintenance/window-match';
import type { PsaConnectionRow } from '../db/tables';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { jobCatalog, type UpkeepKind } from './catalog';

/**
 * The `upkeep` queue's processor, an adapter like the others: it parses the job and hands it to
 * the handler of its kind. The kinds, and how often each runs, are `UPKEEP_JOBS` in catalog.ts;
 * `UPKEEP_HANDLERS` must name a handler for each (the compiler checks), so a new periodic job is
 * one catalog entry plus one handler here.
 */

export interface UpkeepDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  /** Puts receipt ids on the alerts queue (released receipts are processed as if they had just arrived). */
  enqueue: (receiptIds: string[]) => Promise<void>;
  /** The live ruleset's maintenance windows (a rules-file window removed from the rules has ended). */
  rulesWindows: () => readonly MatchableWindow[];
  /** HUB_SECRET_KEYS: opens PSA connections' secrets for the status poll. */
  secretKeys: readonly string[];
  /** The status poll's connector settings (HUB_AUTOTASK_ZONE_LOOKUP_URL, HUB_PSA_TIMEOUT_MS). */
  connectorDeps?: { autotaskZoneLookupUrl?: string; timeoutMs?: number };
  /** The status poll's calls taken from each connection's delivery budget (psa-rate-limit.ts). */
  psaCallBudget?: (row: PsaConnectionRow) => (() => Promise<void>) | undefined;
  /** Issue 19: how long each kind of data is kept (HUB_RETENTION_*). */
  retention: RetentionPolicy;
}

type UpkeepHandler = (deps: UpkeepDeps, job: Job) => Promise<unknown>;

export const UPKEEP_HANDLERS: Record<UpkeepKind, UpkeepHandler> = {
  'stale-tickets': async ({ db, logger, now }, job) => {
    const r = await resolveStale(db, now());
    if (r.resolved.length) logger.info({ jobId: job.id, tickets: r.resolved, parentsResolved: r.parentsResolved, released: r.released }, 'stale tickets resolved');
    return { resolved: r.resolved.length };
  },
  // Alerts still firing when a processAfter maintenance window ends are processed then.
  'window-ends': async (deps) => processEndedWindows(deps),
  // R-TKT-2: each breach recorded once (unique per ticket and target), with a ticket note and hub_sla_breaches_total.
  'sla-breaches': async ({ db, logger, now }, job) => ({ breaches: (await recordSlaBreachesNow({ db, logger: logger.child({ jobId: job.id }), now: now() })).length }),
  // Status back for PSAs without webhooks (R-PSA-3): a failing connection is reported, the others still polled.
  'psa-status-poll': async (deps) => {
    const results = await pollPsaStatus(deps);
    return results.map(({ connection, polled, reports, closed, error }) => ({ connection, polled, reports, closed, error }));
  },
  // Issue 19: bounded batches per run; what is left (report.unfinished) goes in the next run.
  retention: async ({ db, logger, now, retention }, job) => applyRetention({ db, logger: logger.child({ jobId: job.id }), now }, retention),
};

export function upkeepProcessor(deps: UpkeepDeps) {
  return async (job: Job): Promise<unknown> => {
    const p = jobCatalog.upkeep.payload.safeParse(job.data);
    if (!p.success) throw new UnrecoverableError(`invalid upkeep payload: ${p.error.message}`);
    const end = metrics.jobDuration.startTimer({ queue: 'upkeep' });
    try {
      return await UPKEEP_HANDLERS[p.data.kind](deps, job);
    } finally {
      end();
    }
  };
}
