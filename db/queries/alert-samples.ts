import type { CompanyScope } from '../../core/access/company-scope';
import { whereInScope } from '../company-scope';
import type { Db } from '../connection';
import type { AlertRow } from '../tables';

/**
 * Recent stored alerts for the rules editor's "test alert" picker (issue 17 item 2). Scope as for
 * `GET /alerts/:id`: an alert belongs to the company of its ticket; one without a ticket
 * (suppressed, held, triage without a company) is visible unscoped only.
 */
export type AlertSampleRow = Pick<
  AlertRow,
  'id' | 'source_alert_id' | 'state' | 'severity' | 'category' | 'title' | 'message' | 'device_source_id' | 'hostname' | 'site' | 'occurred_at' | 'labels' | 'created_at'
> & {
  source_name: string;
  /** The generic payload's own `alertId` (its source_alert_id adds state and time); null for other senders. */
  raw_alert_id: unknown;
};

export async function recentAlertSamples(db: Db, o: { limit: number; scope: CompanyScope }): Promise<AlertSampleRow[]> {
  const q = db('alerts as a')
    .join('sources as s', 's.id', 'a.source_id')
    .leftJoin('tickets as t', 't.id', 'a.ticket_id')
    .select(
      'a.id',
      'a.source_alert_id',
      'a.state',
      'a.severity',
      'a.category',
      'a.title',
      'a.message',
      'a.device_source_id',
      'a.hostname',
      'a.site',
      'a.occurred_at',
      'a.labels',
      'a.created_at',
      's.name as source_name',
      db.raw(`CASE WHEN jsonb_typeof(a.raw) = 'object' THEN a.raw -> 'alertId' END AS raw_alert_id`),
    )
    .orderBy('a.id', 'desc')
    .limit(o.limit);
  whereInScope(q, 't.company_id', o.scope);
  return (await q) as AlertSampleRow[];
}
