import type { Knex } from 'knex';
import { insertRow } from '../../helpers/seed';

/**
 * Direct inserts for the operator suite: tickets and alerts are made by the pipeline, which has
 * its own tests; here they are rows with exactly the fields a test looks at.
 */

let seq = 0;

export async function insertTicket(db: Knex, over: Record<string, unknown> = {}): Promise<{ id: string }> {
  seq++;
  return insertRow(db, 'tickets', {
    source: 'datto',
    dedup_key: `test:${seq}`,
    priority: 'high',
    title: `ticket ${seq}`,
    first_occurred_at: new Date('2026-03-02T08:00:00Z'),
    last_occurred_at: new Date('2026-03-02T08:00:00Z'),
    decision: JSON.stringify({ rulesFired: [{ name: 'default-contract' }], rulesetVersion: 3 }),
    ruleset_version: 3,
    ...over,
  });
}

export async function insertCompany(db: Knex, name: string, sites: Array<{ source: string; siteId: string; siteName?: string }> = []): Promise<string> {
  const c = await insertRow(db, 'companies', { name });
  for (const s of sites) await insertRow(db, 'company_source_sites', { company_id: c.id, source: s.source, site_id: s.siteId, site_name: s.siteName ?? null });
  return String(c.id);
}

export async function insertSource(db: Knex, name: string): Promise<string> {
  const s = await insertRow(db, 'sources', { name, plugin: 'generic', auth_type: 'token', auth_secrets_enc: 'not-used-in-these-tests' });
  return String(s.id);
}

/** A stored alert with one receipt per delivery, as the webhook and the worker leave them. */
export async function insertAlert(
  db: Knex,
  sourceId: string,
  over: { ticketId?: string | null; deliveries?: number; outcome?: string; status?: string } = {},
): Promise<{ alertId: string; receiptIds: string[] }> {
  seq++;
  const deliveries: string[] = [];
  for (let i = 0; i < (over.deliveries ?? 1); i++) {
    const d = await insertRow(db, 'deliveries', { source_id: sourceId, delivery_key: `d-${seq}-${i}`, body_sha256: 'x'.repeat(64), body_bytes: 100 });
    deliveries.push(String(d.id));
  }
  const alert = await insertRow(db, 'alerts', {
    source_id: sourceId,
    source_alert_id: `A-${seq}`,
    dedup_key: `dk-${seq}`,
    state: 'firing',
    severity: 'high',
    category: 'disk',
    title: 'Disk almost full',
    message: 'C: 95 %',
    device_source_id: 'DEV-1',
    hostname: 'mail01',
    site: 'site-1',
    occurred_at: new Date('2026-03-02T08:00:00Z'),
    labels: JSON.stringify({ env: 'prod' }),
    raw: JSON.stringify({ alertId: `A-${seq}`, anything: [1, 2] }),
    first_delivery_id: deliveries[0],
    receipt_count: deliveries.length,
    status: over.status ?? 'processed',
    ticket_id: over.ticketId ?? null,
    outcome: over.outcome ?? 'ticket_created',
    decision: JSON.stringify({ rulesFired: [{ name: 'r1' }], rulesetVersion: 3 }),
    ruleset_version: 3,
  });
  const receiptIds: string[] = [];
  for (const [i, d] of deliveries.entries()) {
    const r = await insertRow(db, 'alert_receipts', {
      alert_id: alert.id,
      delivery_id: d,
      enqueued_at: new Date('2026-03-02T08:00:01Z'),
      processed_at: new Date('2026-03-02T08:00:02Z'),
      outcome: i === 0 ? (over.outcome ?? 'ticket_created') : 'occurrence',
      ticket_id: over.ticketId ?? null,
      attempts: 1,
    });
    receiptIds.push(String(r.id));
  }
  return { alertId: String(alert.id), receiptIds };
}
