import type { Knex } from 'knex';
import request from 'supertest';
import { createApp } from '../../../api/app';
import { parseEnv } from '../../../config/env';
import { connectionLimitsOf, createDb } from '../../../db/connection';
import { isDatabaseBusy } from '../../../db/pg-errors';
import { createLogger } from '../../../lib/logger';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource } from '../../helpers/seed';

/**
 * Issue 13 item 6: nothing hangs without a limit. The hub's connections carry statement, lock and
 * idle-in-transaction timeouts and a pool acquire timeout; the intake's grouped insert has a
 * bounded waiting line; a transaction that holds a lock elsewhere (a stuck worker) blocks a webhook
 * for no longer than the lock timeout, and the sender is told to come back (503 + Retry-After).
 */
const TOKEN = 'generic-source-token-0123456789';
const LOCK_TIMEOUT_MS = 800;
let h: TestApp;
/** The hub's pool as main/start.ts builds it: with the configured limits. */
let hubDb: Knex;
/** Another session: the "stuck worker" that holds locks. */
let stuck: Knex;
let app: TestApp['app'];

const env = {
  DATABASE_STATEMENT_TIMEOUT_MS: '5000',
  DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '700',
  DATABASE_ACQUIRE_TIMEOUT_MS: '500',
  HUB_INTAKE_QUEUE_MAX: '2',
};

const alert = (id: string) => ({
  alertId: id,
  state: 'firing',
  severity: 'high',
  category: 'disk',
  title: 'Disk almost full',
  message: '95% used',
  device: { id: 'dev-1', hostname: 'srv1', site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00Z',
});
const hook = (id: string) =>
  request(app).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(alert(id)));

beforeAll(async () => {
  h = await createTestApp({ env });
  await createSource(h.db, h.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  hubDb = createDb(h.t.url, 4, connectionLimitsOf(h.deps.config));
  stuck = createDb(h.t.url, 2);
  app = createApp({ ...h.deps, db: hubDb, logger: createLogger('silent'), services: {} });
}, 30_000);
afterAll(async () => {
  await stuck?.destroy();
  await hubDb?.destroy();
  await h?.close();
});

/** Runs `f` while another session holds an exclusive lock on `alerts` (what the intake inserts into). */
async function whileAlertsLocked<T>(f: () => Promise<T>): Promise<T> {
  const trx = await stuck.transaction();
  try {
    await trx.raw('LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE');
    return await f();
  } finally {
    await trx.rollback();
  }
}

describe('issue 13 item 6: nothing hangs without a limit', () => {
  it('item 6: the configuration reaches every connection of the hub pool (defaults from config/env.ts)', async () => {
    const settings = (await hubDb.raw(
      "select current_setting('statement_timeout') as st, current_setting('lock_timeout') as lt, current_setting('idle_in_transaction_session_timeout') as it",
    )) as { rows: Array<{ st: string; lt: string; it: string }> };
    expect(settings.rows[0]).toEqual({ st: '5s', lt: '800ms', it: '700ms' });
    const defaults = parseEnv({ DATABASE_URL: 'postgres://x@h/d', REDIS_URL: 'redis://h:6379', HUB_SECRET_KEY: 'k'.repeat(32) });
    expect(connectionLimitsOf(defaults)).toEqual({ statementTimeoutMs: 30_000, lockTimeoutMs: 10_000, idleInTransactionTimeoutMs: 60_000, acquireTimeoutMs: 10_000 });
  });

  it('item 6: a stuck transaction holding a lock blocks a webhook for no longer than lock_timeout: 503 + Retry-After, then 202 once released', async () => {
    const res = await whileAlertsLocked(async () => {
      const started = Date.now();
      const r = await hook('locked-1');
      return { r, ms: Date.now() - started };
    });
    expect(res.r.status).toBe(503);
    expect(Number(res.r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // One lock_timeout (not one per delivery of the group, not forever), plus a loaded machine's slack.
    expect(res.ms).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS - 50);
    expect(res.ms).toBeLessThan(LOCK_TIMEOUT_MS + 3000);
    expect(await h.db('alerts').where({ source_alert_id: 'locked-1' }).first()).toBeUndefined();
    expect((await hook('after-lock')).status).toBe(202);
  });

  it('item 6: the intake batcher holds at most HUB_INTAKE_QUEUE_MAX waiting deliveries; the next gets 503 + Retry-After at once', async () => {
    const { inFlight, refused, refusedMs } = await whileAlertsLocked(async () => {
      // Two statements in flight (blocked by the lock) and two waiting fill the line…
      const inFlight = ['q1', 'q2', 'q3', 'q4'].map((id) => hook(id).then((r) => r));
      await new Promise((r) => setTimeout(r, 250));
      // …so the fifth is refused without waiting for the lock.
      const started = Date.now();
      const refused = await hook('q5');
      const refusedMs = Date.now() - started;
      return { inFlight, refused, refusedMs };
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('NOT_READY');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refusedMs).toBeLessThan(LOCK_TIMEOUT_MS);
    // The four in the line were answered too — each with 202 or, if the lock outlasted them, 503; none hangs.
    const answers = await Promise.all(inFlight);
    for (const a of answers) expect([202, 503]).toContain(a.status);
  });

  it('item 6: a transaction left idle is ended after idle_in_transaction_session_timeout, releasing its locks', async () => {
    const trx = await hubDb.transaction();
    await trx.raw('LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE');
    // Forgotten: nobody commits. Another session can take the lock once Postgres ended the session.
    await new Promise((r) => setTimeout(r, 1500));
    const other = await stuck.transaction();
    try {
      await other.raw("SET LOCAL lock_timeout = '2s'");
      await expect(other.raw('LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE')).resolves.toBeDefined();
    } finally {
      await other.rollback();
      await trx.rollback().catch(() => undefined);
    }
  });

  it('item 6: waiting for a pool connection ends after the acquire timeout with an error the API maps to 503', async () => {
    const tiny = createDb(h.t.url, 1, connectionLimitsOf(h.deps.config));
    try {
      const holder = await tiny.transaction();
      const started = Date.now();
      const err = await tiny.raw('select 1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(500 + 2000);
      expect(isDatabaseBusy(err)).toBe(true);
      await holder.rollback();
    } finally {
      await tiny.destroy();
    }
  });

  it("the pool's own warnings (an acquire that timed out) go to the given logger, never to console", async () => {
    const warnings: string[] = [];
    const consoleLog = jest.spyOn(console, 'log');
    const tiny = createDb(h.t.url, 1, connectionLimitsOf(h.deps.config), { warn: (m: unknown) => warnings.push(String(m)) });
    try {
      const holder = await tiny.transaction();
      await tiny.raw('select 1').catch(() => undefined);
      await holder.rollback();
      expect(warnings.some((w) => w.includes('Acquire connection error'))).toBe(true);
      expect(consoleLog).not.toHaveBeenCalled();
    } finally {
      consoleLog.mockRestore();
      await tiny.destroy();
    }
  });
});
