import type { Knex } from 'knex';
import type { HubConfig } from '../../config/env';
import {
  attachAuditPartition,
  createAuditPartitionTable,
  deleteOldDefaultAudit,
  deleteOldUnreferencedDeliveries,
  deleteProcessedReceipts,
  deleteQuietAlerts,
  deleteUnreferencedDeliveries,
  detachAuditPartition,
  dropAuditPartition,
  emptyRawPayloads,
  listAuditPartitions,
  lockAuditPartitions,
  lockRetentionMark,
  moveAuditRowsFromDefault,
  setRetentionMark,
  type RetentionMarkKind,
  type WalkResult,
} from '../../db/queries/retention';
import type { Logger } from '../../lib/logger';

/**
 * Issue 19: what the hub keeps, and for how long (days; 0 = forever). Tickets and their decisions
 * are always kept. See README "Retention" and migration 20261207060000_retention.ts.
 */
export interface RetentionPolicy {
  rawPayloadDays: number;
  receiptDays: number;
  alertDays: number;
  auditDays: number;
  /** Rows per statement (one short transaction each). */
  batchRows: number;
  /** Most batches per kind and run: a backlog is worked off over several runs. */
  maxBatches: number;
}

export const retentionPolicyOf = (
  c: Pick<
    HubConfig,
    | 'HUB_RETENTION_RAW_PAYLOAD_DAYS'
    | 'HUB_RETENTION_RECEIPT_DAYS'
    | 'HUB_RETENTION_ALERT_DAYS'
    | 'HUB_RETENTION_AUDIT_DAYS'
    | 'HUB_RETENTION_BATCH_ROWS'
    | 'HUB_RETENTION_MAX_BATCHES'
  >,
): RetentionPolicy => ({
  rawPayloadDays: c.HUB_RETENTION_RAW_PAYLOAD_DAYS,
  receiptDays: c.HUB_RETENTION_RECEIPT_DAYS,
  alertDays: c.HUB_RETENTION_ALERT_DAYS,
  auditDays: c.HUB_RETENTION_AUDIT_DAYS,
  batchRows: c.HUB_RETENTION_BATCH_ROWS,
  maxBatches: c.HUB_RETENTION_MAX_BATCHES,
});

/** Months of audit partitions created ahead of the current one. */
export const AUDIT_MONTHS_AHEAD = 3;

export interface RetentionReport {
  auditPartitionsCreated: string[];
  auditPartitionsDropped: string[];
  auditDefaultRowsDeleted: number;
  rawPayloadsEmptied: number;
  receiptsDeleted: number;
  alertsDeleted: number;
  deliveriesDeleted: number;
  /** Kinds that hit maxBatches: more is left for the next run. */
  unfinished: string[];
}

