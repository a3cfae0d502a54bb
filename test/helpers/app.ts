import type { Express } from 'express';
import type { Knex } from 'knex';
import { createApp } from '../../api/app';
import type { AppDeps, HubServices } from '../../api/context';
import { parseEnv } from '../../config/env';
import { createLogger } from '../../lib/logger';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from './harness';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: Express;
  db: Knex;
  deps: AppDeps;
  t: TestDatabase;
  /** Authorization header value of the bootstrap admin. */
  admin: string;
  close(): Promise<void>;
}

/** The Express app on a fresh database of its own (no listen; use supertest). */
export async function createTestApp(opts: { services?: HubServices; env?: Record<string, string> } = {}): Promise<TestApp> {
  const t = await createTestDatabase();
  const config = parseEnv({
    ...process.env,
    DATABASE_URL: t.url,
    HUB_QUEUE_PREFIX: testQueuePrefix(),
    HUB_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const deps: AppDeps = { config, db: t.db, logger: createLogger('silent'), services: { ...opts.services } };
  const app = createApp(deps);
  return { app, db: t.db, deps, t, admin: `Bearer ${ADMIN_TOKEN}`, close: () => t.drop() };
}
