import { SCHEDULES, UPKEEP_JOBS, cronPattern, jobCatalog } from './catalog';
import { UPKEEP_HANDLERS } from './upkeep.worker';

/** Issue 14 item 4: a periodic job is one catalog entry plus one handler; the schedules follow from the catalog. */
describe('the periodic jobs of workers/catalog.ts', () => {
  const config = { HUB_UPKEEP_INTERVAL_SECONDS: 60, HUB_PSA_POLL_INTERVAL_SECONDS: 300, HUB_RETENTION_INTERVAL_SECONDS: 3600, HUB_RENEWAL_TIME: '00:15', HUB_RENEWAL_TIMEZONE: 'Europe/Berlin' };

  it('every upkeep job has a handler, a scheduler upkeep-<name> repeating at its interval, and a payload the queue accepts', () => {
    expect(Object.keys(UPKEEP_HANDLERS).sort()).toEqual(Object.keys(UPKEEP_JOBS).sort());
    expect(SCHEDULES.upkeep.map((s) => ({ id: s.id, name: s.name, data: s.data, repeat: s.repeat(config) }))).toEqual([
      { id: 'upkeep-stale-tickets', name: 'stale-tickets', data: { v: 1, kind: 'stale-tickets' }, repeat: { every: 60_000 } },
      { id: 'upkeep-window-ends', name: 'window-ends', data: { v: 1, kind: 'window-ends' }, repeat: { every: 60_000 } },
      // R-TKT-2 (issue 15): SLA breaches recorded as they happen.
      { id: 'upkeep-sla-breaches', name: 'sla-breaches', data: { v: 1, kind: 'sla-breaches' }, repeat: { every: 60_000 } },
      { id: 'upkeep-psa-status-poll', name: 'psa-status-poll', data: { v: 1, kind: 'psa-status-poll' }, repeat: { every: 300_000 } },
      // Issue 19: retention, hourly by default.
      { id: 'upkeep-retention', name: 'retention', data: { v: 1, kind: 'retention' }, repeat: { every: 3_600_000 } },
    ]);
    for (const s of SCHEDULES.upkeep) expect(jobCatalog.upkeep.payload.safeParse(s.data).success).toBe(true);
  });

  it('the daily renewal run is a cron at HUB_RENEWAL_TIME in HUB_RENEWAL_TIMEZONE, with a catch-up run; the alerts queue has no schedule', () => {
    expect(SCHEDULES.renewals.map((s) => ({ id: s.id, repeat: s.repeat(config), catchUp: s.catchUp }))).toEqual([
      { id: 'renewals-daily', repeat: { pattern: cronPattern('00:15'), tz: 'Europe/Berlin' }, catchUp: { name: 'catchup', data: { v: 1, kind: 'catchup' } } },
    ]);
    expect(cronPattern('00:15')).toBe('15 0 * * *');
    expect(SCHEDULES.alerts).toEqual([]);
  });
});
