import { z } from 'zod';
import { isValidTimeZone } from '../../../core/dates';
import { timeIntervalsSchema } from '../../../core/maintenance/time-intervals';
import { checkWindowDefinition } from '../../../core/maintenance/window-match';
import { idInputSchema, instant, nameSchema, nonEmptyPatch } from '../../openapi/schemas';

/** Request and response schemas of /maintenance-windows (zod, registered in the OpenAPI document). */

const scopeText = (max: number) => z.string().trim().min(1, { message: 'must not be empty (leave it out, or null, to match every alert)' }).max(max);

const isoInstant = z.iso.datetime({ offset: true });
const instantInput = z
  .string()
  .refine((s) => isoInstant.safeParse(s).success, { message: 'must be an ISO 8601 instant with offset, e.g. 2026-11-28T22:00:00+01:00' })
  .openapi({ format: 'date-time', example: '2026-11-28T22:00:00+01:00' });

export const toDate = (s: string | null | undefined): Date | null | undefined => (s === undefined ? undefined : s === null ? null : new Date(s));

const fields = {
  name: nameSchema,
  companyId: idInputSchema.nullable().openapi({ description: 'Only alerts of this company.' }),
  site: scopeText(200).nullable().openapi({ description: "Only alerts of this site (the sender's site / customer id, or the device's site)." }),
  deviceId: idInputSchema.nullable().openapi({ description: 'Only alerts of this device.' }),
  category: scopeText(100).nullable().openapi({ description: 'Only alerts of this category (case-insensitive).' }),
  timezone: z
    .string({ error: 'is required: the IANA time zone the intervals are read in, e.g. "Europe/Berlin"' })
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' })
    .openapi({ description: 'IANA zone the time intervals are read in (an interval may set its own `location`).', example: 'Europe/Berlin' }),
  timeIntervals: timeIntervalsSchema.max(100).openapi({
    description: "Recurring part, Alertmanager `time_intervals` semantics (times, weekdays, days_of_month, months, years, location). Empty = no recurrence restriction.",
  }),
  startsAt: instantInput.nullable().openapi({ description: 'One-off start (inclusive).' }),
  endsAt: instantInput.nullable().openapi({ description: 'One-off end (exclusive).' }),
  processAfter: z.boolean().openapi({ description: 'Alerts still firing when the window ends are processed then.' }),
};

export const definitionIssues = (w: { startsAt?: string | null | undefined; endsAt?: string | null | undefined; timeIntervals?: z.infer<typeof timeIntervalsSchema> | undefined }) =>
  checkWindowDefinition({ startsAt: toDate(w.startsAt) ?? null, endsAt: toDate(w.endsAt) ?? null, timeIntervals: w.timeIntervals ?? [] });

export const createBody = z
  .strictObject({
    name: fields.name,
    companyId: fields.companyId.optional(),
    site: fields.site.optional(),
    deviceId: fields.deviceId.optional(),
    category: fields.category.optional(),
    timezone: fields.timezone,
    timeIntervals: fields.timeIntervals.optional(),
    startsAt: fields.startsAt.optional(),
    endsAt: fields.endsAt.optional(),
    processAfter: fields.processAfter.optional(),
  })
  .superRefine((w, ctx) => {
    for (const issue of definitionIssues(w)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .openapi('MaintenanceWindowInput');

export const patchBody = nonEmptyPatch(
  z.strictObject({
    name: fields.name.optional(),
    companyId: fields.companyId.optional(),
    site: fields.site.optional(),
    deviceId: fields.deviceId.optional(),
    category: fields.category.optional(),
    timezone: fields.timezone.optional(),
    timeIntervals: fields.timeIntervals.optional(),
    startsAt: fields.startsAt.optional(),
    endsAt: fields.endsAt.optional(),
    processAfter: fields.processAfter.optional(),
  }),
);

export const maintenanceWindowSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    companyId: z.string().nullable(),
    site: z.string().nullable(),
    deviceId: z.string().nullable(),
    category: z.string().nullable(),
    timezone: z.string(),
    timeIntervals: timeIntervalsSchema,
    startsAt: instant.nullable(),
    endsAt: instant.nullable(),
    processAfter: z.boolean(),
    inForce: z.boolean().openapi({ description: 'The window is in force now (time only; scope aside).' }),
    createdAt: instant,
  })
  .openapi('MaintenanceWindow');

export type WindowOut = z.infer<typeof maintenanceWindowSchema>;

export const windowAlertSchema = z
  .strictObject({
    alertId: z.string(),
    receiptId: z.string(),
    source: z.string(),
    sourceAlertId: z.string(),
    dedupKey: z.string(),
    state: z.enum(['firing', 'resolved']),
    severity: z.string(),
    category: z.string().nullable(),
    title: z.string(),
    hostname: z.string().nullable(),
    site: z.string().nullable(),
    occurredAt: instant,
    receivedAt: instant,
    status: z.string().openapi({ description: "The alert's status now: suppressed while held; processed once released." }),
    outcome: z.string().nullable(),
    ticketId: z.string().nullable(),
    release: z
      .enum(['requeued', 'resolved', 'superseded', 'kept'])
      .nullable()
      .openapi({ description: 'What happened when the window ended: requeued (processed then), resolved (a resolve came first), superseded (a later firing carried it), kept (no processAfter); null while held.' }),
    releasedAt: instant.nullable(),
  })
  .openapi('MaintenanceWindowAlert');

export const rulesWindowsSchema = z
  .strictObject({
    items: z.array(
      z.strictObject({
        key: z.string(),
        name: z.string(),
        file: z.string().nullable(),
        company: z.string().nullable().openapi({ description: "A company's code or name." }),
        site: z.string().nullable(),
        device: z.string().nullable().openapi({ description: "A device's hostname." }),
        category: z.string().nullable(),
        timezone: z.string(),
        timeIntervals: timeIntervalsSchema,
        startsAt: instant.nullable(),
        endsAt: instant.nullable(),
        processAfter: z.boolean(),
        inForce: z.boolean(),
      }),
    ),
    issues: z.array(
      z.strictObject({ severity: z.literal('error'), file: z.string(), rule: z.null(), pointer: z.string(), message: z.string() }),
    ),
  })
  .openapi('RulesFileMaintenanceWindows');

export type CreateInput = z.infer<typeof createBody>;
