import type { Request } from 'express';
import { HubError } from '../../../core/errors';
import type { Db } from '../../../db/connection';
import { writeAudit, type AuditEntry } from '../../../db/queries/audit';
import { actorOf, scopeOf } from '../../context';

/**
 * What every admin write needs besides its own query: may this caller write it, and the audit row
 * (who, what, before/after, request id), written in the same transaction as the change so that
 * a change without its audit row (or the reverse) cannot exist.
 */

/**
 * Global objects (catalogue, SLAs, sources, tokens) affect every company, so a company-scoped
 * token may read them but never change them, whatever its role (403, not 404: the object is visible).
 */
export function requireUnscoped(req: Request, what: string): void {
  if (!scopeOf(req).all) throw new HubError('FORBIDDEN', `a company-scoped token cannot change ${what}`);
}

export type AdminAction = 'create' | 'update' | 'delete' | 'revoke';

export async function audit(
  db: Db,
  req: Request,
  e: { action: AdminAction | string; entityType: string; entityId: string | null; companyId?: string | null; before?: unknown; after?: unknown },
): Promise<void> {
  const entry: AuditEntry = { actor: actorOf(req), requestId: req.requestId ?? null, ...e };
  await writeAudit(db, entry);
}
