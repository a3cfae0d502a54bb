import crypto from 'node:crypto';
import path from 'node:path';
import type { Knex } from 'knex';
import type { MatchableWindow } from '../../../core/maintenance/window-match';
import { storeDelivery } from '../../../db/queries/inbox';
import { maintenanceWindowHook } from '../../../app/maintenance/window-hook';
import { SlaCache } from '../../../app/slas/sla-cache';
import { createLogger } from '../../../lib/logger';
import { normalizeGeneric } from '../../../plugins/generic/normalize';
import { compileRuleset, type CompiledRuleset } from '../../../rules/engine/compile';
import { decide } from '../../../rules/engine/decide';
import { validateRulesDir } from '../../../rules/engine/load-dir';
import { processReceipt, type ReceiptOutcome } from '../../../app/alerts/apply-receipts';

/** The shipped default rules (R-LINK-3/4), compiled: what the worker decides with in these tests. */
export async function defaultRuleset(): Promise<CompiledRuleset> {
  const result = await validateRulesDir(path.resolve(__dirname, '../../../rules'));
  if (!result.ok || !result.ruleset) throw new Error(`default rules invalid: ${JSON.stringify(result.errors)}`);
  return compileRuleset(result.ruleset, { version: 1, contentHash: result.contentHash });
}

export const genericAlert = (over: Record<string, unknown> = {}) => ({
  alertId: 'disk-mail01',
  state: 'firing',
  severity: 'high',
  category: 'disk',
  title: 'Disk C: almost full',
  message: '95% used',
  device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00Z',
  ...over,
});

/** Stores one generic alert as the webhook would (delivery, alert, receipt); returns its ids. */
export async function deliver(db: Knex, source: { id: string; name: string }, payload: Record<string, unknown>): Promise<{ alertId: string; receiptId: string }> {
  const result = normalizeGeneric(payload, { config: {}, sourceName: source.name, receivedAt: new Date() });
  if (result.kind !== 'alerts') throw new Error('ignored');
  const body = JSON.stringify(payload);
  const stored = await storeDelivery(db, {
    sourceId: source.id,
    deliveryKey: null,
    bodySha256: crypto.createHash('sha256').update(body).digest('hex'),
    bodyBytes: body.length,
    remoteAddr: null,
    alerts: result.alerts,
  });
  return { alertId: stored.alertIds[0]!, receiptId: stored.receiptIds[0]! };
}

/**
 * Runs the worker's processReceipt with the maintenance window hook wired as the lead wires it
 * (the worker passes the receipt id it is processing).
 */
export async function processWithWindows(
  db: Knex,
  ruleset: CompiledRuleset,
  receiptId: string,
  rulesWindows: readonly MatchableWindow[] = [],
  now: Date = new Date(),
): Promise<{ outcome: ReceiptOutcome; ticketId: string | null }> {
  const hook = maintenanceWindowHook(() => rulesWindows, { ttlMs: 0 });
  return processReceipt(
    {
      db,
      logger: createLogger('silent'),
      now: () => now,
      rules: { decide: (facts) => decide(ruleset, facts) },
      slas: new SlaCache(),
      maintenanceWindow: (trx, ctx) => hook(trx, { ...ctx, receiptId }),
    },
    receiptId,
  );
}