const DAY_MS = 86_400_000;
const monthStart = (y: number, m: number): Date => new Date(Date.UTC(y, m, 1));
export const auditPartitionName = (d: Date): string => `audit_log_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
const monthOfName = (name: string): Date | undefined => {
  const m = /^audit_log_y(\d{4})m(\d{2})$/.exec(name);
  return m ? monthStart(Number(m[1]), Number(m[2]) - 1) : undefined;
};

/**
 * One retention run (the `retention` upkeep job). Each step is a bounded statement in its own short
 * transaction, so a run never holds locks long and costs what aged out since the last run:
 * 1. audit_log: months created ahead (rows of the default partition in such a month moved into
 *    it), months wholly older than the audit retention detached and dropped;
 * 2. raw payloads emptied, 3. processed receipts deleted, 4. quiet alerts of finished tickets
 *    deleted (with their receipts), 5. deliveries nothing refers to any more deleted.
 */
export async function applyRetention(deps: { db: Knex; logger: Logger; now: () => Date }, policy: RetentionPolicy): Promise<RetentionReport> {
  const { db } = deps;
  const now = deps.now();
  const report: RetentionReport = {
    auditPartitionsCreated: [],
    auditPartitionsDropped: [],
    auditDefaultRowsDeleted: 0,
    rawPayloadsEmptied: 0,
    receiptsDeleted: 0,
    alertsDeleted: 0,
    deliveriesDeleted: 0,
    unfinished: [],
  };
  const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS);

  // 1. audit_log partitions.
  await db.transaction(async (trx) => {
    await lockAuditPartitions(trx);
    const existing = new Set(await listAuditPartitions(trx));
    for (let i = 0; i <= AUDIT_MONTHS_AHEAD; i++) {
      const from = monthStart(now.getUTCFullYear(), now.getUTCMonth() + i);
      const to = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
      const name = auditPartitionName(from);
      if (existing.has(name)) continue;
      await createAuditPartitionTable(trx, name);
      await moveAuditRowsFromDefault(trx, name, from, to);
      await attachAuditPartition(trx, name, from, to);
      report.auditPartitionsCreated.push(name);
    }
    if (policy.auditDays > 0) {
      const before = cutoff(policy.auditDays);
      for (const name of existing) {
        const from = monthOfName(name);
        if (!from) continue;
        const end = monthStart(from.getUTCFullYear(), from.getUTCMonth() + 1);
        if (end.getTime() > before.getTime()) continue;
        await detachAuditPartition(trx, name);
        await dropAuditPartition(trx, name);
        report.auditPartitionsDropped.push(name);
      }
    }
  });
  if (policy.auditDays > 0) {
    report.auditDefaultRowsDeleted = await batches(policy, report, 'audit-default', async () => {
      const n = await deleteOldDefaultAudit(db, cutoff(policy.auditDays), policy.batchRows);
      return { changed: n, done: n < policy.batchRows };
    });
  }

  const deliveryCandidates = new Set<string>();
  const marked = (kind: RetentionMarkKind, days: number, step: (trx: Knex.Transaction, afterId: string, before: Date) => Promise<WalkResult>) =>
    batches(policy, report, kind, () =>
      db.transaction(async (trx) => {
        const afterId = await lockRetentionMark(trx, kind);
        const r = await step(trx, afterId, cutoff(days));
        if (r.lastId !== null) await setRetentionMark(trx, kind, r.lastId);
        for (const id of r.deliveryIds) deliveryCandidates.add(id);
        return { changed: r.changed, done: r.done };
      }),
    );

  // 2. raw payloads, 3. receipts.
  if (policy.rawPayloadDays > 0) report.rawPayloadsEmptied = await marked('raw-payloads', policy.rawPayloadDays, (trx, a, b) => emptyRawPayloads(trx, a, b, policy.batchRows));
  if (policy.receiptDays > 0) report.receiptsDeleted = await marked('receipts', policy.receiptDays, (trx, a, b) => deleteProcessedReceipts(trx, a, b, policy.batchRows));
  // 4. alerts.
  if (policy.alertDays > 0) {
    report.alertsDeleted = await batches(policy, report, 'alerts', async () => {
      const r = await deleteQuietAlerts(db, cutoff(policy.alertDays), policy.batchRows);
      for (const id of r.deliveryIds) deliveryCandidates.add(id);
      return { changed: r.deleted, done: r.deleted < policy.batchRows };
    });
  }
  // 5. deliveries: those just orphaned, then the walk over old ones (orphaned long ago, or never referenced).
  const ids = [...deliveryCandidates];
  for (let i = 0; i < ids.length; i += policy.batchRows) report.deliveriesDeleted += await deleteUnreferencedDeliveries(db, ids.slice(i, i + policy.batchRows));
  if (policy.receiptDays > 0) report.deliveriesDeleted += await marked('deliveries', policy.receiptDays, (trx, a, b) => deleteOldUnreferencedDeliveries(trx, a, b, policy.batchRows));

  deps.logger.info({ retention: report }, 'retention run');
  return report;
}

/** Runs `step` until it is done or maxBatches is reached (then the kind is reported unfinished); returns the rows changed. */
async function batches(policy: RetentionPolicy, report: RetentionReport, kind: string, step: () => Promise<{ changed: number; done: boolean }>): Promise<number> {
  let total = 0;
  for (let n = 0; n < policy.maxBatches; n++) {
    const { changed, done } = await step();
    total += changed;
    if (done) return total;
  }
  report.unfinished.push(kind);
  return total;
}
