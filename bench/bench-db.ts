import { Client } from 'pg';

/** The server-level Postgres URL the benchmarks create their own databases on. */
export const BENCH_PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs one statement (CREATE/DROP DATABASE) on the server-level connection. */
export async function adminSql(sql: string, url = BENCH_PG): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
