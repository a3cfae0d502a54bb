import type { ChildProcess } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import type { PostProgress } from './drain';

/**
 * What bench/run.ts hands a section that starts hub processes of its own (delivery.bench.ts,
 * storm.bench.ts): the run's database, environment and queue prefix, and its process helpers, so
 * every section shares one cleanup (run.ts kills what is left and drops the database).
 */
export interface BenchContext {
  smoke: boolean;
  /** The benchmark's own connection (application_name hub-bench: not counted as the hub's CPU). */
  db: Knex;
  /** The bench database's name (for bench/cpu.ts). */
  database: string;
  /** Environment of the hub processes: DATABASE_URL, REDIS_URL, HUB_QUEUE_PREFIX, secrets, RULES_DIR… */
  env: NodeJS.ProcessEnv;
  apiPort: number;
  /** The webhook source the sections post to (generic plugin, token auth) and its token. */
  source: string;
  sourceToken: string;
  /** The secret keys the hub processes use (to seal a PSA connection's secrets as the API would). */
  secretKeys: string[];
  cpuRedis: Redis;
  startProcess(args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess>;
  stopProcess(p: ChildProcess): Promise<void>;
  waitHttp(url: string, timeoutMs?: number): Promise<void>;
  waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs?: number): Promise<void>;
  count(table: string, where?: string): Promise<number>;
  /** Empties tickets, alerts, receipts, deliveries (and what hangs off them) and the queues. */
  resetPipeline(): Promise<void>;
  /** Posts `total` generic alerts (distinct ids, site-1 of the seeded company) `perRequest` per request; resolves at the last response; `progress` counts the alerts answered 2xx. */
  postAlerts(total: number, perRequest: number, tag: string, progress?: PostProgress): Promise<number>;
  sampleRss(api: ChildProcess, workers: ChildProcess[]): { stop(): { api: number; workers: number } };
  /** With BENCH_COUNT_DIR: the processes start counting their Postgres statements and Redis commands now (count-calls.ts). */
  startCounting(procs: ChildProcess[]): Promise<void>;
  /** With BENCH_COUNT_DIR, after the processes exited: what each counted since startCounting (undefined without it). */
  readCounts(procs: ChildProcess[]): ProcessCounts[] | undefined;
}

/** What count-calls.ts wrote for one process (raw counts since the snapshot). */
export interface ProcessCounts {
  pgStatements: number;
  pgTransactions: number;
  pgByKind: Record<string, number>;
  redisCommands: number;
  redisRoundTrips: number;
  redisByName: Record<string, number>;
}

export const round = (n: number): number => Math.round(n * 100) / 100;
