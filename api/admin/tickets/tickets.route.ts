import type { CompanyScope } from '../../../core/access/company-scope';
import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors';
import { parseDecimal, toDbDecimal } from '../../../core/contracts/money';
import {
  changeTicketStatus,
  getTicket,
  insertTimeEntry,
  listSlaPauses,
  listTicketNotes,
  listTicketTimeEntries,
  listTickets,
  type TimeEntryView,
} from '../../../db/queries/tickets';
import { writeAudit } from '../../../db/queries/audit';
import type { TicketRow, TicketStatus } from '../../../db/tables';
import { actorOf, scopeOf, type AppDeps } from '../../context';
import { idSchema, instant, isoDate, listQuery, moneyInput, moneyOut, pageOf, parseId, queryBoolean, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { CLOCK } from '../contracts/today';
import { pageBody } from '../crud';

const MOUNT = '/tickets';
const TAGS = ['tickets'];

const STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const satisfies readonly TicketStatus[];
const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

/** The clock of status changes (AppDeps.services.clock, as the contract routes read it; absent = system clock). */
export function nowOf(deps: AppDeps): Date {
  const clock = deps.services[CLOCK];
  return typeof clock === 'function' ? (clock as () => Date)() : new Date();
}

export const ticketSchema = z
  .strictObject({
    id: z.string(),
    companyId: z.string().nullable(),
    deviceId: z.string().nullable(),
    contractId: z.string().nullable(),
    serviceId: z.string().nullable(),
    slaId: z.string().nullable(),
    source: z.string(),
    dedupKey: z.string(),
    priority: z.enum(PRIORITIES),
    status: z.enum(STATUSES),
    queue: z.string().nullable(),
    title: z.string(),
    description: z.string().nullable(),
    needsTriage: z.boolean(),
    occurrences: z.number().int(),
    flaps: z.number().int(),
    firstOccurredAt: instant,
    lastOccurredAt: instant,
    firstResponseDueAt: instant.nullable(),
    resolutionPlanDueAt: instant.nullable(),
    resolutionDueAt: instant.nullable(),
    slaPausedAt: instant.nullable().openapi({ description: 'Set while the ticket waits for the customer (SLA clock stopped).' }),
    resolvedAt: instant.nullable(),
    resolvedAutomatically: z.boolean(),
    closedAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
    rulesetVersion: z.number().int().nullable(),
    decision: z.unknown().openapi({ description: 'The stored decision: rules fired, ruleset version, facts and the chosen contract.' }),
  })
  .openapi('Ticket');

const noteSchema = z.strictObject({ id: z.string(), kind: z.string(), body: z.string(), author: z.string().nullable(), createdAt: instant });
const pauseSchema = z.strictObject({ pausedAt: instant, resumedAt: instant.nullable() });
const ticketDetailSchema = ticketSchema
  .extend({
    notes: z.array(noteSchema).openapi({ description: 'Oldest first: status changes, automatic notes, operator notes.' }),
    slaPauses: z.array(pauseSchema),
  })
  .openapi('TicketDetail');

export const ticketOut = (t: TicketRow): z.infer<typeof ticketSchema> => ({
  id: String(t.id),
  companyId: t.company_id === null ? null : String(t.company_id),
  deviceId: t.device_id === null ? null : String(t.device_id),
  contractId: t.contract_id === null ? null : String(t.contract_id),
  serviceId: t.service_id === null ? null : String(t.service_id),
  slaId: t.sla_id === null ? null : String(t.sla_id),
  source: t.source,
  dedupKey: t.dedup_key,
  priority: t.priority,
  status: t.status,
  queue: t.queue,
  title: t.title,
  description: t.description,
  needsTriage: t.needs_triage,
  occurrences: t.occurrences,
  flaps: t.flaps,
  firstOccurredAt: t.first_occurred_at.toISOString(),
  lastOccurredAt: t.last_occurred_at.toISOString(),
  firstResponseDueAt: toInstant(t.first_response_due_at),
  resolutionPlanDueAt: toInstant(t.resolution_plan_due_at),
  resolutionDueAt: toInstant(t.resolution_due_at),
  slaPausedAt: toInstant(t.sla_paused_at),
  resolvedAt: toInstant(t.resolved_at),
  resolvedAutomatically: t.resolved_automatically,
  closedAt: toInstant(t.closed_at),
  createdAt: t.created_at.toISOString(),
  updatedAt: t.updated_at.toISOString(),
  rulesetVersion: t.ruleset_version,
  decision: t.decision,
});

const statusList = z
  .string()
  .max(200)
  .transform((s, ctx) => {
    const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
    const bad = parts.find((p) => !(STATUSES as readonly string[]).includes(p));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown status "${bad}"; one or more of ${STATUSES.join(', ')}, comma-separated` });
      return z.NEVER;
    }
    return parts as TicketStatus[];
  })
  .openapi({ type: 'string', description: `One or more of ${STATUSES.join(', ')}, comma-separated.`, example: 'new,in_progress' });

const patchBody = z.strictObject({
  status: z.enum(['in_progress', 'waiting_customer', 'resolved', 'closed']).openapi({
    description: 'waiting_customer stops the SLA clock; leaving it moves the open due dates by the paused business time. closed is final.',
  }),
  note: z.string().trim().max(4000).optional(),
});

const hoursInput = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    try {
      const scaled = parseDecimal(v, 'hours', { maxDecimals: 2 });
      if (scaled <= 0n || scaled > 240_000n) {
        ctx.addIssue({ code: 'custom', message: 'must be more than 0 and at most 24' });
        return z.NEVER;
      }
      return toDbDecimal(v, 'hours', { maxDecimals: 2 });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a number of hours with at most 2 decimals' });
      return z.NEVER;
    }
  })
  .openapi({ type: 'number', description: 'Hours worked that day: more than 0, at most 24, 2 decimals.', example: 1.5 });

const timeEntryBody = z.strictObject({
  workDate: isoDate,
  hours: hoursInput,
  costRate: moneyInput.nullable().optional().openapi({ description: 'Labour cost per hour (for profitability); omitted = unknown, counted as 0 and reported as unrated hours.' }),
  description: z.string().trim().max(2000).nullable().optional(),
});

const timeEntrySchema = z
  .strictObject({
    id: z.string(),
    ticketId: z.string().nullable(),
    contractId: z.string().nullable(),
    contractName: z.string().nullable(),
    serviceId: z.string().nullable(),
    serviceName: z.string().nullable(),
    workDate: z.string().openapi({ format: 'date' }),
    hours: z.number(),
    costRate: z.number().nullable(),
    description: z.string().nullable(),
    createdAt: instant,
  })
  .openapi('TimeEntry');

const timeEntryOut = (e: TimeEntryView): z.infer<typeof timeEntrySchema> => ({
  id: String(e.id),
  ticketId: e.ticket_id === null ? null : String(e.ticket_id),
  contractId: e.contract_id === null ? null : String(e.contract_id),
  contractName: e.contract_name,
  serviceId: e.service_id === null ? null : String(e.service_id),
  serviceName: e.service_name,
  workDate: e.work_date,
  hours: Number(e.hours),
  costRate: moneyOut(e.cost_rate),
  description: e.description,
  createdAt: e.created_at.toISOString(),
});

/**
 * SPEC §8 `GET /tickets`, `GET /tickets/:id`, `PATCH /tickets/:id` (status, SLA pauses) and
 * R-LINK-6 time entries. Reads: viewer; writes: operator (the people who work tickets).
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
      }),
      response: pageOf(ticketSchema),
    },
    async ({ query, req }) => {
      const page = await listTickets(deps.db, {
        limit: query.limit,
        cursor: query.cursor,
        deviceId: query.deviceId,
        companyId: query.companyId,
        contractId: query.contractId,
        status: query.status,
        priority: query.priority,
        needsTriage: query.needsTriage === undefined ? undefined : query.needsTriage === 'true',
        text: query.q || undefined,
        scope: scopeOf(req),
      });
      return { body: pageBody(page, ticketOut) };
    },
  );

  const detail = async (id: string, scope: CompanyScope) => {
    const t = await getTicket(deps.db, id, scope);
    if (!t) throw notFound('ticket', id);
    const [notes, pauses] = await Promise.all([listTicketNotes(deps.db, id), listSlaPauses(deps.db, id)]);
    return {
      ...ticketOut(t),
      notes: notes.map((n) => ({ id: String(n.id), kind: n.kind, body: n.body, author: n.author, createdAt: n.created_at.toISOString() })),
      slaPauses: pauses.map((p) => ({ pausedAt: p.paused_at.toISOString(), resumedAt: toInstant(p.resumed_at) })),
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
      summary: 'Change a ticket’s status (waiting_customer pauses the SLA clock; closed tickets are not reopened)',
      tags: TAGS,
      role: 'operator',
      body: patchBody,
      response: ticketDetailSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'ticket');
      await changeTicketStatus(deps.db, {
        ticketId: id,
        status: body.status,
        note: body.note,
        at: nowOf(deps),
        scope: scopeOf(req),
        actor: actorOf(req),
        requestId: req.requestId ?? null,
      });
      return { body: await detail(id, scopeOf(req)) };
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
