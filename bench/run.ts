/**
 * `npm run bench [-- --smoke]`: the hub's performance figures in one run, on a fresh database and
 * its own queue prefix (issue 7). Prints a table and writes bench/results/latest.json.
 *
 *  a. intake: webhook ack latency at offered loads (500 / 1,000 / 2,000 alerts/s and max), beside a
 *     bare Express handler that parses the same JSON and answers 202;
 *  b. end to end: N alerts from webhook to committed ticket with 1 and 2 worker processes;
 *  c. rules: decisions/s at 10 / 100 / 1,000 rules, ours and plain json-rules-engine's;
 *  d. renewal of a contract with 10,000 devices and 200 services;
 *  e. memory: peak RSS of the API and worker processes during (b).
 *
 *  f. CPU per alert beside every end-to-end rate (bench/cpu.ts);
 *  g. delivery: PSA delivery throughput to the Autotask stand-in with no limit and at its rate limit, and
 *     the end-to-end cost of one PSA connection vs none (bench/delivery.bench.ts, issue 16);
 *  h. storm: 100,000 alerts from 10,000 devices at 200 sites, 5 going down, with the storm rules on
 *     (bench/storm.bench.ts, issue 18);
 *  i. aged database (bench/aged.bench.ts, issue 19): end to end, dry run, 7-day replay and ticket
 *     list on the empty database and again with a year of history (3 million alerts), plus the
 *     query plans of the hot path.
 *
 * --smoke: seconds instead of minutes (CI runs it so the benchmark cannot rot).
 *
 * One piece (over 300 lines) on purpose: one run's sections share the database, the queue prefix, the
 * spawned processes and their cleanup, and the order of the printed tables; the measuring itself lives
 * beside it (cpu.ts, rules.bench.ts, import.bench.ts, bench-db.ts).
 */
import { ALL_COMPANIES } from '../core/access/company-scope';
import '../api/openapi/extend-zod';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { createDb } from '../db/connection';
import { BENCH_PG, adminSql, withDatabase } from './bench-db';
import { renewContract } from '../app/renewals/renew-contract';
import { benchImport } from './import.bench';
import { benchAged, type AgedResult } from './aged.bench';
import { BENCH_APPLICATION_NAME, startCpuMeter, waitSettled } from './cpu';
import { benchRules, type RulesBenchRow } from './rules.bench';
import { createSource, insertRow, seedWorld } from '../test/helpers/seed';
import type { BenchContext, ProcessCounts } from './context';
import { allProcessed, newProgress, type PostProgress } from './drain';
import { benchDelivery, printDelivery, type DeliveryBenchResult } from './delivery.bench';
import { benchStorm, printStorm, type StormBenchResult } from './storm.bench';

const SMOKE = process.argv.includes('--smoke');
/** `--only=intake,e2e,delivery,storm,rules,renewal,import,aged`: run only these sections (for profiling one of them). */
const ONLY = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const SECTIONS = ['intake', 'e2e', 'delivery', 'storm', 'rules', 'renewal', 'import', 'aged'] as const;
const unknownSection = ONLY?.find((s) => !(SECTIONS as readonly string[]).includes(s));
if (unknownSection !== undefined) {
  console.error(`--only: unknown section "${unknownSection}" (sections: ${SECTIONS.join(', ')})`);
  process.exit(2);
}
const run = (section: (typeof SECTIONS)[number]) => !ONLY || ONLY.includes(section);
/** Alerts per request in the end-to-end run (a generic-plugin array, like an Alertmanager group). */
const E2E_BATCH = 50;
const ROOT = path.join(__dirname, '..');
const TOKEN = 'bench-source-token-0123456789abcdef';
const ADMIN = 'bench-admin-token-0123456789abcdef';
const SECRET = 'bench-secret-key-bench-secret-key-0123456789';
const PG = BENCH_PG;
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const log = (s: string) => console.log(`▶ ${s}`);

interface IntakeRow {
  target: string;
  offered: number | 'max';
  achieved: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}
