import { ConfigError, loadConfig } from '../config/env';
import { createDb } from '../db/connection';
import { createLogger } from '../lib/logger';
import { startHub, StartupError } from './start';

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The life of a hub process (`hub start`): load the config (exit 2 when invalid), refuse a database
 * whose schema is behind (exit 2), start (exit 1 on a refused start), and shut down gracefully on
 * SIGTERM/SIGINT within SHUTDOWN_GRACE_MS (exit 0; exit 1 when it takes longer or fails).
 */
export async function runHub(roles: { api: boolean; worker: boolean }): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.LOG_LEVEL);
  await assertMigrated(config.DATABASE_URL);
  let hub;
  try {
    hub = await startHub({ ...roles, config, logger });
  } catch (e) {
    if (e instanceof StartupError) {
      logger.fatal(e.message);
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: intake stopped, finishing in-flight jobs');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    hub
      .close()
      .then(() => {
        logger.info('shutdown complete');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced only once the signal handlers are in place: a SIGTERM right after this line (a
  // supervisor, a test) must shut down gracefully, not kill the process with the default action.
  logger.info({ api: roles.api, worker: roles.worker, port: hub.port, pid: process.pid }, 'hub started');
}

/** Refuses to start on a database whose schema is behind the code, with the fix in the message. */
async function assertMigrated(url: string): Promise<void> {
  const db = createDb(url, 1);
  try {
    const [, pending] = (await db.migrate.list()) as [unknown[], unknown[]];
    if (pending.length > 0) {
      console.error(`database schema is behind (${pending.length} migration(s) pending): run \`npm run db:migrate\` first`);
      process.exit(2);
    }
  } catch (e) {
    console.error(`cannot reach Postgres at DATABASE_URL: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  } finally {
    await db.destroy();
  }
}
