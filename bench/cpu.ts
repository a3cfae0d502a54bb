/**
 * CPU time of the processes an end-to-end run involves, read from /proc (Linux only), so the benchmark can
 * print what one alert costs beside how many go through per second (issue 19): a rate hides where the time
 * goes, CPU per alert does not move when the machine is busy the way a rate does.
 *
 * - hub processes: user + system time of the API and worker pids (`/proc/<pid>/stat`, utime + stime);
 * - Postgres: the backends connected to the bench database, except the benchmark's own connections (they
 *   carry application_name `hub-bench`), plus the WAL writer, checkpointer and background writer, which
 *   the commits of every database pay for (on a quiet machine: the hub's);
 * - Redis: `INFO cpu` of the server (used_cpu_user + used_cpu_sys). The server is shared with whatever
 *   else runs on the machine, so this is exact only on a quiet machine, like every figure here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';

/** The application_name the benchmark's own Postgres connections carry, so they are not counted as the hub's. */
export const BENCH_APPLICATION_NAME = 'hub-bench';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of one process, or undefined once it has gone. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / ticksPerSecond();
}

/**
 * Waits until freshly started hub processes have finished starting: at least `minMs`, then until each
 * used under `maxShare` of a core over the last `windowMs` (module loading and compiling, the first
 * connections and the workers' first refresh are not the alerts' cost). Before this the runs slept a
 * fixed 1.5 s, and a worker still starting then had the rest of its start counted as the run's CPU.
 * Returns how long it waited and the CPU seconds the processes used after `minMs` (what the fixed sleep
 * would have counted).
 */
export async function waitSettled(
  pids: Array<number | undefined>,
  opts: { minMs?: number; windowMs?: number; maxShare?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; cpuAfterMinSeconds: number }> {
  const { minMs = 1500, windowMs = 500, maxShare = 0.05, timeoutMs = 60_000 } = opts;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, minMs));
  const first = sum(pids);
  let last = pids.map((p) => processCpuSeconds(p) ?? 0);
  while (Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = pids.map((p) => processCpuSeconds(p) ?? 0);
    const busy = now.some((c, i) => c - last[i]! > (windowMs / 1000) * maxShare);
    last = now;
    if (!busy) break;
  }
  return { waitedMs: Date.now() - t0, cpuAfterMinSeconds: sum(pids) - first };
}

const sum = (pids: Array<number | undefined>) => pids.reduce<number>((acc, pid) => acc + (processCpuSeconds(pid) ?? 0), 0);

async function postgresPids(db: Knex, database: string): Promise<number[]> {
  const rows = await db
    .select<Array<{ pid: number }>>('pid')
    .from('pg_stat_activity')
    .where((q) =>
      q
        .where((d) => d.where('datname', database).whereNot('application_name', BENCH_APPLICATION_NAME))
        .orWhereIn('backend_type', ['walwriter', 'checkpointer', 'background writer']),
    );
  return rows.map((r) => r.pid);
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}

export interface CpuPerAlert {
  /** Milliseconds of CPU per alert, by process kind, and their sum. */
  apiMs: number;
  workersMs: number;
  postgresMs: number;
  redisMs: number;
  totalMs: number;
}

export interface CpuMeter {
  /** CPU spent since start(), divided by `alerts`. Call while the processes are still running. */
  perAlert(alerts: number): Promise<CpuPerAlert>;
}

/**
 * Starts counting. Postgres backends are looked up again at the end (a pool may open connections during the
 * run; a backend that started after the start is counted from zero, one that ended before the end is lost —
 * the hub's pools keep theirs, so that loses nothing in practice).
 */
export async function startCpuMeter(opts: {
  db: Knex;
  database: string;
  redis: Redis;
  api: number | undefined;
  workers: Array<number | undefined>;
}): Promise<CpuMeter> {
  const apiStart = sum([opts.api]);
  const workersStart = sum(opts.workers);
  const pgStartByPid = new Map<number, number>();
  for (const pid of await postgresPids(opts.db, opts.database)) pgStartByPid.set(pid, processCpuSeconds(pid) ?? 0);
  const redisStart = await redisCpuSeconds(opts.redis);
  return {
    async perAlert(alerts) {
      const api = sum([opts.api]) - apiStart;
      const workers = sum(opts.workers) - workersStart;
      let postgres = 0;
      for (const pid of await postgresPids(opts.db, opts.database)) {
        postgres += (processCpuSeconds(pid) ?? 0) - (pgStartByPid.get(pid) ?? 0);
      }
      const redis = (await redisCpuSeconds(opts.redis)) - redisStart;
      const ms = (seconds: number) => Math.round(((seconds * 1000) / Math.max(alerts, 1)) * 1000) / 1000;
      return {
        apiMs: ms(api),
        workersMs: ms(workers),
        postgresMs: ms(postgres),
        redisMs: ms(redis),
        totalMs: ms(api + workers + postgres + redis),
      };
    },
  };
}
