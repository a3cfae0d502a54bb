import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server the test starts and stops itself (on its own port, nothing persisted). */
export class PrivateRedis {
  private proc: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-redis-'));
  constructor(readonly port: number, private readonly extraArgs: string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) return;
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--maxmemory-policy', 'noeviction', ...this.extraArgs],
      { stdio: 'ignore' },
    );
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (await canConnect(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }

  /** Stops the server (if running) and removes its directory; the instance is not used again. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A Redis Cluster of `masters` nodes (no replicas) on free loopback ports, each a PrivateRedis
 * with cluster mode on; `url` is the hub's REDIS_URL form for it (comma-separated seed nodes).
 */
export class PrivateRedisCluster {
  readonly nodes: PrivateRedis[] = [];

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const c = new PrivateRedisCluster();
    try {
      for (let i = 0; i < masters; i++) {
        c.nodes.push(new PrivateRedis(await freePort(), ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000']));
      }
      await Promise.all(c.nodes.map((n) => n.start()));
      await run('redis-cli', ['--cluster', 'create', ...c.nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      const until = Date.now() + 20_000;
      for (const n of c.nodes) await waitForCli(n.port, ['cluster', 'info'], /cluster_state:ok/, until, `cluster node ${n.port} ok`);
      return c;
    } catch (e) {
      await c.dispose();
      throw e;
    }
  }

  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.dispose()));
  }
}

/** Polls `redis-cli -p port …args` every 100 ms until its output matches (a failing call counts as no match). */
async function waitForCli(port: number, args: string[], match: RegExp, until: number, what: string): Promise<void> {
  for (;;) {
    const out = await run('redis-cli', ['-p', String(port), ...args]).catch((e: unknown) => String(e));
    if (match.test(out)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a command to completion; rejects with its output unless it exits 0. */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/**
 * A Sentinel set on free loopback ports: a master, one replica and two sentinels watching them
 * under `name` (quorum 1, a master counts as down after 1 s); `url` is the hub's REDIS_URL form.
 */
export class PrivateRedisSentinel {
  master!: PrivateRedis;
  replica!: PrivateRedis;
  readonly sentinels: Array<{ port: number; proc: ChildProcess; dir: string }> = [];

  private constructor(readonly name: string) {}

  static async start(name = 'hubmaster'): Promise<PrivateRedisSentinel> {
    const s = new PrivateRedisSentinel(name);
    try {
      // No diskless-sync delay: by default the master waits 5 s for more replicas before the first sync.
      s.master = new PrivateRedis(await freePort(), ['--repl-diskless-sync-delay', '0']);
      await s.master.start();
      s.replica = new PrivateRedis(await freePort(), ['--replicaof', '127.0.0.1', String(s.master.port), '--repl-diskless-sync-delay', '0']);
      await s.replica.start();
      await waitForCli(s.replica.port, ['info', 'replication'], /master_link_status:up/, Date.now() + 15_000, 'the replica synced with the master');
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-sentinel-'));
        // Sentinel rewrites its config file: one of its own.
        fs.writeFileSync(
          path.join(dir, 'sentinel.conf'),
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${s.master.port} 1`,
            `sentinel down-after-milliseconds ${name} 1000`,
            `sentinel failover-timeout ${name} 5000`,
            '',
          ].join('\n'),
        );
        const proc = spawn('redis-server', [path.join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
        s.sentinels.push({ port, proc, dir });
      }
      const until = Date.now() + 15_000;
      for (const sn of s.sentinels) {
        await waitForCli(sn.port, ['sentinel', 'get-master-addr-by-name', name], new RegExp(`^${s.master.port}$`, 'm'), until, `sentinel ${sn.port} knowing ${name}`);
      }
      return s;
    } catch (e) {
      await s.dispose();
      throw e;
    }
  }

  get url(): string {
    return `redis+sentinel://${this.sentinels.map((sn) => `127.0.0.1:${sn.port}`).join(',')}/${this.name}`;
  }

  /** The master's port as the first sentinel reports it. */
  async masterPort(): Promise<number> {
    const out = await run('redis-cli', ['-p', String(this.sentinels[0]!.port), 'sentinel', 'get-master-addr-by-name', this.name]);
    return Number(out.trim().split('\n')[1]);
  }

  async dispose(): Promise<void> {
    for (const sn of this.sentinels) {
      if (sn.proc.exitCode === null) {
        await new Promise<void>((resolve) => {
          sn.proc.once('exit', () => resolve());
          sn.proc.kill('SIGKILL');
        });
      }
      fs.rmSync(sn.dir, { recursive: true, force: true });
    }
    await this.master?.dispose();
    await this.replica?.dispose();
  }
}
