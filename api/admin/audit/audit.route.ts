import { Router } from 'express';
import { z } from 'zod';
import { listAudit } from '../../../db/queries/audit';
import type { AuditLogRow } from '../../../db/tables';
import type { AppDeps } from '../../context';
import { scopeOf } from '../../context';
import { instant, instantQuery, pageOf, pageQueryShape } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { pageOfExtraRow } from '../crud';

const MOUNT = '/audit';

export const auditEntrySchema = z
  .strictObject({
    id: z.string(),
    at: instant,
    actor: z.string().openapi({ description: "'bootstrap-admin', 'token:<id>:<name>', 'cli:<user>', 'worker', …" }),
    action: z.string().openapi({ description: 'create, update, delete, revoke, …' }),
    entityType: z.string().openapi({ description: 'company, sla, service, service_bundle, device, source, api_token, …' }),
    entityId: z.string().nullable(),
    companyId: z.string().nullable(),
    before: z.unknown().openapi({ description: 'The entity before the change (null for a create).' }),
    after: z.unknown().openapi({ description: 'The entity after the change (null for a delete).' }),
    requestId: z.string().nullable(),
  })
  .openapi('AuditEntry');

export const auditOut = (r: AuditLogRow): z.infer<typeof auditEntrySchema> => ({
  id: String(r.id),
  at: r.at.toISOString(),
  actor: r.actor,
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  companyId: r.company_id === null ? null : String(r.company_id),
  before: r.before ?? null,
  after: r.after ?? null,
  requestId: r.request_id,
});

const auditQuery = z
  .strictObject({
    ...pageQueryShape,
    entityType: z.string().max(64).optional(),
    entityId: z.string().max(200).optional(),
    actor: z.string().max(300).optional().openapi({ description: 'Exact actor.' }),
    action: z.string().max(64).optional(),
    companyId: z.string().regex(/^\d{1,18}$/).optional(),
    since: instantQuery.optional().openapi({ description: 'Inclusive lower bound of `at`.' }),
    until: instantQuery.optional().openapi({ description: 'Exclusive upper bound of `at`.' }),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) <= Date.parse(q.until), { message: 'since must not be after until', path: ['since'] });

/**
 * The audit log, newest first. A company-scoped token sees only rows of its companies (so not the
 * global ones: catalogue, SLAs, sources, tokens).
 */
export function auditRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List audit entries, newest first',
      tags: ['audit'],
      role: 'viewer',
      query: auditQuery,
      response: pageOf(auditEntrySchema),
    },
    async ({ query, req }) => {
      const rows = await listAudit(deps.db, {
        entityType: query.entityType,
        entityId: query.entityId,
        actor: query.actor,
        action: query.action,
        companyId: query.companyId,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
        scope: scopeOf(req),
        limit: query.limit + 1,
        afterId: query.cursor,
      });
      return { body: pageOfExtraRow(rows, query.limit, auditOut) };
    },
  );
  return router;
}
