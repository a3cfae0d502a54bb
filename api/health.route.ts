import { Router } from 'express';
import { withTimeout } from '../lib/timeout';
import type { AppDeps } from './context';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** Readiness checks registered by the process (Postgres, Redis, ruleset); /readyz runs them all. */
export const READINESS = 'readiness';

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
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks: results });
  });
  return r;
}
