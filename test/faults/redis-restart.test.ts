import type { Knex } from 'knex';
import { startTestHub, type TestHub } from '../helpers/hub';
import { hubEnv, liveHubProcesses, startHubProcess, stopAllHubProcesses } from '../helpers/processes';
import { freePort, PrivateRedis } from '../helpers/redis-server';
import { alert, pipelineInvariantViolations, post, seedSource, waitAllProcessed } from './fault-helpers';

/**
 * Redis killed (SIGKILL, nothing persisted: every queued job is gone) while 2,000 alerts are being
 * posted, then started again empty. Intake never depends on Redis (the receipts are the outbox);
 * the relay re-enqueues what was never enqueued, and receipts whose jobs died with Redis.
 */
describe('fault: Redis stopped and started again during 2,000 posted alerts', () => {
  let redis: PrivateRedis;
  let h: TestHub;
  let db: Knex;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    h = await startTestHub({ api: true, worker: false, env: { REDIS_URL: redis.url } });
    db = h.t.db;
    await seedSource(db, h.config.HUB_SECRET_KEY);
    await db.raw(`ALTER DATABASE "${h.t.name}" SET log_statement = 'all'`);
    await db.raw(`ALTER DATABASE "${h.t.name}" SET log_lock_waits = 'on'`);
    console.log('DBNAME', h.t.name);
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await redis.start().catch(() => undefined);
    await h.close();
    await redis.stop();
  }, 30_000);

  it('R-ALR-1, R-ALR-4: every accepted alert has exactly one ticket', async () => {
    await startHubProcess({
      role: 'worker',
      env: hubEnv({ databaseUrl: h.t.url, redisUrl: redis.url, prefix: h.config.HUB_QUEUE_PREFIX }),
    });
    const N = 2000;
    const PER = 50;
    const deliveries = Array.from({ length: N / PER }, (_, d) => Array.from({ length: PER }, (_, i) => alert(d * PER + i)));
    const statuses: number[] = [];
    let next = 0;
    let sent = 0;
    // Four senders post batches back to back; Redis dies after a quarter and returns at three quarters.
    const outage = (async () => {
      while (sent < deliveries.length / 4) await new Promise((r) => setTimeout(r, 10));
      console.log('STOP', new Date().toISOString());
      await redis.stop();
      while (sent < (3 * deliveries.length) / 4) await new Promise((r) => setTimeout(r, 10));
      await redis.start();
      console.log('START', new Date().toISOString());
    })();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < deliveries.length) {
          const body = deliveries[next++]!;
          const r = await post(h.url, body);
          statuses.push(r.status);
          sent++;
        }
      }),
    );
    await outage;
    expect(statuses).toHaveLength(deliveries.length);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);

    await waitAllProcessed(db, 30_000, N).catch(async (e) => {
      console.log(JSON.stringify(await db('alert_receipts').whereNull('processed_at').select('id','received_at','enqueued_at','attempts')));
      require('fs').writeFileSync('/tmp/rr-worker.log', liveHubProcesses()[0]?.output() ?? '');
      const act = await db.raw("select pid, state, wait_event_type, wait_event, xact_start, now() - xact_start as age, left(query, 120) as q, backend_xid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()");
      require('fs').writeFileSync('/tmp/rr-activity.json', JSON.stringify(act.rows, null, 1));
      const locks = await db.raw("select l.pid, l.locktype, l.mode, l.granted, l.relation::regclass::text as rel, l.transactionid::text as xid from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.datname = current_database() and l.locktype in ('transactionid','tuple','relation') and l.pid <> pg_backend_pid()");
      require('fs').writeFileSync('/tmp/rr-locks.json', JSON.stringify(locks.rows, null, 1));
      throw e;
    });
    const tickets = (await db('tickets').select('dedup_key', 'occurrences')) as Array<{ dedup_key: string; occurrences: number }>;
    expect(tickets).toHaveLength(N);
    expect(tickets.filter((t) => t.occurrences !== 1)).toEqual([]);
    expect(await pipelineInvariantViolations(db)).toEqual([]);
  }, 58_000);
});
