import type { CompanyScope } from '../../../core/access/company-scope';
import { Router } from 'express';
import { z } from 'zod';
import { notFound, validationError } from '../../../core/errors';
import { parseDecimal, toDbDecimal } from '../../../core/contracts/money';
import { slaStateOf, type SlaClock } from '../../../core/slas/sla-state';
import { ticketOptions } from '../../../app/tickets/ticket-options';
import { workTicket } from '../../../app/tickets/work-ticket';
import {
  getTicket,
  insertTimeEntry,
  listSlaPauses,
  listTicketNotes,
  listTicketTimeEntries,
  listTickets,
  type TimeEntryView,
} from '../../../db/queries/tickets';
import { listSlaBreaches } from '../../../db/queries/ticket-sla';
import { writeAudit } from '../../../db/queries/audit';
import type { TicketRow, TicketSlaBreachRow, TicketStatus } from '../../../db/tables';
import { actorOf, scopeOf, type AppDeps } from '../../context';
import { idSchema, instant, isoDate, listQuery, moneyInput, moneyOut, pageOf, parseId, queryBoolean, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { pageBody } from '../crud';

const MOUNT = '/tickets';
const TAGS = ['tickets'];

const STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const satisfies readonly TicketStatus[];
const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

/** The clock of status changes (AppDeps.services.clock, as the contract routes read it; absent = system clock). */
export function nowOf(deps: AppDeps): Date {
  return deps.services.clock?.() ?? new Date();
}

const slaSchema = z
  .strictObject({
    state: z.enum(['onTrack', 'atRisk', 'breached', 'met', 'none']).openapi({
      description:
        'none: no due dates. breached: a target was missed (recorded by the breach job, or its due date has passed unmet). met: every target met in time. atRisk: an open target has less than 25 % of its window (ticket creation to due date) left. onTrack: otherwise. While waiting for the customer the clock stands at the pause.',
    }),
    responseDueAt: instant.nullable(),
    resolutionDueAt: instant.nullable(),
    firstResponseAt: instant.nullable().openapi({ description: 'The first status change out of new, or a note sent with noteIsResponse.' }),
    resolvedAt: instant.nullable().openapi({ description: 'Resolved, or closed when it was closed without being resolved.' }),
    breaches: z.array(z.strictObject({ target: z.enum(['response', 'resolution']), at: instant })).openapi({ description: 'Recorded by the breach job when the due date passed (at = the due date).' }),
  })
  .openapi('TicketSla');

/** The SLA clock of a ticket (core/slas/sla-state.ts). */
const slaClockOf = (t: TicketRow, breaches: readonly TicketSlaBreachRow[]): SlaClock => ({
  createdAt: t.created_at,
  responseDueAt: t.first_response_due_at,
  resolutionDueAt: t.resolution_due_at,
  firstResponseAt: t.first_response_at,
  resolvedAt: t.resolved_at ?? t.closed_at,
  pausedAt: t.sla_paused_at,
  breaches: breaches.map((b) => ({ target: b.target, at: b.due_at })),
});

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
    assignee: z.string().nullable(),
    triage: z.boolean().openapi({ description: 'Marked for triage (no contract, or a rule asked for it); the same as needsTriage.' }),
    sla: slaSchema,
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

export const ticketOut = (t: TicketRow, breaches: readonly TicketSlaBreachRow[], now: Date): z.infer<typeof ticketSchema> => ({
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
  assignee: t.assignee,
  triage: t.needs_triage,
  sla: {
    state: slaStateOf(slaClockOf(t, breaches), now),
    responseDueAt: toInstant(t.first_response_due_at),
    resolutionDueAt: toInstant(t.resolution_due_at),
    firstResponseAt: toInstant(t.first_response_at),
    resolvedAt: toInstant(t.resolved_at ?? t.closed_at),
    breaches: breaches.map((b) => ({ target: b.target, at: b.due_at.toISOString() })),
  },
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

const nullableId = idSchema.nullable();
const patchBody = z
  .strictObject({
    status: z.enum(['in_progress', 'waiting_customer', 'resolved', 'closed']).optional().openapi({
      description: 'waiting_customer stops the SLA clock; leaving it moves the open due dates by the paused business time. closed is final. Leaving new is the first response.',
    }),
    note: z.string().trim().max(4000).optional(),
    noteIsResponse: z.boolean().optional().openapi({ description: 'The note is the first response to the customer (R-TKT-2); needs note.' }),
    companyId: idSchema.optional().openapi({ description: 'Moves the ticket to this company; device, contract and service not named are cleared.' }),
    deviceId: nullableId.optional().openapi({ description: 'A device of the ticket’s (new) company, or null.' }),
    contractId: nullableId.optional().openapi({
      description: 'A contract of the company effective on the ticket’s date, or null (the ticket then waits for triage). The SLA and due dates follow it; booked labour moves with it (R-LINK-6).',
    }),
    serviceId: nullableId.optional().openapi({ description: 'A service on the contract, or null. Left out when the contract changes: kept if the new contract has it.' }),
    priority: z.enum(PRIORITIES).optional().openapi({ description: 'Recomputes the due dates under the ticket’s SLA.' }),
    assignee: z.string().trim().min(1).max(200).nullable().optional(),
    queue: z.string().trim().min(1).max(200).nullable().optional(),
    reason: z.string().trim().max(2000).optional().openapi({ description: 'Why: required when company, device, contract, service or priority change; audited.' }),
    linkDevice: z
      .strictObject({ from: isoDate })
      .optional()
      .openapi({ description: 'Also link the ticket’s device to its contract and service from this day on (R-LINK-8), so the next alert decides on its own.' }),
  })
  .superRefine((b, ctx) => {
    if (Object.values(b).every((v) => v === undefined)) ctx.addIssue({ code: 'custom', message: 'nothing to change: name at least one field', path: [] });
    if (b.noteIsResponse && !b.note) ctx.addIssue({ code: 'custom', message: 'noteIsResponse needs a note', path: ['noteIsResponse'] });
  })
  .openapi({
    description:
      'Triage changes are validated (the contract belongs to the company and is effective on the ticket’s date, the service is on the contract, the device belongs to the company: 422 otherwise) and audited with the reason; the SLA and due dates follow the new contract and priority, counted from the ticket’s creation keeping paused time; booked labour moves with the contract. Status: waiting_customer pauses the SLA clock; closed tickets are not reopened (409).',
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

const choiceSchema = z.strictObject({ id: z.string(), name: z.string() });
const ticketOptionsSchema = z
  .strictObject({
    date: z.string().openapi({ format: 'date', description: 'The ticket’s date: contracts listed are effective on it.' }),
    companies: z.array(choiceSchema),
    devices: z.array(choiceSchema),
    contracts: z.array(choiceSchema.extend({ services: z.array(choiceSchema) })),
  })
  .openapi('TicketOptions');

function groupBreaches(rows: readonly TicketSlaBreachRow[]): Map<string, TicketSlaBreachRow[]> {
  const m = new Map<string, TicketSlaBreachRow[]>();
  for (const b of rows) {
    const k = String(b.ticket_id);
    const list = m.get(k);
    if (list) list.push(b);
    else m.set(k, [b]);
  }
  return m;
}

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
    const [notes, pauses, breaches] = await Promise.all([listTicketNotes(deps.db, id), listSlaPauses(deps.db, id), listSlaBreaches(deps.db, [id])]);
    return {
      ...ticketOut(t, breaches, nowOf(deps)),
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
      summary: 'Work a ticket: triage (company, device, contract, service, priority, assignee, queue), status, notes (R-TKT-1, R-TKT-2)',
      tags: TAGS,
      role: 'operator',
      body: patchBody,
      response: ticketDetailSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'ticket');
      await workTicket(deps.db, { ticketId: id, ...body }, { now: nowOf(deps), scope: scopeOf(req), actor: actorOf(req), requestId: req.requestId ?? null });
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
      const o = await ticketOptions(deps.db, { ticketId: id, companyId: query.companyId, deviceId: query.deviceId }, scopeOf(req));
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
