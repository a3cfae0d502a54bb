import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import type { AuditLogRow } from '../tables';

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId?: string | null;
  companyId?: string | null;
  before?: unknown;
  after?: unknown;
  requestId?: string | null;
}

/** Every admin write, token change, ruleset activation and renewal leaves one row (issue 6). */
export async function writeAudit(db: Db, e: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    actor: e.actor,
    action: e.action,
    entity_type: e.entityType,
    entity_id: e.entityId ?? null,
    company_id: e.companyId ?? null,
    before: e.before === undefined ? null : JSON.stringify(e.before),
    after: e.after === undefined ? null : JSON.stringify(e.after),
    request_id: e.requestId ?? null,
  });
}

export async function listAudit(
  db: Db,
  f: {
    entityType?: string | undefined;
    entityId?: string | undefined;
    actor?: string | undefined;
    action?: string | undefined;
    companyId?: string | undefined;
    since?: Date | undefined;
    until?: Date | undefined;
    /** Rows of other companies, and global rows (no company), are hidden from a scoped caller. */
    scope: CompanyScope;
    limit: number;
    afterId?: string | undefined;
  },
): Promise<AuditLogRow[]> {
  const q = db('audit_log').orderBy('id', 'desc').limit(f.limit);
  if (f.entityType) q.where('entity_type', f.entityType);
  if (f.entityId) q.where('entity_id', f.entityId);
  if (f.actor) q.where('actor', f.actor);
  if (f.action) q.where('action', f.action);
  if (f.companyId) q.where('company_id', f.companyId);
  if (f.since) q.where('at', '>=', f.since);
  if (f.until) q.where('at', '<', f.until);
  if (f.afterId) q.where('id', '<', f.afterId);
  whereInScope(q, 'company_id', f.scope);
  return (await q) as AuditLogRow[];
}
