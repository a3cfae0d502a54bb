import type { CompanyScope } from '../../../core/access/company-scope';
import { deliveriesOfTicket } from '../../../db/queries/psa-deliveries';
import { Router } from 'express';
import { z } from 'zod';
import { notFound, validationError } from '../../../core/errors';
import { toDbDecimal } from '../../../core/contracts/money';
import { ticketOptions } from '../../../app/tickets/ticket-options';
import { workTicket } from '../../../app/tickets/work-ticket';
import { listSlaBreaches } from '../../../db/queries/ticket-sla';
import {
  getTicket,
  insertTimeEntry,
  listSlaPauses,
  listTicketNotes,
  listTicketTimeEntries,
  listTickets,
} from '../../../db/queries/tickets';
import { writeAudit } from '../../../db/queries/audit';
import { childrenOfTicket, relatedAlertsOfTicket } from '../../../db/queries/storms';
import { actorOf, scopeOf, type AppDeps } from '../../context';
import { idSchema, listQuery, pageOf, parseId, queryBoolean, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { patchBody, PRIORITIES, statusList, ticketDetailSchema, ticketOptionsSchema, ticketSchema, timeEntryBody, timeEntrySchema } from './schemas';
import { groupBreaches, ticketOut, timeEntryOut } from './serialize';
import { pageBody } from '../crud';

const MOUNT = '/tickets';
const TAGS = ['tickets'];

/** The clock of status changes (AppDeps.services.clock, as the contract routes read it; absent = system clock). */
export function nowOf(deps: AppDeps): Date {
  return deps.services.clock?.() ?? new Date();
}

/**
 * SPEC §8/§9 `GET /tickets` (filters, `slaState`, `triage`, `sort=nextDue`), `GET /tickets/:id`,
 * `PATCH /tickets/:id` (triage, status with SLA pauses, notes, first response — app/tickets/work-ticket.ts),
 * `GET /tickets/:id/options` (triage choices) and R-LINK-6 time entries. Every ticket carries `triage`
 * and `sla` (R-TKT-2). Reads: viewer; writes: operator (the people who work tickets).
 * A scoped token sees its companies' tickets; another company's ticket, or one without a company,
 * is a 404 to it.
 */
export function ticketsRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List tickets, newest first',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        deviceId: idSchema.optional(),
        companyId: idSchema.optional(),
        contractId: idSchema.optional(),
        status: statusList.optional(),
        priority: z.enum(PRIORITIES).optional(),
        needsTriage: queryBoolean.optional(),
        q: z.string().trim().max(200).optional().openapi({ description: 'Text in the title or description (case-insensitive).' }),
        triage: queryBoolean.optional().openapi({ description: 'Marked for triage or not (the same as needsTriage).' }),
        slaState: z.enum(['onTrack', 'atRisk', 'breached', 'met', 'none']).optional().openapi({ description: 'The SLA state now (see TicketSla.state).' }),
        sort: z.enum(['id', 'nextDue']).optional().openapi({ description: 'id: newest first (default). nextDue: earliest open due date first, tickets with nothing due last.' }),
        cursor: z
          .string()
          .regex(/^(\d{1,18}|(\d{1,15}|none)_\d{1,18})$/, { message: 'must be the nextCursor of a previous page' })
          .optional()
          .openapi({ description: 'The nextCursor of the previous page (of the same sort).' }),
      }),
      response: pageOf(ticketSchema),
    },
    async ({ query, req }) => {
      if (query.sort !== 'nextDue' && query.cursor !== undefined && !/^\d+$/.test(query.cursor)) {
        throw validationError('query.cursor', 'must be the nextCursor of a previous page of this sort');
      }
      const triage = query.triage ?? query.needsTriage;
      const now = nowOf(deps);
      const page = await listTickets(deps.db, {
        limit: query.limit,
        cursor: query.cursor,
        deviceId: query.deviceId,
        companyId: query.companyId,
        contractId: query.contractId,
        status: query.status,
        priority: query.priority,
        needsTriage: triage === undefined ? undefined : triage === 'true',
        text: query.q || undefined,
        slaState: query.slaState,
        sort: query.sort,
        now,
        scope: scopeOf(req),
      });
      const breaches = groupBreaches(await listSlaBreaches(deps.db, page.items.map((t) => String(t.id))));
      return { body: pageBody(page, (t) => ticketOut(t, breaches.get(String(t.id)) ?? [], now)) };
    },
  );

  const detail = async (id: string, scope: CompanyScope) => {
    const t = await getTicket(deps.db, id, scope);
    if (!t) throw notFound('ticket', id);
    const [notes, pauses, breaches, related, children, psa] = await Promise.all([
      listTicketNotes(deps.db, id),
      listSlaPauses(deps.db, id),
      listSlaBreaches(deps.db, [id]),
      relatedAlertsOfTicket(deps.db, id),
      childrenOfTicket(deps.db, id, scope),
      deliveriesOfTicket(deps.db, id),
    ]);
    return {
      ...ticketOut(t, breaches, nowOf(deps)),
      relatedAlerts: related.map((r) => ({
        ...r,
        firstOccurredAt: r.firstOccurredAt.toISOString(),
        lastOccurredAt: r.lastOccurredAt.toISOString(),
        resolvedAt: toInstant(r.resolvedAt),
      })),
      relatedAlertCount: related.filter((r) => r.state === 'firing').length,
      children: children.map((c) => ({
        id: String(c.id),
        dedupKey: c.dedup_key,
        title: c.title,
        status: c.status,
        deviceId: c.device_id === null ? null : String(c.device_id),
        firstOccurredAt: c.first_occurred_at.toISOString(),
        resolvedAt: toInstant(c.resolved_at),
      })),
      notes: notes.map((n) => ({ id: String(n.id), kind: n.kind, body: n.body, author: n.author, createdAt: n.created_at.toISOString() })),
      slaPauses: pauses.map((p) => ({ pausedAt: p.paused_at.toISOString(), resumedAt: toInstant(p.resumed_at) })),
      psa: psa.map((d) => ({
        connection: d.connection_name,
        externalId: d.external_id,
        externalNumber: d.external_number,
        state: d.state,
        attempts: d.attempts,
        lastError: d.last_error,
        deliveredAt: toInstant(d.delivered_at),
      })),
    };
  };

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a ticket with its notes and SLA pauses', tags: TAGS, role: 'viewer', response: ticketDetailSchema },
    async ({ params, req }) => ({ body: await detail(parseId(params.id, 'ticket'), scopeOf(req)) }),
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Work a ticket: triage (company, device, contract, service, priority, assignee, queue), status, notes (R-TKT-1, R-TKT-2)',
      tags: TAGS,
      role: 'operator',
      body: patchBody,
      response: ticketDetailSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'ticket');
      const r = await workTicket(deps.db, { ticketId: id, ...body }, { now: nowOf(deps), scope: scopeOf(req), actor: actorOf(req), requestId: req.requestId ?? null, fallbackZone: deps.config.HUB_RENEWAL_TIMEZONE });
      // Committed: the PSA deliveries the change made pending go on their queues (the worker's sweep finds any this misses).
      if (r.psa.length > 0) await deps.services.psaEnqueuer?.enqueue(r.psa).catch((err: unknown) => deps.logger.warn({ err: String(err), ticketId: id }, 'PSA enqueue failed; the delivery sweep picks the change up'));
      return { body: await detail(id, scopeOf(req)) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/options',
      summary: 'What the ticket may be triaged to: companies, the company’s devices, its contracts effective on the ticket’s date with their services (R-TKT-1)',
      tags: TAGS,
      role: 'viewer',
      query: z.strictObject({
        companyId: idSchema.optional().openapi({ description: 'Devices and contracts of this company (default: the ticket’s).' }),
        deviceId: idSchema.optional().openapi({ description: 'The device’s company decides; companies lists only it.' }),
      }),
      response: ticketOptionsSchema,
    },
    async ({ params, query, req }) => {
      const id = parseId(params.id, 'ticket');
      const o = await ticketOptions(deps.db, { ticketId: id, companyId: query.companyId, deviceId: query.deviceId }, scopeOf(req), deps.config.HUB_RENEWAL_TIMEZONE);
      return { body: o };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/time-entries',
      summary: 'Time entries of a ticket (R-LINK-6)',
      tags: TAGS,
      role: 'viewer',
      response: z.strictObject({ items: z.array(timeEntrySchema) }),
    },
    async ({ params, req }) => {
      const id = parseId(params.id, 'ticket');
      if (!(await getTicket(deps.db, id, scopeOf(req)))) throw notFound('ticket', id);
      return { body: { items: (await listTicketTimeEntries(deps.db, id)).map(timeEntryOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:id/time-entries',
      summary: 'Record labour on a ticket; it is booked on the ticket’s contract and service (R-LINK-6)',
      tags: TAGS,
      role: 'operator',
      body: timeEntryBody,
      status: 201,
      response: timeEntrySchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'ticket');
      const entry = await deps.db.transaction(async (trx) => {
        const t = await getTicket(trx, id, scopeOf(req));
        if (!t) throw notFound('ticket', id);
        const e = await insertTimeEntry(trx, {
          ticketId: t.id,
          contractId: t.contract_id,
          serviceId: t.service_id,
          workDate: body.workDate,
          hours: body.hours,
          costRate: body.costRate === undefined || body.costRate === null ? null : toDbDecimal(body.costRate, 'costRate'),
          description: body.description ?? null,
        });
        const after = timeEntryOut(e);
        await writeAudit(trx, { actor: actorOf(req), action: 'create', entityType: 'time_entry', entityId: after.id, companyId: t.company_id, after, requestId: req.requestId ?? null });
        return after;
      });
      return { status: 201, body: entry };
    },
  );

  return router;
}
