import { z } from 'zod';

/**
 * An `autotask` connection's config (SPEC §9 fixed names): `username`, `secret`, `integrationCode`,
 * `baseUrl?`, `webhookSecret`, picklist ids. The defaults are Autotask's shipped picklist values;
 * an instance whose admins changed them sets its own (Admin → Features & Settings → Service Desk
 * (Tickets) → the picklist, or `GET /v1.0/Tickets/entityInformation/fields`).
 */
const picklistId = z.coerce.number().int();

export const AUTOTASK_DEFAULTS = {
  statusNew: 1,
  statusInProgress: 8,
  statusWaitingCustomer: 7,
  statusComplete: 5,
  /** Autotask's Priority picklist: 1 High, 2 Medium, 3 Low, 4 Critical. */
  priorityMap: { critical: 4, high: 1, medium: 2, low: 3 },
  /** TicketType picklist: 5 = Alert. */
  ticketType: 5,
  /** TicketNotes noteType 1 (Task Summary) and publish 1 (All Autotask Users). */
  noteType: 1,
  notePublish: 1,
} as const;

export const autotaskConfigSchema = z.strictObject({
  /** The API user's user name (an API-only user, "API User (API-only)" security level). */
  username: z.string().min(1).max(200),
  /** The API user's secret. Secret. */
  secret: z.string().min(1).max(500),
  /** The tracking identifier (integration code) of the API user. Secret. */
  integrationCode: z.string().min(1).max(200),
  /** The zone's REST base URL, ending in /atservicesrest (e.g. https://webservices5.autotask.net/atservicesrest); looked up once when absent. */
  baseUrl: z
    .string()
    .url()
    .regex(/^https?:\/\/[^?#]+\/atservicesrest\/?$/, 'must be the zone URL ending in /atservicesrest')
    .transform((u) => u.replace(/\/$/, ''))
    .optional(),
  /** The secret key of the ticket webhook (status back, item 4). Secret. */
  webhookSecret: z.string().min(1).max(500).optional(),
  /**
   * Autotask's internal field id of the ticket's `status` for the webhook's subscribed field
   * (`hub psa register-webhook`); absent = read from the TicketWebhookFields `fieldID` picklist.
   */
  webhookStatusFieldId: picklistId.optional(),
  /** Queue (QueueID picklist) new tickets go to; absent = Autotask's default for the API user. */
  queueId: picklistId.optional(),
  statusNew: picklistId.default(AUTOTASK_DEFAULTS.statusNew),
  statusInProgress: picklistId.default(AUTOTASK_DEFAULTS.statusInProgress),
  statusWaitingCustomer: picklistId.default(AUTOTASK_DEFAULTS.statusWaitingCustomer),
  statusComplete: picklistId.default(AUTOTASK_DEFAULTS.statusComplete),
  priorityMap: z
    .strictObject({ critical: picklistId, high: picklistId, medium: picklistId, low: picklistId })
    .partial()
    .default({})
    .transform((m) => ({ ...AUTOTASK_DEFAULTS.priorityMap, ...m })),
  ticketType: picklistId.default(AUTOTASK_DEFAULTS.ticketType),
  /** Source picklist id (e.g. "Monitoring Alert"); absent = not sent. */
  ticketSource: picklistId.optional(),
  /** Issue type / sub-issue type picklist ids; absent = not sent. */
  issueType: picklistId.optional(),
  subIssueType: picklistId.optional(),
  noteType: picklistId.default(AUTOTASK_DEFAULTS.noteType),
  notePublish: picklistId.default(AUTOTASK_DEFAULTS.notePublish),
});

/** The config as posted (defaults not yet filled in). */
export type AutotaskConfigInput = z.input<typeof autotaskConfigSchema>;
export type AutotaskConfig = z.infer<typeof autotaskConfigSchema>;

export const AUTOTASK_SECRET_FIELDS = ['secret', 'integrationCode', 'webhookSecret'] as const;
