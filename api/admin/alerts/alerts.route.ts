import { Router } from 'express';
import { z } from 'zod';
import { notFound, validationError } from '../../../core/errors';
import { listAlerts, type AlertListRow } from '../../../db/queries/alert-list';
import { getAlertDetail, type AlertDetail } from '../../../db/queries/tickets';
import { scopeOf, type AppDeps } from '../../context';
import { idSchema, instant, instantQuery, listQuery, pageOf, parseId, toInstant } from '../../openapi/schemas';
import { pageBody } from '../crud';
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

/** The fields every view of a stored alert has (the list's summary and the detail). */
const alertFields = {
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
};

const alertSchema = z
  .strictObject({
    ...alertFields,
    labels: z.record(z.string(), z.string()),
    raw: z.unknown().openapi({ description: 'The payload as the source sent it.' }),
    status: z.enum(['received', 'processed', 'suppressed', 'held', 'failed']).openapi({ description: 'Processing state (of the latest receipt).' }),
    outcome: z.string().nullable(),
    ticketId: z.string().nullable(),
    decision: z.unknown().openapi({
      description: "The decision made for this alert: rules fired, ruleset version and the facts. For the alert that opened its ticket it is stored once, on the ticket, and shown here without the ticket's `chosen` contract.",
    }),
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

const OUTCOMES = [
  'ticket_created',
  'occurrence',
  'reopened',
  'resolved',
  'annotated',
  'resolve_without_ticket',
  'suppressed',
  'maintenance',
  'held',
  'cleared_during_hold_off',
  'already_processed',
  'missing',
] as const;

const alertSummarySchema = z
  .strictObject({
    ...alertFields,
    status: z.enum(['received', 'processed', 'suppressed', 'held', 'failed']),
    outcome: z.string().nullable(),
    ticketId: z.string().nullable(),
    companyId: z.string().nullable().openapi({ description: 'The company of the alert’s ticket.' }),
    deviceId: z.string().nullable().openapi({ description: 'The hub device of the alert’s ticket.' }),
    receiptCount: z.number().int(),
    createdAt: instant,
  })
  .openapi('AlertSummary');

const alertSummaryOut = (a: AlertListRow): z.infer<typeof alertSummarySchema> => ({
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
  status: a.status,
  outcome: a.outcome,
  ticketId: a.ticket_id === null ? null : String(a.ticket_id),
  companyId: a.ticket_company_id === null ? null : String(a.ticket_company_id),
  deviceId: a.ticket_device_id === null ? null : String(a.ticket_device_id),
  receiptCount: a.receipt_count,
  createdAt: a.created_at.toISOString(),
});

/**
 * `GET /alerts` (SPEC §9: filters source, companyId, deviceId, ticketId, state, outcome, from/to — also
 * since/until —, q; paged like the other lists) and (the id the webhook's 202 returned): what happened to an alert — its
 * processing state, outcome, ticket and every delivery (receipt). A scoped token sees alerts whose
 * ticket belongs to its companies.
 */
export function alertsRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List stored alerts, newest first (company scope: the company of the alert’s ticket)',
      tags: ['alerts'],
      role: 'viewer',
      query: listQuery({
        source: z.string().max(200).optional().openapi({ description: 'A source’s name.' }),
        companyId: idSchema.optional().openapi({ description: 'The company of the alert’s ticket.' }),
        deviceId: idSchema.optional().openapi({ description: 'The hub device of the alert’s ticket.' }),
        ticketId: idSchema.optional().openapi({ description: 'The alerts of this ticket (a ticket outside the token’s companies lists none).' }),
        state: z.enum(['firing', 'resolved']).optional(),
        outcome: z.enum(OUTCOMES).optional(),
        from: instantQuery.optional().openapi({ description: 'occurredAt at or after.' }),
        to: instantQuery.optional().openapi({ description: 'occurredAt before.' }),
        since: instantQuery.optional().openapi({ description: 'The same as from.' }),
        until: instantQuery.optional().openapi({ description: 'The same as to.' }),
        q: z.string().trim().min(1).max(200).optional().openapi({ description: 'Text in the title or message (case-insensitive).' }),
      }),
      response: pageOf(alertSummarySchema),
    },
    async ({ query, req }) => {
      const from = query.from ?? query.since;
      const to = query.to ?? query.until;
      if (from && to && Date.parse(from) > Date.parse(to)) throw validationError('query.to', 'must not be before from');
      const page = await listAlerts(deps.db, {
        limit: query.limit,
        cursor: query.cursor,
        source: query.source,
        companyId: query.companyId,
        deviceId: query.deviceId,
        ticketId: query.ticketId,
        state: query.state,
        outcome: query.outcome,
        since: from ? new Date(from) : undefined,
        until: to ? new Date(to) : undefined,
        q: query.q,
        scope: scopeOf(req),
      });
      return { body: pageBody(page, alertSummaryOut) };
    },
  );
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
