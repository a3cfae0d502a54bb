import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * Real hub processes for fault and scale-out tests: `hub start --api|--worker` (or both) as a
 * child `node --import tsx cli/hub.ts start …`. Node runs the CLI directly rather than through the
 * `tsx` launcher, because the launcher is a parent process of its own: a SIGKILL to it would
 * orphan the real hub instead of killing it.
 *
 * Every child is registered and killed by `stopAllHubProcesses()` (call it in afterAll/afterEach)
 * and, as a last resort, when the test process exits — no orphans on a 2-core machine.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');

export type HubRole = 'api' | 'worker' | 'both';

export interface HubExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A JSON log line of the hub (pino). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface HubChild {
  role: HubRole | 'script';
  proc: ChildProcess;
  pid: number;
  /** The API's port (from the 'hub started' line), once ready; null for a worker. */
  port: number | null;
  /** http://127.0.0.1:<port> once ready (API roles). */
  url: string;
  /** stdout and stderr so far, interleaved as they arrived (the head is dropped past 4 MB). */
  output(): string;
  /** The JSON log lines so far. */
  logs(): LogLine[];
  /** Resolves with the first log line matching, waiting up to `timeoutMs`; rejects if the process exits first. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** Resolves when the process has exited. */
  exited: Promise<HubExit>;
  readonly exitedWith: HubExit | null;
  /** Sends a signal (no-op once exited). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<HubExit>;
}

export interface SpawnHubOptions {
  role: HubRole;
  /** The hub's environment (DATABASE_URL, REDIS_URL, …); see `hubEnv`. PATH and HOME are added. */
  env: Record<string, string>;
  /** Extra CLI arguments after `start --api|--worker`. */
  args?: string[];
}

const live = new Set<HubChild>();
const MAX_OUTPUT = 4 * 1024 * 1024;

/**
 * The environment of a test hub: every variable the hub reads is set here, because the child's
 * `dotenv` would otherwise fill the gaps from the repository's `.env`.
 */
export function hubEnv(e: {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  rulesDir?: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: e.databaseUrl,
    REDIS_URL: e.redisUrl,
    HUB_QUEUE_PREFIX: e.prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    RULES_DIR: e.rulesDir ?? path.join(REPO_ROOT, 'rules'),
    HUB_SECRET_KEY: process.env.HUB_SECRET_KEY ?? 'test-secret-key-test-secret-key-0123456789',
    HUB_ADMIN_TOKEN: process.env.HUB_ADMIN_TOKEN ?? 'test-admin-token-0123456789abcdef',
    HUB_RELAY_INTERVAL_SECONDS: '1',
    HUB_WORKER_CONCURRENCY: '4',
    DATABASE_POOL_MAX: '4',
    LOG_LEVEL: 'info',
    ...e.extra,
  };
}

/** Spawns a hub process (not waiting for it to be ready). */
export function spawnHub(opts: SpawnHubOptions): HubChild {
  const roleArgs = opts.role === 'both' ? [] : [`--${opts.role}`];
  return spawnTracked(opts.role, ['cli/hub.ts', 'start', ...roleArgs, ...(opts.args ?? [])], opts.env);
}

/**
 * Runs a TypeScript script of the repository (path relative to its root) in a process of its
 * own, tracked and cleaned up like the hubs; `role` is 'script'.
 */
export function spawnScript(script: string, env: Record<string, string>, args: string[] = []): HubChild {
  return spawnTracked('script', [script, ...args], env);
}

function spawnTracked(role: HubRole | 'script', args: string[], env: Record<string, string>): HubChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error('could not spawn node');
  let out = '';
  let partial = '';
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    out += s;
    if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT);
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        // not a log line (a stack trace, a console message)
      }
    }
    for (const l of listeners) l();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);

  let exitedWith: HubExit | null = null;
  const exited = new Promise<HubExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitedWith = { code, signal };
      live.delete(child);
      for (const l of listeners) l();
      resolve(exitedWith);
    });
  });

  const child: HubChild = {
    role,
    proc,
    pid: proc.pid,
    port: null,
    url: '',
    output: () => out,
    logs: () => lines,
    get exitedWith() {
      return exitedWith;
    },
    exited,
    waitForLog(match, timeoutMs = 30_000, what = 'log line') {
      return new Promise<LogLine>((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            const l = lines[seen]!;
            if (match(l)) return done(() => resolve(l));
          }
          if (exitedWith)
            done(() =>
              reject(
                new Error(
                  `hub ${role} (pid ${proc.pid}) exited (${JSON.stringify(exitedWith)}) before ${what}; output:\n${tail(out)}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(
                  `timed out after ${timeoutMs} ms waiting for ${what} from hub ${role} (pid ${proc.pid}); output:\n${tail(out)}`,
                ),
              ),
            ),
          timeoutMs,
        );
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    kill(signal) {
      if (!exitedWith) proc.kill(signal);
    },
    async stop(graceMs = 12_000) {
      if (exitedWith) return exitedWith;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
  };
  live.add(child);
  return child;
}

/**
 * Spawns a hub and waits until it is ready: the 'hub started' log line (after the workers are
 * registered and the API listens), then — for API roles, unless `readyz: false` — GET /readyz 200.
 */
export async function startHubProcess(
  opts: SpawnHubOptions & { timeoutMs?: number; readyz?: boolean },
): Promise<HubChild> {
  const child = spawnHub(opts);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const until = Date.now() + timeoutMs;
  try {
    const started = await child.waitForLog((l) => l.msg === 'hub started', timeoutMs, "'hub started'");
    if (opts.role !== 'worker') {
      child.port = typeof started.port === 'number' ? started.port : null;
      if (child.port === null) throw new Error(`'hub started' line has no port: ${JSON.stringify(started)}`);
      child.url = `http://127.0.0.1:${child.port}`;
      if (opts.readyz !== false) await waitReady(child, until);
    }
    return child;
  } catch (e) {
    child.kill('SIGKILL');
    await child.exited;
    throw e;
  }
}

async function waitReady(child: HubChild, until: number): Promise<void> {
  let last = '';
  while (Date.now() < until) {
    if (child.exitedWith) break;
    try {
      const res = await fetch(`${child.url}/readyz`);
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`hub at ${child.url} not ready (${last}); output:\n${tail(child.output())}`);
}

/** Kills every hub process still running: SIGTERM, then SIGKILL after `graceMs` (0 = SIGKILL now). */
export async function stopAllHubProcesses(graceMs = 5000): Promise<void> {
  await Promise.all(
    [...live].map(async (c) => {
      if (graceMs === 0) {
        c.kill('SIGKILL');
        await c.exited;
      } else await c.stop(graceMs);
    }),
  );
}

/** The hub processes still running (for leak checks in tests). */
export function liveHubProcesses(): HubChild[] {
  return [...live];
}

/** The last part of a process's output, for error messages. */
export function tail(s: string, chars = 6000): string {
  return s.length > chars ? `…${s.slice(s.length - chars)}` : s;
}

// Last resort: a test process that dies (timeout, crash) takes its hubs with it.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
