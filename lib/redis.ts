import { Redis, Cluster, type RedisOptions } from 'ioredis';

export type RedisConnection = Redis | Cluster;

/**
 * REDIS_URL forms (SPEC §8, issue 6):
 * - `redis://host:6379/0` — one server;
 * - `redis://a:7000,redis://b:7001,redis://c:7002` — a Redis Cluster (seed nodes);
 * - `redis+sentinel://host:26379[,host2:26379]/masterName` — a Sentinel set.
 * BullMQ needs `maxRetriesPerRequest: null` on connections that block (workers).
 */
export function createRedis(url: string, opts: { forWorker?: boolean; lazyConnect?: boolean } = {}): RedisConnection {
  const base: RedisOptions = {
    maxRetriesPerRequest: opts.forWorker ? null : 3,
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    // Keep retrying forever with a cap: Redis being down must not kill the process (R-ALR-1).
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const parts = url.split(',').map((s) => s.trim()).filter(Boolean);
  const first = parts[0] ?? url;
  if (/^(redis\+sentinel|sentinel):\/\//.test(first)) {
    const s = parseSentinelUrl(url);
    return new Redis({ ...base, sentinels: s.sentinels, name: s.name, password: s.password, sentinelPassword: s.password });
  }
  if (parts.length > 1) {
    const nodes = parts.map((p) => {
      const u = new URL(p);
      return { host: u.hostname, port: Number(u.port || 6379) };
    });
    const pw = new URL(first).password || undefined;
    return new Cluster(nodes, {
      redisOptions: { ...base, password: pw },
      enableReadyCheck: true,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
      lazyConnect: opts.lazyConnect ?? false,
    });
  }
  return new Redis(first, base);
}

/**
 * `redis+sentinel://[:password@]host:26379[,host2:26379…]/masterName` → the Sentinel set, the
 * master's name (default `mymaster`) and the password (used for the master and the sentinels).
 * Each host may repeat the scheme (`…,redis+sentinel://host2:26379/name`).
 */
export function parseSentinelUrl(url: string): { sentinels: Array<{ host: string; port: number }>; name: string; password: string | undefined } {
  const body = url
    .trim()
    .replace(/^(redis\+sentinel|sentinel):\/\//, '')
    .replace(/,\s*(redis\+sentinel|sentinel):\/\//g, ',');
  const slash = body.lastIndexOf('/');
  const name = slash >= 0 ? decodeURIComponent(body.slice(slash + 1)) : '';
  let hostList = slash >= 0 ? body.slice(0, slash) : body;
  let password: string | undefined;
  const at = hostList.lastIndexOf('@');
  if (at >= 0) {
    const creds = hostList.slice(0, at);
    hostList = hostList.slice(at + 1);
    const colon = creds.indexOf(':');
    password = decodeURIComponent(colon >= 0 ? creds.slice(colon + 1) : creds) || undefined;
  }
  const sentinels = hostList
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => {
      const i = h.lastIndexOf(':');
      const host = i > 0 ? h.slice(0, i) : h;
      const port = i > 0 ? Number(h.slice(i + 1)) : 26379;
      if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`REDIS_URL: "${h}" is not a sentinel host:port`);
      return { host, port };
    });
  if (sentinels.length === 0) throw new Error('REDIS_URL: a redis+sentinel:// URL needs at least one sentinel host:port');
  return { sentinels, name: name || 'mymaster', password };
}

/**
 * BullMQ loses jobs if Redis evicts keys under memory pressure; it must run with
 * `maxmemory-policy noeviction`. Returns the problem as a sentence, or null when fine.
 */
export async function checkNoEviction(redis: RedisConnection): Promise<string | null> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
      return (
        `Redis at ${where} has maxmemory-policy=${policy ?? 'unknown'}; BullMQ needs noeviction or jobs can be lost. ` +
        `Fix: redis-cli -h ${node.options.host ?? '127.0.0.1'} -p ${node.options.port ?? 6379} CONFIG SET maxmemory-policy noeviction ` +
        `(and set "maxmemory-policy noeviction" in redis.conf so it survives a restart).`
      );
    }
  }
  return null;
}
