import { z } from 'zod';
import { parseDecimal, toDbDecimal } from '../../../core/contracts/money';
import type { TicketStatus } from '../../../db/tables';
import { idSchema, instant, isoDate, moneyInput } from '../../openapi/schemas';

/** The tickets API's request and response schemas (zod, registered in the OpenAPI document by the routes). */
export const STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const satisfies readonly TicketStatus[];
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

export const slaSchema = z
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
    parentTicketId: z.string().nullable().openapi({ description: 'R-STORM-1: the parent incident this ticket is a child of (a group rule).' }),
  })
  .openapi('Ticket');

export const noteSchema = z.strictObject({ id: z.string(), kind: z.string(), body: z.string(), author: z.string().nullable(), createdAt: instant });
export const pauseSchema = z.strictObject({ pausedAt: instant, resumedAt: instant.nullable() });
export const relatedAlertSchema = z
  .strictObject({
    id: z.string(),
    rule: z.string(),
    dedupKey: z.string(),
    alertId: z.string().nullable(),
    title: z.string(),
    state: z.enum(['firing', 'resolved', 'released']).openapi({ description: 'released: it opened its own ticket (releasedTicketId) when this ticket resolved.' }),
    occurrences: z.number().int(),
    firstOccurredAt: instant,
    lastOccurredAt: instant,
    resolvedAt: instant.nullable(),
    releasedTicketId: z.string().nullable(),
  })
  .openapi('RelatedAlert');
export const childSchema = z
  .strictObject({ id: z.string(), dedupKey: z.string(), title: z.string(), status: z.enum(STATUSES), deviceId: z.string().nullable(), firstOccurredAt: instant, resolvedAt: instant.nullable() })
  .openapi('ChildTicket');
export const ticketDetailSchema = ticketSchema
  .extend({
    notes: z.array(noteSchema).openapi({ description: 'Oldest first: status changes, automatic notes, operator notes.' }),
    slaPauses: z.array(pauseSchema),
    relatedAlerts: z.array(relatedAlertSchema).openapi({ description: 'R-STORM-1: alerts muted by this ticket (an inhibit rule), oldest first, at most 1000.' }),
    relatedAlertCount: z.number().int().openapi({ description: 'How many related alerts are still firing.' }),
    children: z.array(childSchema).openapi({ description: 'R-STORM-1: child tickets of this parent incident (a group rule), oldest first, at most 1000, in the token’s companies.' }),
  })
  .openapi('TicketDetail');

export const statusList = z
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

export const nullableId = idSchema.nullable();
export const patchBody = z
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

export const hoursInput = z
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

export const timeEntryBody = z.strictObject({
  workDate: isoDate,
  hours: hoursInput,
  costRate: moneyInput.nullable().optional().openapi({ description: 'Labour cost per hour (for profitability); omitted = unknown, counted as 0 and reported as unrated hours.' }),
  description: z.string().trim().max(2000).nullable().optional(),
});

export const timeEntrySchema = z
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

const choiceSchema = z.strictObject({ id: z.string(), name: z.string() });
export const ticketOptionsSchema = z
  .strictObject({
    date: z.string().openapi({ format: 'date', description: 'The ticket’s date: contracts listed are effective on it.' }),
    companies: z.array(choiceSchema),
    devices: z.array(choiceSchema),
    contracts: z.array(choiceSchema.extend({ services: z.array(choiceSchema) })),
  })
  .openapi('TicketOptions');
