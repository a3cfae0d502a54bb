import knex, { type Knex } from 'knex';
import pg from 'pg';
import path from 'node:path';

// Dates (not instants) stay 'YYYY-MM-DD' strings: a JS Date would shift them by the process's zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
// numeric stays a string: money is never a float.

export const migrationsDir = path.join(__dirname, 'migrations');

export function knexConfig(databaseUrl: string, poolMax = 10): Knex.Config {
  return {
    client: 'pg',
    // JIT off: the hub's statements are short, but the planner's row estimates for unnest() and
    // jsonb_to_recordset() batches push their cost over jit_above_cost, and compiling took 10–45 ms
    // per statement (a quarter of Postgres' CPU in the end-to-end benchmark, seen with auto_explain).
    connection: { connectionString: databaseUrl, options: '-c jit=off' },
    pool: { min: 0, max: poolMax },
    migrations: { directory: migrationsDir, tableName: 'knex_migrations', loadExtensions: ['.ts', '.js'] },
  };
}

export function createDb(databaseUrl: string, poolMax = 10): Knex {
  return knex(knexConfig(databaseUrl, poolMax));
}

export type Db = Knex | Knex.Transaction;
