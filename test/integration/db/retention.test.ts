import { applyRetention, auditPartitionName, type RetentionPolicy } from '../../../app/retention/apply-retention';
import { storeDelivery } from '../../../db/queries/inbox';
import { createLogger } from '../../../lib/logger';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { createSource } from '../../helpers/seed';

const KEY = 'k'.repeat(40);
const DAY = 86_400_000;

/**
 * Issue 19: the retention job (app/retention/apply-retention.ts) on real Postgres. Rows are
 * written by the intake's own statement (storeDelivery) and then aged by moving their timestamps.
 */
describe('retention (issue 19)', () => {
  let t: TestDatabase;
  let sourceId: string;
  const logger = createLogger('silent');
  const now = new Date();
  const policy: RetentionPolicy = { rawPayloadDays: 30, receiptDays: 90, alertDays: 365, auditDays: 730, batchRows: 3, maxBatches: 100 };
  // A database per test: ids follow time in a real database (rows are written as they arrive), and
  // the id-ordered walks rely on it, so each test writes its rows oldest first into a fresh one.
  beforeEach(async () => {
    t = await createTestDatabase();
    sourceId = (await createSource(t.db, KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 't'.repeat(32) } })).id;
  });
  afterEach(async () => t.drop());

  let n = 0;
  /** One delivery of one alert, `ageDays` old, its receipt processed (or not) and on a ticket of `ticketStatus` (or none). */
  const alertAged = async (ageDays: number, o: { processed?: boolean; ticketStatus?: string | null; quietDays?: number } = {}) => {
    n += 1;
    const stored = await storeDelivery(t.db, {
      sourceId,
      deliveryKey: `d-${n}`,
      bodySha256: 'x',
      bodyBytes: 10,
      remoteAddr: null,
      alerts: [
        {
          sourceAlertId: `a-${n}`,
          dedupKey: `k-${n}`,
          state: 'firing',
          severity: 'high',
          category: null,
          title: `alert ${n}`,
          message: null,
          device: { sourceDeviceId: null, hostname: `h${n}`, site: null },
          occurredAt: new Date(now.getTime() - ageDays * DAY).toISOString(),
          labels: {},
          raw: { payload: n },
        } as never,
      ],
    });
    const at = new Date(now.getTime() - ageDays * DAY);
    const quiet = new Date(now.getTime() - (o.quietDays ?? ageDays) * DAY);
    let ticketId: string | null = null;
    if (o.ticketStatus !== undefined && o.ticketStatus !== null) {
      const [row] = (await t.db('tickets')
        .insert({
          source: 'rmm',
          dedup_key: `k-${n}`,
          priority: 'high',
          status: o.ticketStatus,
          title: `ticket ${n}`,
          first_occurred_at: at,
          last_occurred_at: at,
          decision: JSON.stringify({ rule: `r-${n}` }),
          resolved_at: o.ticketStatus === 'resolved' || o.ticketStatus === 'closed' ? at : null,
          closed_at: o.ticketStatus === 'closed' ? at : null,
        })
        .returning('id')) as { id: string }[];
      ticketId = String(row!.id);
    }
    await t.db('deliveries').where('id', stored.deliveryId).update({ received_at: at });
    await t.db('alerts').where('id', stored.alertIds[0]).update({ created_at: at, updated_at: quiet, ticket_id: ticketId, status: 'processed' });
    await t.db('alert_receipts')
      .where('id', stored.receiptIds[0])
      .update({ received_at: at, enqueued_at: at, processed_at: o.processed === false ? null : at, ticket_id: ticketId });
    return { deliveryId: stored.deliveryId, alertId: stored.alertIds[0]!, receiptId: stored.receiptIds[0]!, ticketId };
  };

  const exists = async (table: string, id: string | null) => (id === null ? false : (await t.db(table).where('id', id).first('id')) !== undefined);
  const rawOf = async (alertId: string) => ((await t.db('alerts').where('id', alertId).first('raw')) as { raw: unknown }).raw;

  it('removes what is past its retention and keeps the rest: raw payloads, receipts, alerts of finished tickets, deliveries; tickets and decisions stay', async () => {
    const yearClosed = await alertAged(400, { ticketStatus: 'closed' }); // alert gone, ticket kept
    const yearResolved = await alertAged(400, { ticketStatus: 'resolved' }); // alert gone
    const yearNoTicket = await alertAged(400, { ticketStatus: null }); // alert gone (suppressed, say)
    const yearOpen = await alertAged(400, { ticketStatus: 'in_progress' }); // open ticket: alert kept
    const yearButRecent = await alertAged(400, { ticketStatus: 'closed', quietDays: 10 }); // re-delivered lately: kept
    const yearPending = await alertAged(400, { ticketStatus: 'closed', processed: false }); // unprocessed: kept
    const quarter = await alertAged(120, { ticketStatus: 'closed' }); // receipt gone; delivery kept (the alert's first)
    const pending = await alertAged(120, { processed: false }); // unprocessed receipt: kept
    const month = await alertAged(40, { ticketStatus: 'closed' }); // raw emptied, everything else kept
    const fresh = await alertAged(1, { ticketStatus: 'new' });
    const ticketsBefore = await t.db('tickets').orderBy('id').select('id', 'decision', 'status');

    const report = await applyRetention({ db: t.db, logger, now: () => now }, policy);

    // Raw payloads: emptied past 30 days (the alerts that remain), kept before.
    expect(await rawOf(fresh.alertId)).toEqual({ payload: expect.any(Number) });
    expect(await rawOf(month.alertId)).toBeNull();
    expect(await rawOf(quarter.alertId)).toBeNull();
    expect(await rawOf(yearOpen.alertId)).toBeNull();
    // Receipts: processed ones past 90 days gone; pending ones and younger ones kept.
    expect(await exists('alert_receipts', fresh.receiptId)).toBe(true);
    expect(await exists('alert_receipts', month.receiptId)).toBe(true);
    expect(await exists('alert_receipts', quarter.receiptId)).toBe(false);
    expect(await exists('alert_receipts', pending.receiptId)).toBe(true);
    expect(await exists('alert_receipts', yearPending.receiptId)).toBe(true);
    expect(await exists('alert_receipts', yearOpen.receiptId)).toBe(false);
    // Alerts: a year quiet and finished (or ticketless) gone; open ticket, recent re-delivery, pending work kept.
    for (const a of [yearClosed, yearResolved, yearNoTicket]) expect(await exists('alerts', a.alertId)).toBe(false);
    for (const a of [fresh, month, quarter, pending, yearOpen, yearButRecent, yearPending]) expect(await exists('alerts', a.alertId)).toBe(true);
    // Deliveries: gone with their last reference; kept while an alert's first delivery or a receipt's.
    for (const a of [yearClosed, yearResolved, yearNoTicket]) expect(await exists('deliveries', a.deliveryId)).toBe(false);
    for (const a of [fresh, month, quarter, pending, yearOpen, yearButRecent, yearPending]) expect(await exists('deliveries', a.deliveryId)).toBe(true);
    // Tickets and their decisions: all kept, unchanged.
    expect(await t.db('tickets').orderBy('id').select('id', 'decision', 'status')).toEqual(ticketsBefore);

    expect(report).toMatchObject({ alertsDeleted: 3, deliveriesDeleted: 3, unfinished: [] });
    // Receipts run before alerts: the six processed ones past 90 days (the year-old alerts' and quarter's).
    expect(report.receiptsDeleted).toBe(6);
    // Raw payloads run first: the nine alerts past 30 days.
    expect(report.rawPayloadsEmptied).toBe(9);

    // A second run finds nothing more, and a re-delivery of a removed alert is stored as new (the key is free again).
    const again = await applyRetention({ db: t.db, logger, now: () => now }, policy);
    expect(again).toMatchObject({ rawPayloadsEmptied: 0, receiptsDeleted: 0, alertsDeleted: 0, deliveriesDeleted: 0, auditPartitionsCreated: [], auditPartitionsDropped: [] });
    const redelivered = await storeDelivery(t.db, {
      sourceId,
      deliveryKey: 'late-retry',
      bodySha256: 'x',
      bodyBytes: 10,
      remoteAddr: null,
      alerts: [{ sourceAlertId: 'a-1', dedupKey: 'k-1', state: 'firing', severity: 'high', category: null, title: 'again', message: null, device: { sourceDeviceId: null, hostname: 'h1', site: null }, occurredAt: now.toISOString(), labels: {}, raw: {} } as never],
    });
    expect(redelivered.alertIds[0]).not.toBe(yearClosed.alertId);
  });

  it('a delivery whose alert was a re-delivery goes when its receipt goes; an old delivery that never had a receipt goes too', async () => {
    const first = await alertAged(200, { ticketStatus: 'in_progress' });
    // A second delivery of the same alert (a re-delivery), 150 days ago.
    const again = await storeDelivery(t.db, {
      sourceId,
      deliveryKey: `again-${n}`,
      bodySha256: 'y',
      bodyBytes: 10,
      remoteAddr: null,
      alerts: [{ sourceAlertId: `a-${n}`, dedupKey: `k-${n}`, state: 'firing', severity: 'high', category: null, title: 'x', message: null, device: { sourceDeviceId: null, hostname: 'h', site: null }, occurredAt: now.toISOString(), labels: {}, raw: {} } as never],
    });
    expect(again.alertIds).toEqual([first.alertId]);
    const old = new Date(now.getTime() - 150 * DAY);
    await t.db('deliveries').where('id', again.deliveryId).update({ received_at: old });
    await t.db('alert_receipts').where('id', again.receiptIds[0]).update({ received_at: old, processed_at: old });
    const [empty] = (await t.db('deliveries').insert({ source_id: sourceId, delivery_key: 'empty', body_sha256: 'z', body_bytes: 2, received_at: old }).returning('id')) as { id: string }[];

    await applyRetention({ db: t.db, logger, now: () => now }, policy);
    expect(await exists('deliveries', again.deliveryId)).toBe(false);
    expect(await exists('deliveries', String(empty!.id))).toBe(false);
    expect(await exists('deliveries', first.deliveryId)).toBe(true); // the alert's first delivery
    expect(await exists('alerts', first.alertId)).toBe(true);
  });

  it('0 keeps a kind forever; a run stops at maxBatches and says which kinds are unfinished, the next one goes on', async () => {
    const a = await alertAged(500, { ticketStatus: 'closed' });
    const b = await alertAged(500, { ticketStatus: 'closed' });
    const keepAll = await applyRetention({ db: t.db, logger, now: () => now }, { ...policy, rawPayloadDays: 0, receiptDays: 0, alertDays: 0, auditDays: 0 });
    expect(keepAll).toMatchObject({ rawPayloadsEmptied: 0, receiptsDeleted: 0, alertsDeleted: 0, deliveriesDeleted: 0, unfinished: [] });
    expect(await rawOf(a.alertId)).toEqual({ payload: expect.any(Number) });

    const c = await alertAged(500, { ticketStatus: 'closed' });
    const d = await alertAged(500, { ticketStatus: 'closed' });
    const tight = { ...policy, batchRows: 1, maxBatches: 2 };
    const first = await applyRetention({ db: t.db, logger, now: () => now }, tight);
    expect(first.alertsDeleted).toBe(2);
    expect(first.unfinished).toContain('alerts');
    let left = 2;
    for (let i = 0; i < 5 && left > 0; i++) left -= (await applyRetention({ db: t.db, logger, now: () => now }, tight)).alertsDeleted;
    expect(left).toBe(0);
    for (const x of [a, b, c, d]) expect(await exists('alerts', x.alertId)).toBe(false);
  });

  it('audit_log: months are created ahead (rows waiting in the default partition move in), months wholly past retention are dropped', async () => {
    const month = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 15));
    const parts = async () =>
      (await t.db.raw<{ rows: { name: string }[] }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_log'::regclass`)).rows.map((r) => r.name);
    // The template was migrated with an empty audit_log, so its months start at the current one: the
    // month of 25 months ago is made here as the migration would have made it for older rows.
    await t.db.raw(`CREATE TABLE ${auditPartitionName(month(-25))} PARTITION OF audit_log FOR VALUES FROM ('${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 25, 1)).toISOString()}') TO ('${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 24, 1)).toISOString()}')`);
    await t.db('audit_log').insert([
      { at: month(-25), actor: 'old', action: 'update', entity_type: 'x' },
      { at: month(-1), actor: 'recent', action: 'update', entity_type: 'x' },
      { at: month(6), actor: 'future', action: 'update', entity_type: 'x' }, // lands in the default partition
      { at: new Date(Date.UTC(now.getUTCFullYear() - 5, 0, 1)), actor: 'ancient', action: 'update', entity_type: 'x' }, // default partition too
    ]);
    expect(await parts()).toContain(auditPartitionName(month(-25)));
    // Run as if six months later: months up to +9 are created; the +6 row moves out of the default partition.
    const later = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 6, 2));
    const r = await applyRetention({ db: t.db, logger, now: () => later }, policy);
    expect(r.auditPartitionsCreated).toEqual([6, 7, 8, 9].map((o) => auditPartitionName(month(o))));
    expect(r.auditPartitionsDropped).toEqual([auditPartitionName(month(-25))]);
    expect(r.auditDefaultRowsDeleted).toBe(1); // the ancient one
    expect((await t.db('audit_log').orderBy('at').select('actor')).map((x: { actor: string }) => x.actor)).toEqual(expect.arrayContaining(['recent', 'future']));
    expect(await t.db('audit_log').whereIn('actor', ['old', 'ancient']).count<{ count: string }[]>('* as count')).toEqual([{ count: '0' }]);
    // Left in the default partition: only 'recent', from a month before the database had any (within retention).
    expect((await t.db('audit_log_default').select('actor')).map((x: { actor: string }) => x.actor)).toEqual(['recent']);
    expect(await parts()).toEqual(expect.arrayContaining([auditPartitionName(month(6)), auditPartitionName(month(9)), 'audit_log_default']));
    expect(await parts()).not.toContain(auditPartitionName(month(-25)));
    // Writes keep working through the parent.
    await t.db('audit_log').insert({ actor: 'after', action: 'create', entity_type: 'x' });
  });
});
