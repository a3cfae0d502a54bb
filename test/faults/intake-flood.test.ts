import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { Knex } from 'knex';
import { waitFor } from '../helpers/hub';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../helpers/harness';
import { hubEnv, startHubProcess, stopAllHubProcesses, type HubChild } from '../helpers/processes';
import { alert, deleteQueueKeys, post, seedSource, SOURCE, TOKEN } from './fault-helpers';

/**
 * Issue 13 item 3, the flood: 30,000 unauthenticated posts to random source names that do not
 * exist, plus oversized bodies (declared, and chunked without end) to unknown and real sources,
 * against a real API process. The process's memory grows by less than 64 MB, nothing is answered
 * with a 5xx, the flood runs (almost) no statements in Postgres, and a real alert right after it
 * still gets its ticket.
 */
const REQUESTS = 30_000;
const OVERSIZED_DECLARED = 400;
const OVERSIZED_CHUNKED = 200;
const CONCURRENCY = 32;
const CAP = 64 * 1024;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Resident set size of a process, from /proc (Linux). */
const rssBytes = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
};

/** Transactions Postgres counted for one database (every statement outside an explicit transaction is one). */
async function transactions(db: Knex, name: string): Promise<number> {
  const r = (await db.raw('select xact_commit + xact_rollback as n from pg_stat_database where datname = ?', [name])) as { rows: Array<{ n: string }> };
  return Number(r.rows[0]?.n ?? 0);
}

const randomName = (i: number) => `${Math.random().toString(36).slice(2, 12)}-${i}`;

type Kind = 'unknown' | 'ill-formed' | 'declared-big-unknown' | 'declared-big-real' | 'chunked-big-unknown' | 'chunked-big-real';

/** Which request the i-th is: mostly unknown names; the oversized ones spread through the flood. */
function kindOf(i: number): Kind {
  const declaredEvery = Math.floor(REQUESTS / OVERSIZED_DECLARED);
  const chunkedEvery = Math.floor(REQUESTS / OVERSIZED_CHUNKED);
  if (i % chunkedEvery === 7) return i % 2 ? 'chunked-big-unknown' : 'chunked-big-real';
  if (i % declaredEvery === 3) return i % 2 ? 'declared-big-unknown' : 'declared-big-real';
  return i % 50 === 0 ? 'ill-formed' : 'unknown';
}

/**
 * A chunked body that never ends, over a raw socket (the client keeps sending for as long as the
 * connection is open): resolves with the status line's code once the server has closed the
 * connection, or 0 if it did not within 10 s.
 */
