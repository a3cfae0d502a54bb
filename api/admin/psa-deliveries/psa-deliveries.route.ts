import { Router } from 'express';
import { z } from 'zod';
import { retryPsaDeliveries, type RetryOutcome } from '../../../app/psa/retry';
import { HubError, notFound } from '../../../core/errors';
import { listDeliveries } from '../../../db/queries/psa-deliveries';
import type { PsaDeliveryRow } from '../../../db/tables';
import { actorOf, scopeOf, type AppDeps } from '../../context';
import { instant, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';

const MOUNT = '/psa-deliveries';
const TAGS = ['psa'];
const STATES = ['pending', 'delivered', 'failed', 'skipped'] as const;
const DELIVERY_ID = /^\d{1,18}$/;

export const psaDeliverySchema = z
  .strictObject({
    id: z.string(),
    ticketId: z.string(),
    connection: z.string(),
    state: z.enum(STATES),
    externalId: z.string().nullable().openapi({ description: 'The PSA ticket id, once created (or found by our id).' }),
    externalNumber: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable().openapi({ description: 'The last failure, with the PSA’s own message for a permanent one; for skipped: why it was not sent.' }),
    pendingOccurrences: z.number().int(),
    pendingNotes: z.number().int(),
    deliveredAt: instant.nullable(),
    updatedAt: instant,
  })
  .openapi('PsaDelivery');

const retryResult = z.strictObject({
  retried: z.array(z.strictObject({ id: z.string(), connection: z.string() })).openapi({ description: 'Deliveries made pending again (fresh attempt count), enqueued.' }),
  stillSkipped: z
    .array(z.strictObject({ id: z.string(), connection: z.string(), reason: z.string() }))
    .openapi({ description: "Not sent: the ticket's company (or its psaRefs entry for the connection) is still missing; they stay skipped with this reason until it is set and they are retried." }),
});

const retryBody = (r: RetryOutcome) => ({
  retried: r.retried.map((x) => ({ id: x.id, connection: x.connectionName })),
  stillSkipped: r.stillSkipped.map((x) => ({ id: x.id, connection: x.connectionName, reason: x.reason })),
});

const out = (d: PsaDeliveryRow & { connection_name: string }) => ({
  id: String(d.id),
  ticketId: String(d.ticket_id),
  connection: d.connection_name,
  state: d.state,
  externalId: d.external_id,
  externalNumber: d.external_number,
  attempts: d.attempts,
  lastError: d.last_error,
  pendingOccurrences: d.pending_occurrences,
  pendingNotes: Array.isArray(d.pending_notes) ? d.pending_notes.length : 0,
  deliveredAt: toInstant(d.delivered_at),
  updatedAt: d.updated_at.toISOString(),
});

/**
 * Issue 16 item 3: a PSA delivery that failed (a permanent PSA error, or transient ones past
 * HUB_PSA_ATTEMPTS) or was skipped (no company ref) stays visible here and can be retried.
 * Operators (the people who work tickets); a scoped token sees and retries its companies' only.
 */
export function psaDeliveriesRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'PSA deliveries, newest first: filter by state (failed, skipped, pending, delivered) and connection',
      tags: TAGS,
      role: 'operator',
      query: z.strictObject({
        state: z.enum(STATES).optional(),
        connection: z.string().trim().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: z.strictObject({ items: z.array(psaDeliverySchema) }),
    },
    async ({ query, req }) => {
      const rows = await listDeliveries(deps.db, { state: query.state, connection: query.connection, limit: query.limit }, scopeOf(req));
      return { body: { items: rows.map(out) } };
    },
  );

  const enqueue = async (refs: RetryOutcome['retried']) => {
    if (refs.length === 0) return;
    await deps.services.psaEnqueuer
      ?.enqueue(refs.map((r) => ({ ...r, unique: true })))
      .catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'PSA retry enqueue failed; the delivery sweep picks the deliveries up'));
  };

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/retry',
      summary: 'Retry every failed and skipped PSA delivery (of one connection), audited',
      tags: TAGS,
      role: 'operator',
      body: z.strictObject({ connection: z.string().trim().min(1).max(100).optional() }),
      response: retryResult,
    },
    async ({ body, req }) => {
      const outcome = await retryPsaDeliveries(deps.db, { connection: body.connection }, { scope: scopeOf(req), actor: actorOf(req), requestId: req.requestId ?? null });
      await enqueue(outcome.retried);
      return { body: retryBody(outcome) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:id/retry',
      summary: 'Retry one failed or skipped PSA delivery (pending again with a fresh attempt count), audited',
      tags: TAGS,
      role: 'operator',
      response: retryResult,
    },
    async ({ params, req }) => {
      const id = params.id ?? '';
      if (!DELIVERY_ID.test(id)) throw new HubError('VALIDATION_FAILED', `id: must be a delivery id (digits), got "${id.slice(0, 40)}"`, [{ field: 'id', message: 'must be digits' }]);
      const scope = scopeOf(req);
      const outcome = await retryPsaDeliveries(deps.db, { ids: [id] }, { scope, actor: actorOf(req), requestId: req.requestId ?? null });
      const skipped = outcome.stillSkipped[0];
      // Still without its company ref: a clear answer, not a 200 for a delivery that will not be sent.
      if (skipped) throw new HubError('CONFLICT', `PSA delivery ${id} stays skipped: ${skipped.reason}`, [{ field: 'id', message: skipped.reason }]);
      if (outcome.retried.length === 0) {
        const [row] = await listDeliveriesById(deps, id, scope);
        if (!row) throw notFound('PSA delivery', id);
        throw new HubError('CONFLICT', `PSA delivery ${id} is ${row.state}; only failed or skipped deliveries are retried`, [{ field: 'id', message: `state is ${row.state}` }]);
      }
      await enqueue(outcome.retried);
      return { body: retryBody(outcome) };
    },
  );

  return router;
}

async function listDeliveriesById(deps: AppDeps, id: string, scope: ReturnType<typeof scopeOf>) {
  return listDeliveries(deps.db, { id, limit: 1 }, scope);
}
