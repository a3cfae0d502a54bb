import { z } from 'zod';
import { parseDecimal, toDbDecimal } from '../../../core/contracts/money';
import type { TicketStatus } from '../../../db/tables';
import { instant, isoDate, moneyInput } from '../../openapi/schemas';

/** The tickets API's request and response schemas (zod, registered in the OpenAPI document by the routes). */
export const STATUSES = ['new', 'in_progress', 'waiting_customer', 'resolved', 'closed'] as const satisfies readonly TicketStatus[];
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;

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

export const noteSchema = z.strictObject({ id: z.string(), kind: z.string(), body: z.string(), author: z.string().nullable(), createdAt: instant });
export const pauseSchema = z.strictObject({ pausedAt: instant, resumedAt: instant.nullable() });
export const ticketDetailSchema = ticketSchema
  .extend({
    notes: z.array(noteSchema).openapi({ description: 'Oldest first: status changes, automatic notes, operator notes.' }),
    slaPauses: z.array(pauseSchema),
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

export const patchBody = z.strictObject({
  status: z.enum(['in_progress', 'waiting_customer', 'resolved', 'closed']).openapi({
    description: 'waiting_customer stops the SLA clock; leaving it moves the open due dates by the paused business time. closed is final.',
  }),
  note: z.string().trim().max(4000).optional(),
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
