/**
 * Preloaded into the hub processes of an end-to-end run when `BENCH_COUNT_DIR` is set (`node --import
 * ./bench/count-calls.ts …`): counts, on the client side, what each process asks of Postgres and
 * Redis — deterministic figures beside the noisy rates and CPU times of a shared machine (issue 19:
 * "statements and commits per request, Redis commands per request").
 *
 * - Postgres: every query a `pg` client sends (statements, BEGIN/COMMIT/ROLLBACK/SAVEPOINT included), and
 *   transactions = COMMITs + statements sent outside a BEGIN … COMMIT (each its own transaction).
 * - Redis: every command ioredis sends, by name (a BullMQ script is one `evalsha`), and round trips:
 *   a command sent on its own, or a whole pipeline / MULTI.
 *
 * SIGUSR2 takes a snapshot (the benchmark sends it when posting starts); at exit the counts since
 * then are written to `$BENCH_COUNT_DIR/<pid>.json`. Nothing of the hub imports this file.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.BENCH_COUNT_DIR;

interface Counts {
  pgStatements: number;
  pgTransactions: number;
  pgByKind: Record<string, number>;
  redisCommands: number;
  redisRoundTrips: number;
  redisByName: Record<string, number>;
}

const zero = (): Counts => ({ pgStatements: 0, pgTransactions: 0, pgByKind: {}, redisCommands: 0, redisRoundTrips: 0, redisByName: {} });

if (dir) {
  const req = createRequire(path.join(process.cwd(), 'package.json'));
  const counts = zero();
  let snapshot: Counts | undefined;
  const bump = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
  };

  // Postgres: pg.Client#query is what knex's pg dialect calls for every statement.
  const pg = req('pg') as { Client: { prototype: { query: (...a: unknown[]) => unknown } } };
  const inTx = new WeakSet<object>();
  const originalQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: object, ...args: unknown[]) {
    const q = args[0];
    const text = typeof q === 'string' ? q : q && typeof q === 'object' && 'text' in q ? String((q as { text: unknown }).text) : '';
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
    counts.pgStatements += 1;
    bump(counts.pgByKind, verb);
    if (verb === 'BEGIN') inTx.add(this);
    else if (verb === 'COMMIT' || verb === 'ROLLBACK') {
      if (verb === 'COMMIT') counts.pgTransactions += 1;
      inTx.delete(this);
    } else if (!inTx.has(this)) counts.pgTransactions += 1;
    return originalQuery.apply(this, args);
  };

  // Redis: every command passes Redis#sendCommand; a pipeline passes it with a buffering stream.
  const ioredis = req('ioredis') as {
    Redis: { prototype: { sendCommand: (...a: unknown[]) => unknown } };
  };
  const pipelineMod = req('ioredis/built/Pipeline') as { default: { prototype: { exec: (...a: unknown[]) => unknown } } };
  const originalSend = ioredis.Redis.prototype.sendCommand;
  ioredis.Redis.prototype.sendCommand = function (this: unknown, ...args: unknown[]) {
    const cmd = args[0] as { name?: string };
    counts.redisCommands += 1;
    bump(counts.redisByName, cmd?.name ?? '?');
    if (args[1] === undefined) counts.redisRoundTrips += 1;
    return originalSend.apply(this, args);
  };
  const originalExec = pipelineMod.default.prototype.exec;
  pipelineMod.default.prototype.exec = function (this: unknown, ...args: unknown[]) {
    counts.redisRoundTrips += 1;
    return originalExec.apply(this, args);
  };

  const clone = (c: Counts): Counts => JSON.parse(JSON.stringify(c)) as Counts;
  process.on('SIGUSR2', () => {
    snapshot = clone(counts);
  });
  process.on('exit', () => {
    const base = snapshot ?? zero();
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    const out: Counts & { pid: number; argv: string[]; snapshotTaken: boolean } = {
      pid: process.pid,
      argv: process.argv.slice(2),
      snapshotTaken: snapshot !== undefined,
      pgStatements: counts.pgStatements - base.pgStatements,
      pgTransactions: counts.pgTransactions - base.pgTransactions,
      pgByKind: diff(counts.pgByKind, base.pgByKind),
      redisCommands: counts.redisCommands - base.redisCommands,
      redisRoundTrips: counts.redisRoundTrips - base.redisRoundTrips,
      redisByName: diff(counts.redisByName, base.redisByName),
    };
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${process.pid}.json`), `${JSON.stringify(out)}\n`);
  });
}
