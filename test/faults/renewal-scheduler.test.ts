import request from 'supertest';
import { Client } from 'pg';
import { createTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/hub';
import { spawnScript, stopAllHubProcesses, type HubChild } from '../helpers/processes';
import { createContract, seedCompany } from '../integration/contracts/fixtures';

/**
 * R-REN-15 on real processes: the renewal scheduler's run (`processRenewalJob`, exactly what the
 * renewals worker runs) in two processes at once, and in a process SIGKILLed half-way through
 * its list and then run again. Postgres decides (renewal_applications row lock + applied_at), so
 * every scheduled renewal takes effect once. API "today" is 2025-06-15.
 */
describe('fault: renewal scheduler in concurrent and killed processes', () => {
  let t: TestApp;
  let companyId: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-06-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
  }, 30_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await t.close();
  }, 30_000);

  const run = (day: string, kind: 'daily' | 'catchup' = 'daily', barrier?: number): HubChild =>
    spawnScript('test/faults/scripts/renewal-run.ts', {
      DATABASE_URL: t.t.url,
      RENEWAL_DAY: day,
      RENEWAL_KIND: kind,
      ...(barrier ? { RENEWAL_BARRIER: String(barrier) } : {}),
    });

  /** The run's result line; fails with the process's output unless it exited 0. */
  async function result(
    p: HubChild,
  ): Promise<{
    applied: string[];
    skipped: string[];
    autoRenewed: Array<{ originalId: string; renewalId: string }>;
    failed: unknown[];
  }> {
    const exit = await p.exited;
    const line = p.logs().find((l) => 'result' in l);
    if (exit.code !== 0 || !line) throw new Error(`renewal run exited ${JSON.stringify(exit)}:\n${p.output()}`);
    return line.result as Awaited<ReturnType<typeof result>>;
  }

  /** Contracts for 2025 renewed from `startDate` (scheduled: the original is deactivated on that date). */
  async function scheduledRenewals(
    n: number,
    startDate: string,
  ): Promise<Array<{ originalId: string; renewalId: string }>> {
    const out = [];
    for (let i = 0; i < n; i++) {
      const c = await createContract(t, { companyId, startDate: '2025-01-01', endDate: '2025-12-31' });
      const res = await request(t.app)
        .post(`/api/v1/contracts/${c.id}/renewal`)
        .set('Authorization', t.admin)
        .send({ startDate });
      if (res.status !== 201) throw new Error(`renewal: ${res.status} ${JSON.stringify(res.body)}`);
      expect(res.body.application).toMatchObject({ scheduled: true, deactivatesOriginal: true });
      out.push({ originalId: c.id, renewalId: String(res.body.renewal.id) });
    }
    return out;
  }

  /** Each renewal applied exactly once: one application audit row, applied_at set, the original inactive. */
  async function expectAppliedOnce(renewals: Array<{ originalId: string; renewalId: string }>): Promise<void> {
    for (const r of renewals) {
      const audits = await t.db('audit_log').where({ action: 'contract.renewal.apply', entity_id: r.renewalId });
      expect({ renewal: r.renewalId, audits: audits.length }).toEqual({ renewal: r.renewalId, audits: 1 });
      const app = (await t.db('renewal_applications').where('renewal_contract_id', r.renewalId).first()) as {
        applied_at: Date | null;
        applied_by: string;
      };
      expect(app.applied_at).not.toBeNull();
      expect(app.applied_by).toBe('scheduler');
      expect(await t.db('contracts').where('id', r.originalId).first('status')).toEqual({ status: 'inactive' });
    }
  }

  it('R-REN-15: two scheduler processes at once apply each scheduled renewal once, and auto-renew once', async () => {
    const renewals = await scheduledRenewals(6, '2025-09-01');
    const auto = await createContract(t, {
      companyId,
      periodType: 'quarterly',
      startDate: '2025-07-01',
      endDate: '2025-09-30',
      autoRenew: true,
      autoRenewDaysBefore: 30,
    });

    // Both processes wait at a barrier (an advisory lock the test holds) and start together.
    const BARRIER = 7215;
    const gate = new Client({ connectionString: t.t.url });
    await gate.connect();
    let results: Array<Awaited<ReturnType<typeof result>>>;
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [BARRIER]);
      const runs = [run('2025-09-01', 'daily', BARRIER), run('2025-09-01', 'catchup', BARRIER)];
      await waitFor(
        async () => {
          const r = await gate.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted",
            [BARRIER],
          );
          return r.rows[0]?.n === 2;
        },
        20_000,
        'both scheduler processes at the barrier',
      );
      await gate.query('SELECT pg_advisory_unlock($1)', [BARRIER]);
      results = await Promise.all(runs.map(result));
    } finally {
      await gate.end().catch(() => undefined);
    }
    const [a, b] = results;
    if (!a || !b) throw new Error('two results expected');
    expect([...a.failed, ...b.failed]).toEqual([]);
    const ids = renewals.map((r) => r.renewalId).sort();
    // Between them, every renewal applied, none by both.
    expect([...a.applied, ...b.applied].sort()).toEqual(ids);
    await expectAppliedOnce(renewals);
    // The auto-renewal: one renewal contract, one audit row, one note, whichever process made it.
    expect([...a.autoRenewed, ...b.autoRenewed].filter((x) => x.originalId === auto.id)).toHaveLength(1);
    const made = await t.db('contracts').where('renewal_of_id', auto.id);
    expect(made).toHaveLength(1);
    expect(await t.db('audit_log').where({ action: 'contract.renew', entity_id: String(made[0]?.id) })).toHaveLength(1);
    expect(await t.db('contract_notes').where({ contract_id: auto.id, kind: 'renewal' })).toHaveLength(1);

    // A third run the same day finds nothing left to do.
    const again = await result(run('2025-09-01'));
    expect(again.applied).toEqual([]);
    expect(again.autoRenewed).toEqual([]);
  }, 55_000);

  it('R-REN-15: a scheduler process SIGKILLed mid-way, then run again → every renewal applied once, none half-applied', async () => {
    const renewals = await scheduledRenewals(5, '2025-10-01');
    // Hold the third original's row: the run applies the first two, then waits inside the third
    // application's transaction (application row locked, deactivating the original).
    const blocker = new Client({ connectionString: t.t.url });
    const monitor = new Client({ connectionString: t.t.url });
    await blocker.connect();
    await monitor.connect();
    try {
      const { rows } = await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const blockerPid = rows[0]!.pid;
      await blocker.query('BEGIN');
      await blocker.query('SELECT id FROM contracts WHERE id = $1 FOR UPDATE', [renewals[2]!.originalId]);

      const victim = run('2025-10-01');
      const waiting = await waitFor(
        async () => {
          const r = await monitor.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
            [blockerPid],
          );
          return r.rows[0]?.pid;
        },
        20_000,
        'the scheduler process to block on the third renewal',
      );
      victim.kill('SIGKILL');
      expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
      await blocker.query('ROLLBACK');
      await waitFor(
        async () =>
          ((await monitor.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [waiting])).rowCount ?? 0) === 0,
        10_000,
        "the killed run's backend to end",
      );

      // The first two took effect; the third rolled back whole; the rest were never reached.
      await expectAppliedOnce(renewals.slice(0, 2));
      for (const r of renewals.slice(2)) {
        expect(
          await t.db('renewal_applications').where('renewal_contract_id', r.renewalId).first('applied_at'),
        ).toEqual({ applied_at: null });
        expect(await t.db('contracts').where('id', r.originalId).first('status')).toEqual({ status: 'active' });
        expect(
          await t.db('audit_log').where({ action: 'contract.renewal.apply', entity_id: r.renewalId }),
        ).toHaveLength(0);
      }

      const rerun = await result(run('2025-10-01'));
      expect(rerun.applied.sort()).toEqual(
        renewals
          .slice(2)
          .map((r) => r.renewalId)
          .sort(),
      );
      await expectAppliedOnce(renewals);
    } finally {
      await blocker.end().catch(() => undefined);
      await monitor.end().catch(() => undefined);
    }
  }, 55_000);
});