function sendEndlessChunked(base: string, path: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    let head = '';
    const pump = setInterval(() => {
      if (socket.writable) socket.write(frame);
    }, 1);
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (d: Buffer) => {
      if (head.length < 200) head += d.toString('latin1');
    });
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server closed: expected
    socket.on('close', () => {
      clearInterval(pump);
      clearTimeout(giveUp);
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0));
    });
    socket.on('connect', () => {
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${lines.join('')}Transfer-Encoding: chunked\r\n\r\n`);
    });
  });
}

async function send(base: string, i: number, bigBody: string): Promise<{ kind: Kind; status: number }> {
  const kind = kindOf(i);
  const name = kind.endsWith('-real') ? SOURCE : kind === 'ill-formed' ? `Bad.Name_${i}` : randomName(i);
  const headers = { Authorization: `Bearer ${TOKEN}x`, 'Content-Type': 'application/json' };
  const url = `${base}/hooks/${encodeURIComponent(name)}`;
  if (kind.startsWith('chunked')) return { kind, status: await sendEndlessChunked(base, `/hooks/${encodeURIComponent(name)}`, headers) };
  const body = kind.startsWith('declared') ? bigBody : JSON.stringify(alert(i));
  const res = await fetch(url, { method: 'POST', headers, body });
  await res.arrayBuffer().catch(() => undefined);
  return { kind, status: res.status };
}

describe('fault: a flood of unknown source names and oversized bodies (issue 13 item 3)', () => {
  let t: TestDatabase;
  let prefix: string;
  let api: HubChild;

  beforeAll(async () => {
    t = await createTestDatabase();
    prefix = testQueuePrefix();
    await seedSource(t.db, process.env.HUB_SECRET_KEY ?? 'test-secret-key-test-secret-key-0123456789');
    api = await startHubProcess({
      role: 'api',
      env: hubEnv({
        databaseUrl: t.url,
        redisUrl: REDIS_URL,
        prefix,
        // A bounded old generation makes RSS follow live memory: without it V8 lets garbage pile up
        // to well over 100 MB before a full collection at 1,000+ requests a second (measured: RSS
        // +116–122 MB with every other assertion here passing). With it, memory that is really
        // kept per request (a leak) ends the process — `exitedWith` — or shows in RSS.
        extra: { HUB_MAX_BODY_BYTES: String(CAP), NODE_OPTIONS: '--max-old-space-size=96' },
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await deleteQueueKeys(REDIS_URL, prefix);
    await t?.drop();
  }, 30_000);

  it('item 3: 30,000 posts to unknown names + oversized bodies → RSS grows < 64 MB, no 5xx, no per-request queries; a real alert then gets its ticket', async () => {
    const bigBody = JSON.stringify({ ...alert('big'), message: 'x'.repeat(CAP * 2) });
    // Warm-up (JIT, pools, buffers), then the baseline.
    for (let i = 0; i < 300; i++) await send(api.url, i, bigBody);
    const baseline = rssBytes(api.pid);
    const xactBefore = await transactions(t.db, t.name);

    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(api.pid));
      } catch {
        // the process is gone: the assertions below say so
      }
    }, 100);
    const statuses = new Map<string, number>();
    const started = Date.now();
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = next++; i < REQUESTS; i = next++) {
            const { kind, status } = await send(api.url, i, bigBody);
            const key = `${kind} ${status}`;
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const floodMs = Date.now() - started;
    peak = Math.max(peak, rssBytes(api.pid));

    // Every answer is the one its request deserves, and none is a 5xx.
    const byStatus = Object.fromEntries([...statuses.entries()].sort());
    for (const key of statuses.keys()) {
      const [kind, status] = key.split(' ') as [Kind, string];
      // An endless chunked body must end with the connection closed (0 = closed before 10 s with no
      // status line): under the flood Node's own parser sometimes answers 400 or closes first,
      // which is still a bounded, non-5xx refusal (README "Rate limits and request bounds").
      const allowed = kind.startsWith('chunked') ? ['413', '400', '0'] : kind.includes('big') ? ['413'] : ['401'];
      expect({ key, allowed: allowed.includes(status) }).toEqual({ key, allowed: true });
    }
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    expect(api.exitedWith).toBeNull();


    // Unknown names cost no statement: what the API ran meanwhile is its relay and rules polling
    // (about two a second) and the name set's refresh, not one query per request (today's main: ~30,000).
    await new Promise((r) => setTimeout(r, 1500)); // backends report their counts about once a second
    const xacts = (await transactions(t.db, t.name)) - xactBefore;
    expect(xacts).toBeLessThan(10 * Math.ceil(floodMs / 1000) + 200);
    expect(floodMs).toBeLessThan(90_000);

    // A real alert right after: stored, and a worker opens its ticket.
    const stored = await post(api.url, alert('after-flood'));
    expect(stored.status).toBe(202);
    await startHubProcess({ role: 'worker', env: hubEnv({ databaseUrl: t.url, redisUrl: REDIS_URL, prefix }) });
    const ticketed = await waitFor(
      async () => (await t.db('alerts').whereIn('id', stored.alertIds).whereNotNull('ticket_id').first()) as { ticket_id: string } | undefined,
      30_000,
      'the ticket of the alert posted after the flood',
    );
    expect(await t.db('tickets').where({ id: ticketed.ticket_id }).first()).toBeDefined();

    // Last, so that a failure here still shows that everything above held.
    const grownMb = (peak - baseline) / (1024 * 1024);
    expect({ grownMb: Math.round(grownMb), byStatus }).toEqual({ grownMb: expect.any(Number) as number, byStatus });
    expect(grownMb).toBeLessThan(64);
  }, 180_000);
});
