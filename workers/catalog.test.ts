import { jobCatalog, jobOptions, RETENTION, retryBudgetMs } from './catalog';

describe('job catalog (issue 13 item 2: retry budget, stalls and retention set deliberately)', () => {
  it('the alerts retry budget is the sum of the backoff delays between attempts: 8 attempts from 0.5 s ≈ 64 s', () => {
    expect(retryBudgetMs('alerts')).toBe(500 + 1000 + 2000 + 4000 + 8000 + 16000 + 32000);
    expect(retryBudgetMs('alerts', { attempts: 3, backoffMs: 500 })).toBe(1500);
    expect(retryBudgetMs('alerts', { attempts: 1 })).toBe(0);
  });

  it('job options carry the overridden budget and bounded retention of failed jobs', () => {
    expect(jobOptions('alerts', { attempts: 3, backoffMs: 200 })).toEqual({
      attempts: 3,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    });
    expect(jobOptions('renewals').attempts).toBe(jobCatalog.renewals.attempts);
    expect(RETENTION.removeOnFail.count).toBeGreaterThan(0);
  });

  it('stalled jobs are recovered up to twice (alerts, renewals), upkeep once (BullMQ default)', () => {
    expect([jobCatalog.alerts.maxStalledCount, jobCatalog.renewals.maxStalledCount, jobCatalog.upkeep.maxStalledCount]).toEqual([2, 2, 1]);
  });
});
