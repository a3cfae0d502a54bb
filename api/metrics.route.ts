import { Router, type RequestHandler } from 'express';
import { HubError } from '../core/errors';
import { safeEqualText } from '../plugins/auth/verify-sender';
import { deliveryCounts } from '../db/queries/psa-deliveries';
import { withTimeout as withTimeoutOf } from '../lib/timeout';
import { metrics, registry } from '../lib/metrics';
import type { AppDeps } from './context';
import { JOB_STATES, withTimeout } from './admin/queues/queues.route';
import { registerDoc } from './route';

/** A scrape waits at most this long for Redis; Prometheus' own default scrape timeout is 10 s. */
export const QUEUE_SAMPLE_TIMEOUT_MS = 1500;

/**
 * `GET /metrics` for Prometheus (SPEC §7), in the process's prom-client registry (lib/metrics.ts).
 *
 * Open by default, like most Prometheus targets: it shows counts and latencies, never payloads,
 * tokens or customer names. With HUB_METRICS_TOKEN set it needs `Authorization: Bearer <token>`
 * (Prometheus: `authorization: { credentials: … }` in the scrape config) — issue 13 item 8; or
 * restrict it at the network (private interface, ingress rule).
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
    summary: 'Prometheus metrics (text exposition format; Authorization: Bearer <HUB_METRICS_TOKEN> when that is set, else open)',
    tags: ['operations'],
    produces: ['text/plain'],
  });
  router.get('/metrics', metricsAuth(deps.config.HUB_METRICS_TOKEN), async (_req, res, next) => {
    try {
      await Promise.all([sampleQueues(deps), samplePsaDeliveries(deps)]);
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

/** Bearer check against HUB_METRICS_TOKEN, constant time; a pass-through when no token is configured. */
function metricsAuth(token: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (token === undefined) return next();
    const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (presented !== undefined && safeEqualText(presented, token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    next(new HubError('UNAUTHORIZED', presented === undefined ? 'metrics: missing bearer token (HUB_METRICS_TOKEN is set)' : 'metrics: invalid bearer token'));
  };
}

async function sampleQueues(deps: AppDeps): Promise<void> {
  const queues = deps.services.queues;
  if (!queues) return;
  await Promise.all(
    Object.entries(queues).map(async ([name, q]) => {
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

const PSA_STATES = ['pending', 'delivered', 'failed', 'skipped'] as const;

/**
 * hub_psa_deliveries{connection,state} (issue 16 item 6): counted in Postgres on each scrape, so
 * every API process shows the same backlog whichever worker delivers. Every state of a connection
 * is set (0 when none); a connection that no longer has deliveries disappears. When the count
 * fails or takes too long the series are removed (unknown, not stale).
 */
async function samplePsaDeliveries(deps: AppDeps): Promise<void> {
  try {
    const rows = await withTimeoutOf(deliveryCounts(deps.db), QUEUE_SAMPLE_TIMEOUT_MS, () => new Error(`psa deliveries: Postgres did not answer within ${QUEUE_SAMPLE_TIMEOUT_MS} ms`));
    metrics.psaBacklog.reset();
    const connections = new Set(rows.map((r) => r.connection));
    for (const connection of connections) for (const state of PSA_STATES) metrics.psaBacklog.set({ connection, state }, 0);
    for (const r of rows) metrics.psaBacklog.set({ connection: r.connection, state: r.state }, r.count);
  } catch (e) {
    metrics.psaBacklog.reset();
    deps.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'metrics: PSA deliveries not counted');
  }
}

function sampleRulesetVersion(deps: AppDeps): void {
  const version = deps.services.rules?.version;
  if (!version) return;
  try {
    const v = version();
    if (typeof v === 'number' && Number.isFinite(v)) metrics.rulesetVersion.set(v);
  } catch {
    // No ruleset loaded yet: keep the last value (readiness reports the problem).
  }
}