interface E2eRow {
  workers: number;
  alertsPerRequest: number;
  alerts: number;
  postSeconds: number;
  drainSeconds: number;
  alertsPerSec: number;
  peakRssApiMb: number;
  peakRssWorkersMb: number;
  /** CPU milliseconds per alert (bench/cpu.ts): API, workers, Postgres, Redis, and their sum. */
  cpuApiMs: number;
  cpuWorkersMs: number;
  cpuPgMs: number;
  cpuRedisMs: number;
  cpuTotalMs: number;
  /** With BENCH_COUNT_DIR: Postgres statements/transactions and Redis commands/round trips per request, by process kind. */
  calls?: CallsPerRequest;
}

interface CallsPerRequest {
  requests: number;
  api: { pgStatements: number; pgTransactions: number; redisCommands: number; redisRoundTrips: number };
  workers: { pgStatements: number; pgTransactions: number; redisCommands: number; redisRoundTrips: number };
  /** Raw counts (whole run), for reading what the statements and commands were. */
  raw: unknown[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const dbName = `hub_bench_${process.pid}`;
  const dbUrl = withDatabase(PG, dbName);
  await adminSql(`CREATE DATABASE ${dbName}`);
  // The benchmark's own connections are named, so bench/cpu.ts does not count them as the hub's.
  const ownUrl = new URL(dbUrl);
  ownUrl.searchParams.set('application_name', BENCH_APPLICATION_NAME);
  const db = createDb(ownUrl.toString(), 4);
  const cpuRedis = new Redis(REDIS);
  const prefix = `{hubbench-${process.pid}}`;
  const procs: ChildProcess[] = [];
  const env = {
    ...process.env,
    DATABASE_URL: dbUrl,
    REDIS_URL: REDIS,
    HUB_QUEUE_PREFIX: prefix,
    HUB_SECRET_KEY: SECRET,
    HUB_ADMIN_TOKEN: ADMIN,
    RULES_DIR: path.join(ROOT, 'rules'),
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
  const results: Record<string, unknown> = {};
  try {
    log(`fresh database ${dbName}, queue prefix ${prefix}`);
    await db.migrate.latest();
    if (process.env.BENCH_EXPERIMENT_SQL) await db.raw(process.env.BENCH_EXPERIMENT_SQL);
    await createSource(db, SECRET, { name: 'bench', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
    await seedWorld(db, { source: 'bench', site: 'site-1', year: new Date().getUTCFullYear() });

    // a. intake
    const apiPort = 3900 + (process.pid % 50);
    if (run('intake')) {
      const api = await startProcess(['start', '--api'], { ...env, PORT: String(apiPort) }, procs);
      await waitHttp(`http://127.0.0.1:${apiPort}/readyz`);
      const barePort = apiPort + 50;
      const bare = spawnNode([path.join(__dirname, 'bare-server.ts'), String(barePort)], env);
      procs.push(bare);
      await waitHttp(`http://127.0.0.1:${barePort}/healthz`);
      const intake: IntakeRow[] = [];
      const duration = SMOKE ? 1 : 10;
      // `--loads=1000,max`: only these offered loads, for profiling one of them.
      const loadsArg = process.argv.find((a) => a.startsWith('--loads='))?.slice('--loads='.length);
      const loads: Array<number | 'max'> = loadsArg
        ? loadsArg.split(',').map((l) => (l === 'max' ? 'max' : Number(l)))
        : SMOKE
          ? [500, 'max']
          : [500, 1000, 2000, 'max'];
      for (const offered of loads) {
        for (const [target, port] of [
          ['hub', apiPort],
          ['bare express', barePort],
        ] as const) {
          if (!Number.isFinite(offered) && offered !== 'max')
            throw new Error(`--loads: "${String(offered)}" is not a number or max`);
          log(`intake: ${target} at ${offered === 'max' ? 'max' : `${offered}/s`} for ${duration}s`);
          // Warm-up, not measured: the first second of a cold process (JIT, connection pool) is not its steady state.
          await loadTest(target, port, 'max', SMOKE ? 0.5 : 2);
          intake.push(await loadTest(target, port, offered, duration));
        }
      }
      results.intake = intake;
      await stopProcess(api);
      await stopProcess(bare);
      await resetPipeline(db, prefix);
    }

    // b + e. end to end with 1 and 2 worker processes
    // `--alerts=N`: alerts per end-to-end run (default 20,000), e.g. a shorter run for counting calls.
    const alertsArg = process.argv.find((a) => a.startsWith('--alerts='))?.slice('--alerts='.length);
    const total = alertsArg ? Number(alertsArg) : SMOKE ? 300 : 20000;
    if (!Number.isInteger(total) || total < 1) throw new Error(`--alerts: "${alertsArg}" is not a positive whole number`);
    const e2e: E2eRow[] = [];
    // With E2E_BATCH alerts per request (the target's figure) at 1 and 2 workers; then one alert per
    // request, where the intake's request rate is the limit.
    // `--e2e=1x50,2x1`: only these runs (workers x alerts per request), for profiling one of them.
    const e2eArg = process.argv.find((a) => a.startsWith('--e2e='))?.slice('--e2e='.length);
    const e2eRuns: Array<{ workers: number; perRequest: number }> = e2eArg
      ? e2eArg.split(',').map((r) => {
          const [w, b] = r.split('x').map(Number);
          if (!w || !b) throw new Error(`--e2e: "${r}" is not WORKERSxALERTS_PER_REQUEST, e.g. 1x50`);
          return { workers: w, perRequest: b };
        })
      : SMOKE
        ? [{ workers: 1, perRequest: E2E_BATCH }]
        : [
            { workers: 1, perRequest: E2E_BATCH },
            { workers: 2, perRequest: E2E_BATCH },
            { workers: 2, perRequest: 1 },
          ];
    for (const { workers, perRequest } of run('e2e') ? e2eRuns : []) {
      log(`end to end: ${total} alerts, ${perRequest} per request, ${workers} worker process(es)`);
      const apiP = await startProcess(['start', '--api'], { ...env, PORT: String(apiPort) }, procs);
      await waitHttp(`http://127.0.0.1:${apiPort}/readyz`);
      const ws: ChildProcess[] = [];
      for (let i = 0; i < workers; i++) ws.push(await startProcess(['start', '--worker'], env, procs));
      // Until the processes finished starting (a fixed 1.5 s counted the rest of a worker's start as the run's CPU).
      await waitSettled([apiP.pid, ...ws.map((w) => w.pid)], { minMs: SMOKE ? 500 : 1500 });
      const rss = sampleRss(apiP, ws);
      const cpu = await startCpuMeter({ db, database: dbName, redis: cpuRedis, api: apiP.pid, workers: ws.map((w) => w.pid) });
      // BENCH_COUNT_DIR: the processes count from here (count-calls.ts snapshots on SIGUSR2).
      // Sent once the process has its handler (before that, SIGUSR2 would end it).
      if (process.env.BENCH_COUNT_DIR)
        for (const p of [apiP, ...ws]) {
          await waitUntil(async () => catchesSignal(p.pid, 12), 60_000, 50);
          p.kill('SIGUSR2');
        }
      log('posting');
      const t0 = Date.now();
      // Drained is watched while posting (every 50 ms): autocannon itself returns only on its
      // one-second tick, which would round the figures up to whole seconds.
      let drainedAt = 0;
      const progress = newProgress();
      const drained = waitUntil(
        async () => {
          const done = await allProcessed(db, progress, total);
          if (done) drainedAt = Date.now();
          return done;
        },
        SMOKE ? 180_000 : 600_000,
        50,
      );
      // Settled even if posting fails (the poll must not outlive the database connection unhandled).
      const drainedResult = drained.then(
        () => null,
        (e: unknown) => e,
      );
      const lastResponseAt = await postAlerts(apiPort, total, perRequest, `w${workers}b${perRequest}`, progress);
      const postSeconds = (lastResponseAt - t0) / 1000;
      const drainError = await drainedResult;
      if (drainError) throw drainError;
      const drainSeconds = (drainedAt - t0) / 1000;
      const peaks = rss.stop();
      const cpuPerAlert = await cpu.perAlert(total);
      const tickets = await count(db, 'tickets');
      if (tickets !== total) throw new Error(`expected ${total} tickets, found ${tickets}`);
      e2e.push({
        workers,
        alertsPerRequest: perRequest,
        alerts: total,
        postSeconds: round(postSeconds),
        drainSeconds: round(drainSeconds),
        alertsPerSec: Math.round(total / drainSeconds),
        peakRssApiMb: peaks.api,
        peakRssWorkersMb: peaks.workers,
        cpuApiMs: cpuPerAlert.apiMs,
        cpuWorkersMs: cpuPerAlert.workersMs,
        cpuPgMs: cpuPerAlert.postgresMs,
        cpuRedisMs: cpuPerAlert.redisMs,
        cpuTotalMs: cpuPerAlert.totalMs,
      });
      await Promise.all([stopProcess(apiP), ...ws.map(stopProcess)]);
      const calls = readCallCounts(apiP, ws, Math.ceil(total / perRequest));
      if (calls) e2e[e2e.length - 1]!.calls = calls;
      if (!process.env.BENCH_KEEP_DB) await resetPipeline(db, prefix);
    }
    results.endToEnd = e2e;

    // g + h. PSA delivery and the alert storm: hub processes of their own, through the same helpers.
    const ctx: BenchContext = {
      smoke: SMOKE,
      db,
      database: dbName,
      env,
      apiPort,
      source: 'bench',
      sourceToken: TOKEN,
      secretKeys: [SECRET],
      cpuRedis,
      startProcess: (args, e) => startProcess(args, e, procs),
      stopProcess,
      waitHttp,
      waitUntil,
      count: (table, where) => count(db, table, where),
      resetPipeline: () => resetPipeline(db, prefix),
      postAlerts: (n, perRequest, tag, progress) => postAlerts(apiPort, n, perRequest, tag, progress),
      sampleRss,
      startCounting: async (ps) => {
        if (!process.env.BENCH_COUNT_DIR) return;
        for (const p of ps) {
          await waitUntil(async () => catchesSignal(p.pid, 12), 60_000, 50);
          p.kill('SIGUSR2');
        }
      },
      readCounts: (ps) => {
        const dir = process.env.BENCH_COUNT_DIR;
        if (!dir) return undefined;
        return ps.map((p) => JSON.parse(fs.readFileSync(path.join(dir, `${p.pid}.json`), 'utf8')) as ProcessCounts);
      },
    };
    if (run('delivery')) {
      log('delivery: PSA delivery to the Autotask stand-in');
      results.delivery = await benchDelivery(ctx);
    }
    if (run('storm')) {
      log('storm: an alert storm with the storm rules on');
      results.storm = await benchStorm(ctx);
      if (!(results.storm as StormBenchResult).matches) process.exitCode = 1;
    }

    // c. rules
    if (run('rules')) {
      log('rules: decisions/s at 10, 100, 1000 rules (ours vs plain json-rules-engine)');
      const rules: RulesBenchRow[] = await benchRules({
        durationMs: SMOKE ? 100 : 3000,
        ...(SMOKE ? { sizes: [10, 100] } : {}),
      });
      results.rules = rules;
    }

    // d. renewal
    const devices = SMOKE ? 200 : 10000;
    const services = SMOKE ? 10 : 200;
    if (run('renewal')) {
      log(`renewal: contract with ${devices} devices and ${services} services`);
      results.renewal = await benchRenewal(db, devices, services);
    }

    // f. device import (issue 6: 100,000 rows in under 30 s)
    const importRows = SMOKE ? 1000 : 100000;
    if (run('import')) {
      log(`import: ${importRows} device rows`);
      results.import = await benchImport(importRows);
    }

    // g. the same figures on a database aged by a year of history (issue 19; last: it fills the
    // database). Minutes and gigabytes at full size, so only when asked for (--only=aged) or in smoke.
    if (ONLY?.includes('aged') || (SMOKE && run('aged'))) {
      results.aged = await benchAged({ db, env, apiPort, procs, smoke: SMOKE, log, startProcess, stopProcess, waitHttp, waitUntil, postAlerts });
    }

    results.meta = {
      at: new Date().toISOString(),
      smoke: SMOKE,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.platform()} ${os.release()}`,
      },
      versions: { node: process.version, postgres: await pgVersion(db), redis: await redisVersion() },
      seconds: round((Date.now() - started) / 1000),
    };
    print(results);
    const out = path.join(
      __dirname,
      'results',
      SMOKE ? 'smoke.json' : ONLY ? `only-${ONLY.join('-')}.json` : 'latest.json',
    );
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    log(`written ${path.relative(ROOT, out)}`);
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await db.destroy();
    cpuRedis.disconnect();
    const r = new Redis(REDIS);
    const keys = await r.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
    r.disconnect();
    if (process.env.BENCH_KEEP_DB) log(`kept database ${dbName} (BENCH_KEEP_DB)`);
    else await adminSql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

// --------------------------------------------------------------------------------------------

function spawnNode(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  // `node --import tsx` (not the tsx CLI) so the pid is the process whose RSS we measure.
  // BENCH_CPU_PROF=<dir>: every hub process writes a V8 CPU profile there when it exits.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_COUNT_DIR=<dir>: every hub process counts its Postgres statements and Redis commands (count-calls.ts).
  const counting = process.env.BENCH_COUNT_DIR ? ['--import', path.join(__dirname, 'count-calls.ts')] : [];
  const p = spawn(process.execPath, [...prof, '--import', 'tsx', ...counting, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore', 'pipe'],
  });
  let err = '';
  p.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  p.on('exit', (code) => {
    if (code && code !== 0 && code !== 143) console.error(`process ${args.join(' ')} exited ${code}: ${err}`);
  });
  return p;
}

async function startProcess(args: string[], env: NodeJS.ProcessEnv, procs: ChildProcess[]): Promise<ChildProcess> {
  const p = spawnNode([path.join(ROOT, 'cli/hub.ts'), ...args], env);
  procs.push(p);
  return p;
}

function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 12_000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(async () => {
    try {
      return (await fetch(url)).status === 200;
    } catch {
      return false;
    }
  }, timeoutMs);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function count(db: Knex, table: string, where?: string): Promise<number> {
  const q = db(table).count({ n: '*' });
  if (where) q.whereRaw(where);
  const r = (await q.first()) as { n: string };
  return Number(r.n);
}

async function resetPipeline(db: Knex, prefix: string): Promise<void> {
  await db.raw('TRUNCATE tickets, ticket_notes, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
  await db.raw('DELETE FROM devices WHERE discovered');
  const r = new Redis(REDIS);
  const keys = await r.keys(`${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await r.del(...keys.slice(i, i + 500));
  r.disconnect();
}

let seq = 0;
function alertBody(tag: string): string {
  seq += 1;
  const host = `host-${seq % 500}`;
  return JSON.stringify({
    alertId: `${tag}-${seq}`,
    state: 'firing',
    severity: (['critical', 'high', 'medium', 'low'] as const)[seq % 4],
    category: 'disk',
    title: `Disk almost full on ${host}`,
    message: 'C: 95% used',
    device: { id: `dev-${host}`, hostname: host, site: 'site-1' },
    occurredAt: new Date().toISOString(),
  });
}

async function loadTest(target: string, port: number, offered: number | 'max', duration: number): Promise<IntakeRow> {
  const tag = `${target.replace(/\W/g, '')}-${offered}-${Date.now()}`;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hooks/bench`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    connections: offered === 'max' ? 64 : 32,
    duration,
    // Latencies as measured. autocannon's coordinated-omission correction at a fixed rate assumes an
    // expected interval of ceil(1 / per-connection rate) = 1 ms (seconds taken for milliseconds):
    // every response slower than 1 ms then adds made-up samples, and the p99 of a bare Express
    // handler at 500/s came out at 80–90 ms while its p99 at full load was 14 ms.
    ...(offered === 'max' ? {} : { overallRate: offered, ignoreCoordinatedOmission: true }),
    requests: [{ setupRequest: (req) => ({ ...req, body: alertBody(tag) }) }],
  });
  return {
    target,
    offered,
    achieved: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Posts `total` alerts; returns when the last response arrived (Date.now()). */
async function postAlerts(port: number, total: number, perRequest: number, tag: string, progress?: PostProgress): Promise<number> {
  let last = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}/hooks/bench`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        connections: Math.min(perRequest === 1 ? 32 : 8, Math.ceil(total / perRequest)),
        amount: Math.ceil(total / perRequest),
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              body:
                perRequest === 1
                  ? alertBody(tag)
                  : `[${Array.from({ length: perRequest }, () => alertBody(tag)).join(',')}]`,
            }),
          },
        ],
      },
      (err: unknown, res: autocannon.Result) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res),
    );
    instance.on('response', (_client: unknown, statusCode: number) => {
      last = Date.now();
      if (progress && statusCode >= 200 && statusCode < 300) progress.acceptedAlerts += perRequest;
    });
  });
  if (result.non2xx || result.errors)
    throw new Error(`posting failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return last;
}

/** Reads what count-calls.ts wrote for these processes at exit; per request (undefined without BENCH_COUNT_DIR). */
function readCallCounts(api: ChildProcess, workers: ChildProcess[], requests: number): CallsPerRequest | undefined {
  const dir = process.env.BENCH_COUNT_DIR;
  if (!dir) return undefined;
  type Counts = { pgStatements: number; pgTransactions: number; redisCommands: number; redisRoundTrips: number };
  const read = (p: ChildProcess): (Counts & Record<string, unknown>) | undefined => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, `${p.pid}.json`), 'utf8')) as Counts & Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const per = (cs: Array<Counts | undefined>) => {
    const sum = (k: keyof Counts) => cs.reduce((a, c) => a + (c?.[k] ?? 0), 0);
    const r = (n: number) => Math.round((n / requests) * 1000) / 1000;
    return { pgStatements: r(sum('pgStatements')), pgTransactions: r(sum('pgTransactions')), redisCommands: r(sum('redisCommands')), redisRoundTrips: r(sum('redisRoundTrips')) };
  };
  const a = read(api);
  const w = workers.map(read);
  return { requests, api: per([a]), workers: per(w), raw: [a, ...w] };
}

/** Whether the process has a handler for signal number `signo` (SigCgt in /proc/<pid>/status). */
function catchesSignal(pid: number | undefined, signo: number): boolean {
  if (!pid) return false;
  try {
    const m = /SigCgt:\s+([0-9a-f]+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) & (1n << BigInt(signo - 1))) !== 0n : false;
  } catch {
    return false;
  }
}

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function sampleRss(api: ChildProcess, workers: ChildProcess[]): { stop(): { api: number; workers: number } } {
  let peakApi = 0;
  let peakWorkers = 0;
  const t = setInterval(() => {
    peakApi = Math.max(peakApi, rssMb(api.pid));
    for (const w of workers) peakWorkers = Math.max(peakWorkers, rssMb(w.pid));
  }, 100);
  return {
    stop() {
      clearInterval(t);
      return { api: peakApi, workers: peakWorkers };
    },
  };
}

async function benchRenewal(
  db: Knex,
  devices: number,
  services: number,
): Promise<{ devices: number; services: number; ms: number }> {
  const company = await insertRow(db, 'companies', { name: `Renewal bench ${Date.now()}` });
  const contract = await insertRow(db, 'contracts', {
    company_id: company.id,
    name: 'Big managed services',
    type: 'recurring_service',
    period_type: 'yearly',
    start_date: '2025-01-01',
    end_date: '2025-12-31',
  });
  await db.raw(
    `WITH s AS (
       INSERT INTO services (name, unit_price) SELECT 'bench svc ' || ? || '-' || g, 10 + g FROM generate_series(1, ?) g RETURNING id
     )
     INSERT INTO contract_services (contract_id, service_id, units, unit_price) SELECT ?, id, 5, 20 FROM s`,
    [company.id, services, contract.id],
  );
  await db.raw(
    `WITH d AS (
       INSERT INTO devices (company_id, hostname) SELECT ?, 'bench-dev-' || g FROM generate_series(1, ?) g RETURNING id
     )
     INSERT INTO device_contract_links (device_id, contract_id, valid_from) SELECT id, ?, '2025-01-01' FROM d`,
    [company.id, devices, contract.id],
  );
  const t0 = process.hrtime.bigint();
  await renewContract({ db }, contract.id, {}, { scope: ALL_COMPANIES, actor: 'bench', today: '2025-12-15' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const moved = Number(
    (
      (await db('device_contract_links as l')
        .join('devices as d', 'd.id', 'l.device_id')
        .where({ 'd.company_id': company.id, 'l.valid_from': '2026-01-01' })
        .count({ n: '*' })
        .first()) as { n: string }
    ).n,
  );
  if (moved !== devices) throw new Error(`renewal moved ${moved} of ${devices} devices`);
  return { devices, services, ms: Math.round(ms) };
}

async function pgVersion(db: Knex): Promise<string> {
  const r = (await db.raw('SHOW server_version')) as { rows: { server_version: string }[] };
  return r.rows[0]?.server_version ?? '?';
}

async function redisVersion(): Promise<string> {
  const r = new Redis(REDIS);
  const info = await r.info('server');
  r.disconnect();
  return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
}

const round = (n: number) => Math.round(n * 100) / 100;

function print(results: Record<string, unknown>): void {
  const intake = results.intake as IntakeRow[] | undefined;
  if (intake) {
    console.log('\nIntake (one alert per request)');
    console.table(
      intake.map((r) => ({
        target: r.target,
        'offered/s': r.offered,
        'achieved/s': r.achieved,
        'p50 ms': r.p50,
        'p99 ms': r.p99,
        errors: r.errors,
        non2xx: r.non2xx,
      })),
    );
    const ratios = [500, 1000, 2000, 'max'].map((o) => {
      const hub = intake.find((r) => r.target === 'hub' && r.offered === o);
      const bare = intake.find((r) => r.target !== 'hub' && r.offered === o);
      return {
        'offered/s': o,
        'p99 hub/bare': hub && bare ? round(hub.p99 / Math.max(bare.p99, 1)) : null,
        'throughput hub/bare': hub && bare ? round(hub.achieved / Math.max(bare.achieved, 1)) : null,
      };
    });
    console.table(ratios);
  }
  if (results.endToEnd && (results.endToEnd as unknown[]).length > 0) {
    console.log('End to end (webhook → committed ticket)');
    const e2eRows = results.endToEnd as E2eRow[];
    console.table(e2eRows.map(({ calls: _calls, ...r }) => r));
    const counted = e2eRows.filter((r) => r.calls);
    if (counted.length > 0) {
      console.log('Calls per request (BENCH_COUNT_DIR; client-side counts, whole run from the first post to exit)');
      console.table(
        counted.map((r) => ({
          run: `${r.workers}x${r.alertsPerRequest}`,
          'api pg stmts': r.calls!.api.pgStatements,
          'api pg tx': r.calls!.api.pgTransactions,
          'api redis cmds': r.calls!.api.redisCommands,
          'api redis trips': r.calls!.api.redisRoundTrips,
          'worker pg stmts': r.calls!.workers.pgStatements,
          'worker pg tx': r.calls!.workers.pgTransactions,
          'worker redis cmds': r.calls!.workers.redisCommands,
          'worker redis trips': r.calls!.workers.redisRoundTrips,
        })),
      );
    }
  }
  if (results.delivery) printDelivery(results.delivery as DeliveryBenchResult);
  if (results.storm) printStorm(results.storm as StormBenchResult);
  if (results.rules) {
    console.log('Rules (decisions/s, one core)');
    console.table(results.rules);
  }
  if (results.renewal) {
    console.log('Renewal');
    console.table([results.renewal]);
  }
  if (results.import) {
    console.log('Device import');
    console.table([results.import]);
  }
  const aged = results.aged as AgedResult | undefined;
  if (aged) {
    console.log(`Aged database: ${aged.alerts} alerts, ${aged.tickets} tickets over a year, filled in ${aged.fillSeconds} s, ${aged.databaseMb.before} → ${aged.databaseMb.after} MB`);
    const row = (f: AgedResult['empty']) => ({
      'e2e alerts/s': f.e2eAlertsPerSec,
      'dry run ms (median)': f.dryRunMedianMs,
      'dry run ms (p95)': f.dryRunP95Ms,
      'replay 7 d alerts/s': f.replayAlertsPerSec,
      ...Object.fromEntries(Object.entries(f.ticketList).map(([k, v]) => [`tickets ${k} ms`, v])),
    });
    console.table({ empty: row(aged.empty), aged: row(aged.aged) });
    console.log('aged vs empty (1 = the same; below 1 = slower on the aged database; target ≥ 0.85)');
    console.table([aged.ratios]);
    console.table(aged.plans.map((p) => ({ statement: p.statement, indexes: p.indexes.join(', '), 'seq scans': p.seqScans.join(', '), ms: p.ms })));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
