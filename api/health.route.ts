import { Router } from 'express';
import { withTimeout } from '../lib/timeout';
import type { AppDeps } from './context';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** Readiness checks registered by the process (Postgres, Redis, ruleset); /readyz runs them all. */
export const READINESS = 'readiness';

/** Figures /readyz reports beside its checks without failing on them (e.g. the receipt backlog). */
export interface ReadinessDetail {
  name: string;
  read: () => Promise<unknown>;
}
export const READINESS_DETAILS = 'readinessDetails';

export function healthRouter(deps: AppDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const checks = (deps.services[READINESS] as ReadinessCheck[] | undefined) ?? [];
    const results: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2000, () => new Error('timed out after 2000 ms'));
          results[c.name] = 'ok';
        } catch (e) {
          ok = false;
          results[c.name] = e instanceof Error ? e.message : String(e);
        }
      }),
    );
    // Details never change the status; one that cannot be read (its dependency is down, which a
    // check above reports) is null.
    const details: Record<string, unknown> = {};
    await Promise.all(
      ((deps.services[READINESS_DETAILS] as ReadinessDetail[] | undefined) ?? []).map(async (d) => {
        details[d.name] = await withTimeout(d.read(), 2000, () => new Error('timed out')).catch(() => null);
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks: results, details });
  });
  return r;
}
