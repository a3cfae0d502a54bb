import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors';
import { getAlertDetail, type AlertDetail } from '../../../db/queries/tickets';
import { scopeOf, type AppDeps } from '../../context';
import { instant, parseId, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';

const MOUNT = '/alerts';

const receiptSchema = z.strictObject({
  id: z.string(),
  deliveryId: z.string(),
  receivedAt: instant,
  enqueuedAt: instant.nullable(),
  notBefore: instant.nullable().openapi({ description: 'Held (hold-off or maintenance window) until then.' }),
  processedAt: instant.nullable(),
  outcome: z.string().nullable(),
  ticketId: z.string().nullable(),
  attempts: z.number().int(),
  error: z.string().nullable(),
});

const alertSchema = z
  .strictObject({
    id: z.string(),
    source: z.string(),
    sourceAlertId: z.string(),
    dedupKey: z.string(),
    state: z.enum(['firing', 'resolved']),
    severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
    category: z.string().nullable(),
    title: z.string(),
    message: z.string().nullable(),
    device: z.strictObject({ id: z.string().nullable(), hostname: z.string().nullable(), site: z.string().nullable() }),
    occurredAt: instant,
    labels: z.record(z.string(), z.string()),
    raw: z.unknown().openapi({ description: 'The payload as the source sent it.' }),
    status: z.enum(['received', 'processed', 'suppressed', 'held', 'failed']).openapi({ description: 'Processing state (of the latest receipt).' }),
    outcome: z.string().nullable(),
    ticketId: z.string().nullable(),
    decision: z.unknown(),
    rulesetVersion: z.number().int().nullable(),
    error: z.string().nullable(),
    receiptCount: z.number().int(),
    receipts: z.array(receiptSchema).openapi({ description: 'One per delivery of this alert, oldest first (at most 1000).' }),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Alert');

const alertOut = (a: AlertDetail): z.infer<typeof alertSchema> => ({
  id: String(a.id),
  source: a.source_name,
  sourceAlertId: a.source_alert_id,
  dedupKey: a.dedup_key,
  state: a.state,
  severity: a.severity,
  category: a.category,
  title: a.title,
  message: a.message,
  device: { id: a.device_source_id, hostname: a.hostname, site: a.site },
  occurredAt: a.occurred_at.toISOString(),
  labels: a.labels,
  raw: a.raw,
  status: a.status,
  outcome: a.outcome,
  ticketId: a.ticket_id === null ? null : String(a.ticket_id),
  decision: a.decision,
  rulesetVersion: a.ruleset_version,
  error: a.error,
  receiptCount: a.receipt_count,
  receipts: a.receipts.map((r) => ({
    id: String(r.id),
    deliveryId: String(r.delivery_id),
    receivedAt: r.received_at.toISOString(),
    enqueuedAt: toInstant(r.enqueued_at),
    notBefore: toInstant(r.not_before),
    processedAt: toInstant(r.processed_at),
    outcome: r.outcome,
    ticketId: r.ticket_id === null ? null : String(r.ticket_id),
    attempts: r.attempts,
    error: r.error,
  })),
  createdAt: a.created_at.toISOString(),
  updatedAt: a.updated_at.toISOString(),
});

/**
 * `GET /alerts/:id` (the id the webhook's 202 returned): what happened to an alert — its
 * processing state, outcome, ticket and every delivery (receipt). A scoped token sees alerts whose
 * ticket belongs to its companies.
 */
export function alertsRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a stored alert with its processing state, ticket and receipts', tags: ['alerts'], role: 'viewer', response: alertSchema },
    async ({ params, req }) => {
      const id = parseId(params.id, 'alert');
      const a = await getAlertDetail(deps.db, id, scopeOf(req));
      if (!a) throw notFound('alert', id);
      return { body: alertOut(a) };
    },
  );
  return router;
}
