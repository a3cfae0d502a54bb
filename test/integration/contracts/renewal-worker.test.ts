import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import request from 'supertest';
import { createDb } from '../../../db/connection';
import { createLogger } from '../../../lib/logger';
import { cronPattern, DAILY_SCHEDULER_ID, processRenewalJob, scheduleRenewals } from '../../../workers/renewal.worker';
import { createTestApp, type TestApp } from '../../helpers/app';
import { testQueuePrefix } from '../../helpers/harness';
import { createContract, seedCompany, seedDevice } from './fixtures';

/** R-REN-15: scheduled renewals applied by the renewal worker, exactly once; auto-renewals. API "today" is 2025-06-15. */
describe('renewal worker', () => {
  let t: TestApp;
  let companyId: string;
  const logger = createLogger('silent');
  const pools: Knex[] = [];

  const at = (day: string) => () => new Date(`${day}T06:00:00Z`);
  const run = (db: Knex, day: string, kind: 'daily' | 'catchup' = 'daily') => processRenewalJob({ db, logger, now: at(day) }, { v: 1, kind });
  const pool = () => {
    const db = createDb(t.t.url, 3);
    pools.push(db);
    return db;
  };

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-06-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
  });
  afterAll(async () => {
    for (const p of pools) await p.destroy();
    await t.close();
  });

  const renew = (id: string, body: Record<string, unknown> = {}) => request(t.app).post(`/api/v1/contracts/${id}/renewal`).set('Authorization', t.admin).send(body);
  const contract = async (id: string) => (await t.db('contracts').where('id', id).first()) as { status: string; end_date: string };
  const applyAudits = async (renewalId: string) => t.db('audit_log').where({ action: 'contract.renewal.apply', entity_id: renewalId });

  /** A contract renewed from 1 Sep (while "today" is 15 June): scheduled, the original ends early. */
  async function scheduledRenewal(): Promise<{ originalId: string; renewalId: string }> {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const res = await renew(c.id, { startDate: '2025-09-01' });
    expect(res.status).toBe(201);
    expect(res.body.application).toMatchObject({ scheduled: true, deactivatesOriginal: true });
    return { originalId: c.id, renewalId: res.body.renewal.id as string };
  }

  it('R-REN-15: nothing happens before the date; on the date the original is deactivated', async () => {
    const { originalId, renewalId } = await scheduledRenewal();
    const early = await run(t.db, '2025-08-31');
    expect(early.applied).not.toContain(renewalId);
    expect(await contract(originalId)).toMatchObject({ status: 'active', end_date: '2025-08-31' });
    const due = await run(t.db, '2025-09-01');
    expect(due.applied).toContain(renewalId);
    expect(await contract(originalId)).toMatchObject({ status: 'inactive', end_date: '2025-08-31' });
    expect(await t.db('renewal_applications').where('renewal_contract_id', renewalId).first()).toMatchObject({ applied_by: 'scheduler' });
  });

  it('R-REN-15: two workers running at once (separate pools) apply a renewal exactly once', async () => {
    const { originalId, renewalId } = await scheduledRenewal();
    const [a, b] = await Promise.all([run(pool(), '2025-09-02'), run(pool(), '2025-09-02', 'catchup')]);
    const appliedBy = [a, b].filter((r) => r.applied.includes(renewalId));
    expect(appliedBy).toHaveLength(1);
    expect(await applyAudits(renewalId)).toHaveLength(1);
    expect((await contract(originalId)).status).toBe('inactive');
    const again = await run(pool(), '2025-09-03');
    expect(again.applied).not.toContain(renewalId);
    expect(await applyAudits(renewalId)).toHaveLength(1);
  });

  it('R-REN-15: after a crash mid-apply (row locked, effects half-written, then rolled back) the next run applies it once', async () => {
    const { originalId, renewalId } = await scheduledRenewal();
    const crashing = pool();
    const trx = await crashing.transaction();
    // The "crashed" worker holds the application's row lock and has written half of the effects.
    await trx('renewal_applications').where('renewal_contract_id', renewalId).forUpdate().first();
    await trx('contracts').where('id', originalId).update({ status: 'inactive' });

    const whileLocked = await run(pool(), '2025-09-01');
    expect(whileLocked.applied).not.toContain(renewalId);
    expect(whileLocked.skipped).toContain(renewalId);

    await trx.rollback(); // the crash: its connection goes away, its transaction with it
    expect((await contract(originalId)).status).toBe('active');
    expect((await t.db('renewal_applications').where('renewal_contract_id', renewalId).first()).applied_at).toBeNull();

    const recovered = await run(pool(), '2025-09-01');
    expect(recovered.applied).toContain(renewalId);
    expect((await contract(originalId)).status).toBe('inactive');
    await run(pool(), '2025-09-01');
    expect(await applyAudits(renewalId)).toHaveLength(1);
  });

  it('R-REN-15: the "apply" job applies one renewal when it is due, and only then', async () => {
    const { originalId, renewalId } = await scheduledRenewal();
    const apply = (day: string) => processRenewalJob({ db: t.db, logger, now: at(day) }, { v: 1, kind: 'apply', renewalContractId: renewalId });
    expect((await apply('2025-08-15')).skipped).toEqual([renewalId]);
    expect((await contract(originalId)).status).toBe('active');
    expect((await apply('2025-09-01')).applied).toEqual([renewalId]);
    expect((await apply('2025-09-01')).applied).toEqual([]);
    expect((await contract(originalId)).status).toBe('inactive');
  });

  it('R-REN-10: device links of a scheduled renewal are dated at once, so devices move on the date without the worker', async () => {
    const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
    const device = await seedDevice(t.db, companyId);
    await request(t.app).put(`/api/v1/devices/${device}/contract`).set('Authorization', t.admin).send({ contractId: c.id, from: '2025-01-01' });
    const res = await renew(c.id, { startDate: '2025-10-01' });
    const linksNow = await t.db('device_contract_links').where('device_id', device).orderBy('valid_from');
    expect(linksNow.map((l: { contract_id: string; valid_from: string; valid_to: string | null }) => [String(l.contract_id), l.valid_from, l.valid_to])).toEqual([
      [c.id, '2025-01-01', '2025-09-30'],
      [res.body.renewal.id, '2025-10-01', null],
    ]);
  });

  it('R-REN-15: auto-renewal creates the renewal with the wizard defaults when the end date is within the notice days, once', async () => {
    const c = await createContract(t, { companyId, periodType: 'quarterly', startDate: '2025-07-01', endDate: '2025-09-30', autoRenew: true, autoRenewDaysBefore: 30 });
    const notYet = await createContract(t, { companyId, startDate: '2025-07-01', endDate: '2025-12-31', autoRenew: true, autoRenewDaysBefore: 30 });
    const early = await run(t.db, '2025-08-30');
    expect(early.autoRenewed.map((a) => a.originalId)).not.toContain(c.id);

    const [first, second] = await Promise.all([run(pool(), '2025-09-05'), run(pool(), '2025-09-05')]);
    const renewed = [...first.autoRenewed, ...second.autoRenewed].filter((a) => a.originalId === c.id);
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({ startDate: '2025-10-01', scheduled: true });
    expect([...first.autoRenewed, ...second.autoRenewed].map((a) => a.originalId)).not.toContain(notYet.id);
    const renewal = await t.db('contracts').where('renewal_of_id', c.id);
    expect(renewal).toHaveLength(1);
    expect(renewal[0]).toMatchObject({ name: `Renewal of ${String(c.name)}`, start_date: '2025-10-01', end_date: '2025-12-31', auto_renew: true });
    const audit = await t.db('audit_log').where({ action: 'contract.renew', entity_id: String(renewal[0]?.id) });
    expect(audit).toEqual([expect.objectContaining({ actor: 'scheduler' })]);
    expect(await t.db('contract_notes').where({ contract_id: c.id, kind: 'renewal' })).toHaveLength(1);

    const later = await run(t.db, '2025-09-06');
    expect(later.autoRenewed.map((a) => a.originalId)).not.toContain(c.id);
  });

  it('R-REN-12: an auto-renewal never takes the default away from another contract (keeps "existing")', async () => {
    const co = await seedCompany(t.db);
    const c = await createContract(t, { companyId: co, startDate: '2025-07-01', endDate: '2025-09-30', isDefaultServiceDesk: true, autoRenew: true, autoRenewDaysBefore: 10 });
    const other = await createContract(t, { companyId: co, startDate: '2025-10-01', endDate: '2026-03-31', isDefaultServiceDesk: true });
    const r = await run(t.db, '2025-09-25');
    const mine = r.autoRenewed.find((a) => a.originalId === c.id);
    expect(mine).toBeDefined();
    expect(await t.db('contracts').where('id', mine?.renewalId).first()).toMatchObject({ is_default_service_desk: false });
    expect(await t.db('contracts').where('id', other.id).first()).toMatchObject({ is_default_service_desk: true });
  });

  it('refuses an invalid payload without retrying (UnrecoverableError)', async () => {
    await expect(processRenewalJob({ db: t.db, logger, now: at('2025-09-01') }, { v: 2, kind: 'daily' })).rejects.toMatchObject({ name: 'UnrecoverableError' });
    await expect(processRenewalJob({ db: t.db, logger, now: at('2025-09-01') }, { v: 1, kind: 'apply' })).rejects.toMatchObject({ name: 'UnrecoverableError' });
  });

  it.each([
    ['00:15', '15 0 * * *'],
    ['23:59', '59 23 * * *'],
    ['07:00', '0 7 * * *'],
  ])('the daily run at %s is the cron pattern %s', (time, pattern) => {
    expect(cronPattern(time)).toBe(pattern);
  });

  it('refuses a bad time of day', () => {
    expect(() => cronPattern('24:00')).toThrow('HH:MM');
    expect(() => cronPattern('7:00')).toThrow('HH:MM');
  });

  it('R-REN-15: scheduleRenewals upserts the daily job scheduler and adds one catch-up run', async () => {
    const queue = new Queue('renewals', { connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, prefix: testQueuePrefix() });
    try {
      await scheduleRenewals(queue, { time: '00:15', timezone: 'Europe/Berlin' });
      await scheduleRenewals(queue, { time: '01:30', timezone: 'Europe/Berlin' });
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ key: DAILY_SCHEDULER_ID, pattern: '30 1 * * *', tz: 'Europe/Berlin' })]);
      const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(jobs.filter((j) => j.name === 'catchup').map((j) => j.data)).toEqual([
        { v: 1, kind: 'catchup' },
        { v: 1, kind: 'catchup' },
      ]);
      expect(jobs.filter((j) => j.name === 'daily').map((j) => j.data)).toEqual([{ v: 1, kind: 'daily' }]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
