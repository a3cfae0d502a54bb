import path from 'node:path';
import { parseEnv, type HubConfig } from '../../config/env';
import { createLogger } from '../../lib/logger';
import { startHub, type HubProcess } from '../../main/start';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from './harness';

export const ADMIN = 'Bearer test-admin-token-0123456789abcdef';

export interface TestHub {
  hub: HubProcess;
  t: TestDatabase;
  config: HubConfig;
  url: string;
  close(): Promise<void>;
}

/** A whole hub (API + workers, or one of them) on a fresh database and queue prefix, listening on a free port. */
export async function startTestHub(opts: { api?: boolean; worker?: boolean; env?: Record<string, string>; t?: TestDatabase } = {}): Promise<TestHub> {
  const t = opts.t ?? (await createTestDatabase());
  const config = parseEnv({
    ...process.env,
    DATABASE_URL: t.url,
    HUB_QUEUE_PREFIX: testQueuePrefix(),
    PORT: '0',
    HOST: '127.0.0.1',
    RULES_DIR: path.join(__dirname, '../../rules'),
    HUB_RELAY_INTERVAL_SECONDS: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const hub = await startHub({ api: opts.api ?? true, worker: opts.worker ?? true, config, logger: createLogger(config.LOG_LEVEL) });
  return {
    hub,
    t,
    config,
    url: `http://127.0.0.1:${hub.port ?? 0}`,
    async close() {
      await hub.queues.alerts.obliterate({ force: true }).catch(() => undefined);
      await hub.close();
      if (!opts.t) await t.drop();
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
