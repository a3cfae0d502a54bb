import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import type { Page, PageRequest } from '../paging';
import type { AlertRow } from '../tables';

/**
 * `GET /api/v1/alerts` (SPEC §9 "alerts"): stored alerts, newest first, keyset-paged by id. An
 * alert belongs to the company (and device) of its ticket, as `getAlertDetail` says: a scoped token
 * sees alerts whose ticket is one of its companies'; companyId / deviceId filter on the ticket's.
 */
export interface AlertFilter extends PageRequest {
  source?: string | undefined;
  companyId?: string | undefined;
  deviceId?: string | undefined;
  /** The alerts of one ticket (its own, its repeats' alert rows, and alerts attached to it as related). */
  ticketId?: string | undefined;
  state?: 'firing' | 'resolved' | undefined;
  outcome?: string | undefined;
  /** occurred_at ≥ since */
  since?: Date | undefined;
  /** occurred_at < until */
  until?: Date | undefined;
  /** Case-insensitive text in the title or the message. */
  q?: string | undefined;
  scope: CompanyScope;
}

export interface AlertListRow extends AlertRow {
  source_name: string;
  ticket_company_id: string | null;
  ticket_device_id: string | null;
}

/**
 * An alert's decision as readers see it: its own, or — for the alert that opened its ticket, which
 * stores none (app/alerts/apply-receipts.ts `finish`) — its ticket's without the contract `chosen`
 * there, which is the same document. `a` is the alert, `t` its ticket (left-joined on a.ticket_id).
 * Listed after `a.*`, it replaces the row's own `decision` (the alert detail, the demo's table; the
 * list does not show decisions).
 */
export const ALERT_DECISION_SQL = `coalesce(a.decision, t.decision - 'chosen') AS decision`;

const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listAlerts(db: Db, f: AlertFilter): Promise<Page<AlertListRow>> {
  const q = db('alerts as a')
    .join('sources as s', 's.id', 'a.source_id')
    .leftJoin('tickets as t', 't.id', 'a.ticket_id')
    .select('a.*', 's.name as source_name', 't.company_id as ticket_company_id', 't.device_id as ticket_device_id');
  if (f.source) q.where('s.name', f.source);
  if (f.companyId) q.where('t.company_id', f.companyId);
  if (f.deviceId) q.where('t.device_id', f.deviceId);
  if (f.ticketId) q.where('a.ticket_id', f.ticketId);
  if (f.state) q.where('a.state', f.state);
  if (f.outcome) q.where('a.outcome', f.outcome);
  if (f.since) q.where('a.occurred_at', '>=', f.since);
  if (f.until) q.where('a.occurred_at', '<', f.until);
  if (f.q) {
    const pattern = `%${likeEscaped(f.q)}%`;
    q.where((w) => w.whereRaw(`a.title ILIKE ? ESCAPE '\\'`, [pattern]).orWhereRaw(`a.message ILIKE ? ESCAPE '\\'`, [pattern]));
  }
  whereInScope(q, 't.company_id', f.scope);
  if (f.cursor !== undefined) q.where('a.id', '<', f.cursor);
  const rows = (await q.orderBy('a.id', 'desc').limit(f.limit + 1)) as AlertListRow[];
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > f.limit && last ? String(last.id) : null };
}
