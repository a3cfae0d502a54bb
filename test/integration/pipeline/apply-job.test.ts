import type { Knex } from 'knex';
import { applyReceiptJob, recordFailedAttempt } from '../../../app/alerts/apply-job';
import type { PipelineDeps } from '../../../app/alerts/deps';
import { storeDelivery } from '../../../db/queries/inbox';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { normalizeGeneric } from '../../../plugins/generic/normalize';
import { decide } from '../../../rules/engine/decide';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource, seedWorld } from '../../helpers/seed';
import { defaultRuleset } from '../maintenance/maintenance-helpers';

/**
 * The use case behind one alerts job (app/alerts/apply-job.ts, issue 14 item 1): the batch in one
 * transaction, and — when Postgres refuses one receipt's data for good — the receipts one at a
 * time in savepoints, so only the bad one fails. The bad receipt's error is a real Postgres data
 * error (22P02), raised inside the job's transaction by the maintenance-window step.
 */

let t: TestDatabase;
let source: { id: string; name: string };
const NOW = new Date('2026-03-10T10:05:00Z');

beforeAll(async () => {
  t = await createTestDatabase();
  source = { name: 'rmm', ...(await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'generic-source-token-0123456789' } })) };
  await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
});
afterAll(async () => t.drop());
beforeEach(async () => {
  await t.db.raw('TRUNCATE tickets, alerts, alert_receipts, deliveries RESTART IDENTITY CASCADE');
});

async function store(titles: string[]): Promise<string[]> {
  const payload = titles.map((title, i) => ({
    alertId: `a-${title}`,
    state: 'firing',
    severity: 'high',
    category: 'disk',
    title,
    message: null,
    device: { id: `dev-${i}`, hostname: `host-${i}`, site: 'acme-hq' },
    occurredAt: '2026-03-10T10:00:00Z',
  }));
  const normalized = normalizeGeneric(payload, { config: {}, sourceName: source.name, receivedAt: NOW });
  if (normalized.kind !== 'alerts') throw new Error('ignored');
  const stored = await storeDelivery(t.db, { sourceId: source.id, deliveryKey: null, bodySha256: 'x', bodyBytes: 1, remoteAddr: null, alerts: normalized.alerts });
  return stored.receiptIds;
}

async function deps(maintenanceWindow: PipelineDeps['maintenanceWindow']): Promise<PipelineDeps> {
  const ruleset = await defaultRuleset();
  return { db: t.db, logger: createLogger('silent'), now: () => NOW, rules: { decide: (facts) => decide(ruleset, facts) }, slas: new SlaCache(), maintenanceWindow };
}

/** A maintenance step that makes Postgres refuse the alert titled "poison" for good. */
const poisonOn = (title: string) => async (trx: Knex.Transaction, ctx: { alert: { title: string } }) => {
  if (ctx.alert.title === title) await trx.raw("SELECT 'not a number'::integer");
  return null;
};

describe('issue 14 item 1: applyReceiptJob, the alerts job as a use case', () => {
  it('R-ALR-3: a receipt Postgres refuses for good fails alone — the job’s other receipts are applied, it is recorded as failed', async () => {
    const ids = await store(['disk one', 'poison', 'disk three']);
    const result = await applyReceiptJob(await deps(poisonOn('poison')), ids, { jobId: 'job-1' });

    expect(result.permanent).toEqual([{ receiptId: ids[1], message: expect.stringContaining('invalid input syntax for type integer') }]);
    expect(result.results.map((r) => [r.receiptId, r.outcome]).sort()).toEqual([
      [ids[0], 'ticket_created'],
      [ids[2], 'ticket_created'],
    ]);
    const tickets = await t.db('tickets').orderBy('title').select('title');
    expect(tickets.map((x: { title: string }) => x.title)).toEqual(['disk one', 'disk three']);

    const bad = await t.db('alert_receipts as r').join('alerts as a', 'a.id', 'r.alert_id').where('r.id', ids[1]).first('r.processed_at', 'r.attempts', 'r.error', 'a.status');
    expect(bad).toMatchObject({ processed_at: null, attempts: 1, status: 'failed' });
    expect(bad.error).toContain('invalid input syntax for type integer');
  });

  it('R-ALR-4: the job run again applies nothing twice (the good receipts are already processed)', async () => {
    const ids = await store(['disk one', 'poison']);
    const d = await deps(poisonOn('poison'));
    await applyReceiptJob(d, ids);
    const again = await applyReceiptJob(d, ids);
    expect(again.results.map((r) => r.outcome)).toEqual(['already_processed']);
    expect(again.permanent.map((p) => p.receiptId)).toEqual([ids[1]]);
    expect(await t.db('tickets').count({ n: '*' }).first()).toEqual({ n: '1' });
  });

  it('a transient error rolls the whole batch back and is thrown for the queue to retry; recordFailedAttempt counts the attempt without failing the alerts', async () => {
    const ids = await store(['disk one', 'disk two']);
    const flaky = async () => {
      throw new Error('connection reset by peer');
    };
    await expect(applyReceiptJob(await deps(flaky), ids)).rejects.toThrow('connection reset by peer');
    expect(await t.db('tickets').count({ n: '*' }).first()).toEqual({ n: '0' });

    await recordFailedAttempt({ db: t.db }, ids, new Error('connection reset by peer'));
    const rows = await t.db('alert_receipts as r').join('alerts as a', 'a.id', 'r.alert_id').whereIn('r.id', ids).select('r.attempts', 'r.error', 'r.processed_at', 'a.status');
    expect(rows).toEqual([
      { attempts: 1, error: 'connection reset by peer', processed_at: null, status: 'received' },
      { attempts: 1, error: 'connection reset by peer', processed_at: null, status: 'received' },
    ]);
  });

  it('issue 15 item 9: one info line per applied alert with alertId, outcome and ticketId; a retried job logs no second one at info', async () => {
    const ids = await store(['disk one', 'disk two']);
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('info', 'hub', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const d = { ...(await deps(async () => null)), logger };
    const result = await applyReceiptJob(d, ids, { jobId: 'job-9' });
    const applied = lines.filter((l) => l.msg === 'alert applied');
    expect(applied).toHaveLength(2);
    for (const r of result.results) {
      expect(applied).toContainEqual(expect.objectContaining({ level: 30, alertId: r.alertId, outcome: 'ticket_created', ticketId: r.ticketId, jobId: 'job-9' }));
      expect(r.ticketId).not.toBeNull();
    }
    await applyReceiptJob(d, ids, { jobId: 'job-9-retry' });
    expect(lines.filter((l) => l.msg === 'alert applied')).toHaveLength(2);
  });
});
