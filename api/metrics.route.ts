import type { Queue } from 'bullmq';
import { Router } from 'express';
import { metrics, registry } from '../lib/metrics';
import type { AppDeps } from './context';
import { JOB_STATES, QUEUES, withTimeout } from './admin/queues/queues.route';
import { registerDoc } from './route';

/** A scrape waits at most this long for Redis; Prometheus' own default scrape timeout is 10 s. */
export const QUEUE_SAMPLE_TIMEOUT_MS = 1500;

/**
 * `GET /metrics` for Prometheus (SPEC §7), in the process's prom-client registry (lib/metrics.ts).
 *
 * Unauthenticated, like most Prometheus targets: it shows counts and latencies, never payloads,
 * tokens or customer names. Restrict it at the network (bind the API on a private interface or
 * let the ingress refuse /metrics from outside) when that matters.
 *
 * On each scrape the queue depths are sampled from Redis (`getJobCounts`) with a timeout: when
 * Redis is down the scrape still answers quickly, without hub_queue_jobs for the queues that
 * did not answer (a missing series reads as "unknown", a stale one would lie). The live ruleset
 * version is read from the process's rules (it changes on hot reload, not only at start).
 */
export function metricsRouter(deps: AppDeps): Router {
  const router = Router();
  registerDoc('/metrics', {
    method: 'get',
    summary: 'Prometheus metrics (text exposition format; unauthenticated)',
    tags: ['operations'],
    produces: ['text/plain'],
  });
  router.get('/metrics', async (_req, res, next) => {
    try {
      await sampleQueues(deps);
      sampleRulesetVersion(deps);
      res.setHeader('Content-Type', registry.contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(await registry.metrics());
    } catch (e) {
      next(e);
    }
  });
  return router;
}

async function sampleQueues(deps: AppDeps): Promise<void> {
  const queues = deps.services[QUEUES];
  if (typeof queues !== 'object' || queues === null) return;
  await Promise.all(
    Object.entries(queues as Record<string, Queue>).map(async ([name, q]) => {
      try {
        const counts = await withTimeout(q.getJobCounts(...JOB_STATES), QUEUE_SAMPLE_TIMEOUT_MS, `queue ${name}`);
        for (const state of JOB_STATES) metrics.queueDepth.set({ queue: name, state }, counts[state] ?? 0);
      } catch (e) {
        for (const state of JOB_STATES) metrics.queueDepth.remove({ queue: name, state });
        deps.logger.warn({ queue: name, err: e instanceof Error ? e.message : String(e) }, 'metrics: queue depth not sampled');
      }
    }),
  );
}

function sampleRulesetVersion(deps: AppDeps): void {
  const rules = deps.services.rules;
  if (typeof rules !== 'object' || rules === null || !('version' in rules) || typeof rules.version !== 'function') return;
  try {
    const v: unknown = (rules.version as () => unknown).call(rules);
    if (typeof v === 'number' && Number.isFinite(v)) metrics.rulesetVersion.set(v);
  } catch {
    // No ruleset loaded yet: keep the last value (readiness reports the problem).
  }
}
