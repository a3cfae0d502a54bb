import { Redis } from 'ioredis';
import { startTestHub, waitFor, type TestHub } from '../helpers/hub';
import { freePort, PrivateRedis } from '../helpers/redis-server';

/**
 * Issue 13 item 5: job schedulers live in Redis. A Redis that loses its data (flushed here; a
 * restart without persistence or a failover to an empty replica is the same) lost them too, and
 * before this fix only a worker restart brought them back: no stale-ticket upkeep, no
 * maintenance-window ends, no daily renewal run. The relay's detection of a lost queue (its marker
 * key) now re-creates them. Upkeep runs every 2 s here (HUB_UPKEEP_INTERVAL_SECONDS).
 */
describe('fault: Redis flushed under a running worker (issue 13 item 5)', () => {
  let redis: PrivateRedis;
  let h: TestHub;
  let cli: Redis;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    cli = new Redis(redis.url);
    h = await startTestHub({
      api: false,
      worker: true,
      env: { REDIS_URL: redis.url, HUB_UPKEEP_INTERVAL_SECONDS: '2', HUB_RENEWAL_TIME: '03:30', HUB_RENEWAL_TIMEZONE: 'Europe/Berlin' },
    });
  }, 30_000);
  afterAll(async () => {
    await h.close();
    cli.disconnect();
    await redis.dispose();
  }, 30_000);

  const schedulers = async () => ({
    upkeep: (await h.hub.queues.upkeep.getJobSchedulers()).map((s) => ({ key: s.key, every: s.every })).sort((a, b) => a.key.localeCompare(b.key)),
    renewals: (await h.hub.queues.renewals.getJobSchedulers()).map((s) => ({ key: s.key, pattern: s.pattern, tz: s.tz, next: s.next })),
  });
  /** Jobs of `queue` named `name` that finished after `since` (ms). */
  const finishedSince = async (queue: 'upkeep' | 'renewals', name: string, since: number) =>
    (await h.hub.queues[queue].getJobs(['completed'])).filter((j) => j.name === name && (j.finishedOn ?? 0) > since);

  it('issue 13 item 5 (c): after FLUSHALL the schedulers exist again, upkeep runs on its interval, the daily renewal run keeps its time, a catch-up run is made', async () => {
    const before = await schedulers();
    expect(before.upkeep).toEqual([
      { key: 'upkeep-psa-status-poll', every: 300_000 },
      { key: 'upkeep-retention', every: 3_600_000 },
      { key: 'upkeep-sla-breaches', every: 2000 },
      { key: 'upkeep-stale-tickets', every: 2000 },
      { key: 'upkeep-window-ends', every: 2000 },
    ]);
    expect(before.renewals).toHaveLength(1);
    expect(before.renewals[0]).toMatchObject({ key: 'renewals-daily', pattern: '30 3 * * *', tz: 'Europe/Berlin' });

    expect(await cli.flushall()).toBe('OK');
    const flushedAt = Date.now();
    expect(await h.hub.queues.upkeep.getJobSchedulersCount()).toBe(0);

    // The relay sweeps every second (HUB_RELAY_INTERVAL_SECONDS=1 in tests) and notices the loss.
    const after = await waitFor(
      async () => {
        const s = await schedulers();
        return s.upkeep.length === 5 && s.renewals.length === 1 ? s : null;
      },
      10_000,
      'the job schedulers to be re-created',
    );
    expect(after.upkeep).toEqual(before.upkeep);
    // Same daily run at the same instant as before the loss: nothing skipped, nothing moved.
    expect(after.renewals).toEqual(before.renewals);

    // On time: both upkeep jobs run within their interval (2 s) plus scheduling slack.
    await waitFor(async () => (await finishedSince('upkeep', 'stale-tickets', flushedAt)).length > 0, 8000, 'a stale-tickets run after the flush');
    await waitFor(async () => (await finishedSince('upkeep', 'window-ends', flushedAt)).length > 0, 8000, 'a window-ends run after the flush');
    // A daily run lost with Redis is caught up at once.
    await waitFor(async () => (await finishedSince('renewals', 'catchup', flushedAt)).length > 0, 8000, 'a renewals catch-up run after the flush');
  }, 60_000);
});
