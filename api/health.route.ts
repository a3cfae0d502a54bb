import { Router } from 'express';
import { withTimeout } from '../lib/timeout';
import type { AppDeps } from './context';

export type { ReadinessCheck, ReadinessDetail } from './context';

/**
 * What /readyz says per dependency: `down` (it answered with an error or refused) or `timeout`
 * (no answer within CHECK_TIMEOUT_MS). Never the error text: that stays in the log.
 */
export type ReadinessState = 'ok' | 'down' | 'timeout';
export const READINESS_STATES = ['ok', 'down', 'timeout'] as const satisfies readonly ReadinessState[];
const CHECK_TIMEOUT_MS = 2000;

class CheckTimeout extends Error {
  override name = 'CheckTimeout';
}

export function healthRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks = deps.services.readiness ?? [];
    const results: Record<string, ReadinessState> = {};
    let ok = true;
    await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), CHECK_TIMEOUT_MS, () => new CheckTimeout());
          results[c.name] = 'ok';
        } catch (e) {
          ok = false;
          results[c.name] = e instanceof CheckTimeout ? 'timeout' : 'down';
          // The cause goes to the log only: connection errors name hosts, ports, users (issue 13 item 8).
          deps.logger.warn({ check: c.name, err: e instanceof Error ? e.message : String(e) }, 'readiness check failed');
        }
      }),
    );
    // Details never change the status; one that cannot be read (its dependency is down, which a
    // check above reports) is null.
    const details: Record<string, unknown> = {};
    await Promise.all(
      (deps.services.readinessDetails ?? []).map(async (d) => {
        details[d.name] = await withTimeout(d.read(), 2000, () => new Error('timed out')).catch(() => null);
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks: results, details });
  });
  return r;
}
