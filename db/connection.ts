import knex, { type Knex } from 'knex';
import pg from 'pg';
import path from 'node:path';

// Dates (not instants) stay 'YYYY-MM-DD' strings: a JS Date would shift them by the process's zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
// numeric stays a string: money is never a float.

export const migrationsDir = path.join(__dirname, 'migrations');

/**
 * Limits on a pool's connections (issue 13 item 6): with them no statement, lock wait, forgotten
 * transaction or wait for a free connection lasts without end — a stuck transaction elsewhere makes
 * a request fail after the limit (503, see db/pg-errors.ts isDatabaseBusy) instead of hanging it
 * and everything queued behind it. 0 = no limit for the Postgres settings.
 */
export interface ConnectionLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  acquireTimeoutMs: number;
}

/** The limits of the hub's own processes, from the configuration (config/env.ts DATABASE_*_MS). */
export const connectionLimitsOf = (c: {
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  DATABASE_LOCK_TIMEOUT_MS: number;
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number;
  DATABASE_ACQUIRE_TIMEOUT_MS: number;
}): ConnectionLimits => ({
  statementTimeoutMs: c.DATABASE_STATEMENT_TIMEOUT_MS,
  lockTimeoutMs: c.DATABASE_LOCK_TIMEOUT_MS,
  idleInTransactionTimeoutMs: c.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  acquireTimeoutMs: c.DATABASE_ACQUIRE_TIMEOUT_MS,
});

/**
 * Without `limits` (migrations, one-off CLI commands an operator watches) Postgres' own settings
 * apply: a migration may rightly build an index for longer than any request should run.
 */
export function knexConfig(databaseUrl: string, poolMax = 10, limits?: ConnectionLimits, log?: Knex.Logger): Knex.Config {
  // Session settings travel in the startup packet (`options`), so they hold from a connection's
  // first statement on, with no extra round trip per checkout.
  const settings = ['-c jit=off'];
  if (limits) {
    settings.push(
      `-c statement_timeout=${limits.statementTimeoutMs}`,
      `-c lock_timeout=${limits.lockTimeoutMs}`,
      `-c idle_in_transaction_session_timeout=${limits.idleInTransactionTimeoutMs}`,
    );
  }
  return {
    client: 'pg',
    // JIT off: the hub's statements are short, but the planner's row estimates for unnest() and
    // jsonb_to_recordset() batches push their cost over jit_above_cost, and compiling took 10–45 ms
    // per statement (a quarter of Postgres' CPU in the end-to-end benchmark, seen with auto_explain).
    connection: { connectionString: databaseUrl, options: settings.join(' ') },
    pool: { min: 0, max: poolMax },
    ...(limits ? { acquireConnectionTimeout: limits.acquireTimeoutMs } : {}),
    // Knex' own warnings (a pool acquire that timed out, …) go to the process's logger, not to console.
    ...(log ? { log } : {}),
    migrations: { directory: migrationsDir, tableName: 'knex_migrations', loadExtensions: ['.ts', '.js'] },
  };
}

export function createDb(databaseUrl: string, poolMax = 10, limits?: ConnectionLimits, log?: Knex.Logger): Knex {
  return knex(knexConfig(databaseUrl, poolMax, limits, log));
}

export type Db = Knex | Knex.Transaction;
