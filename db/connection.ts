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
    connection: databaseUrl,
    pool: { min: 0, max: poolMax },
    migrations: { directory: migrationsDir, tableName: 'knex_migrations', loadExtensions: ['.ts', '.js'] },
  };
}

export function createDb(databaseUrl: string, poolMax = 10): Knex {
  return knex(knexConfig(databaseUrl, poolMax));
}

export type Db = Knex | Knex.Transaction;
