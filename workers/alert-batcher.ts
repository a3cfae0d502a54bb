import { UnrecoverableError, type Job } from 'bullmq';
import { applyReceiptJob } from '../app/alerts/apply-job';
import type { PipelineDeps } from '../app/alerts/deps';
import { metrics } from '../lib/metrics';
import { alertProcessor } from './alert.worker';
import { jobCatalog } from './catalog';

type Processor = (job: Job, token?: string) => Promise<{ outcomes: Record<string, number> }>;

interface Waiting {
  job: Job;
  token: string | undefined;
  receiptIds: string[];
  resolve: (r: { outcomes: Record<string, number> }) => void;
  reject: (err: unknown) => void;
}

/**
 * The `alerts` processor with the jobs a worker process runs at once applied TOGETHER (issue 19):
 * their receipts in one transaction (app/alerts/apply-job.ts, about fifteen statements whatever
 * their number). Most senders post one alert per request, so most jobs carry a few receipts; one
 * transaction per job made the statements per job — not the alerts — the worker's and Postgres'
 * main cost. A job is taken at once when no transaction runs; jobs that arrive meanwhile wait and
 * then go together (like the intake's group commit), so an idle worker adds no delay. A second
 * transaction (up to `maxInFlight`) starts only while at least `parallelAt` receipts wait: a
 * backlog drains on both cores, while a steady stream is applied in fewer, larger groups. Starting
 * the second one whenever one ran made the groups small at one alert per request: CPU per alert
 * 1.19–1.22 → 0.96–1.05 ms, end to end +13 to +22 % at 1 per request and +7 to +12 % at 50
 * (bench/README.md, issue 19, "Fourth round").
 *
 * Each job keeps its own outcome. A receipt Postgres refuses for good fails only the job that
 * carries it (UnrecoverableError, as `alertProcessor`); the other jobs of the group succeed. Any
 * other failure of a group of several jobs (a transient error, no live ruleset) sends each job
 * through `alertProcessor` on its own, so it is retried, delayed or failed exactly as if it had
 * run alone. Applying a receipt is idempotent, so a job re-run after its group rolled back loses
 * nothing and applies nothing twice.
 */
export function batchedAlertProcessor(
  deps: PipelineDeps,
  opts: { maxInFlight?: number; maxReceipts?: number; parallelAt?: number; notReadyDelayMs?: number } = {},
): Processor {
  const maxInFlight = opts.maxInFlight ?? 2;
  const parallelAt = opts.parallelAt ?? 250;
  const maxReceipts = opts.maxReceipts ?? 1000;
  const single = alertProcessor(deps, opts.notReadyDelayMs === undefined ? {} : { notReadyDelayMs: opts.notReadyDelayMs });
  const queue: Waiting[] = [];
  let inFlight = 0;
  /** Receipts waiting in `queue`. */
  let queued = 0;

  const pump = (): void => {
    while (inFlight < maxInFlight && queue.length > 0 && (inFlight === 0 || queued >= parallelAt)) {
      let n = 0;
      let receipts = 0;
      while (n < queue.length) {
        const size = queue[n]!.receiptIds.length;
        if (n > 0 && receipts + size > maxReceipts) break;
        receipts += size;
        n += 1;
      }
      const group = queue.splice(0, n);
      queued -= receipts;
      inFlight += 1;
      void run(group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  };

  const run = async (group: Waiting[]): Promise<void> => {
    if (group.length === 1) {
      const w = group[0]!;
      await single(w.job, w.token).then(w.resolve, w.reject);
      return;
    }
    const ids = [...new Set(group.flatMap((w) => w.receiptIds))];
    const end = metrics.jobDuration.startTimer({ queue: 'alerts' });
    let applied;
    try {
      applied = await applyReceiptJob(deps, ids, { jobId: group.map((w) => w.job.id).join(',') });
    } catch (err) {
      end();
      deps.logger.debug({ err: String(err), jobs: group.length, receipts: ids.length }, 'alerts jobs applied together failed; each runs on its own');
      // Each job on its own, as if it had never been grouped (retry, delay or failure per job).
      await Promise.all(group.map((w) => single(w.job, w.token).then(w.resolve, w.reject)));
      return;
    }
    end();
    const byReceipt = new Map(applied.results.map((r) => [r.receiptId, r]));
    const refused = new Map(applied.permanent.map((p) => [p.receiptId, p.message]));
    for (const w of group) {
      const outcomes: Record<string, number> = {};
      const failed: string[] = [];
      for (const id of w.receiptIds) {
        const message = refused.get(id);
        if (message !== undefined) {
          failed.push(`${id}: ${message}`);
          continue;
        }
        const r = byReceipt.get(id);
        if (r) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      }
      if (failed.length > 0) {
        metrics.jobFailures.inc({ queue: 'alerts', kind: 'permanent' });
        w.reject(new UnrecoverableError(`receipts failed permanently: ${failed.join('; ')}`));
      } else w.resolve({ outcomes });
    }
  };

  return (job: Job, token?: string) => {
    const parsed = jobCatalog.alerts.payload.safeParse(job.data);
    // An invalid payload fails alone, with alertProcessor's message.
    if (!parsed.success) return single(job, token);
    return new Promise((resolve, reject) => {
      queue.push({ job, token, receiptIds: parsed.data.receiptIds, resolve, reject });
      queued += parsed.data.receiptIds.length;
      pump();
    });
  };
}
