import { z } from 'zod';
import { severitySchema } from '../alert-schema';
import { dedupConfigShape } from '../dedup-fields';

/**
 * TEMPLATE: the sender's payload, as its documentation shows it (cite the page). Validate what you
 * read; let the rest through (z.object, not strictObject): vendors add fields, and raw keeps them.
 * The example sender ("ExampleMon") posts one check result per request.
 */
export const exampleWebhookSchema = z.object({
  event: z.object({
    /** Unique per event; the same on a redelivery. */
    id: z.string().min(1),
    /** The check on the host: stable across firings, so it is the condition id. */
    checkId: z.string().min(1),
    status: z.enum(['PROBLEM', 'OK', 'TEST']),
    /** disaster, high, average, warning, information; unknown values fall back to defaultSeverity. */
    severity: z.string(),
    host: z.object({ id: z.string().optional(), name: z.string().optional(), customer: z.string().optional() }),
    summary: z.string().optional(),
    details: z.string().optional(),
    /** ISO 8601 with offset. */
    time: z.iso.datetime({ offset: true }),
    tags: z.record(z.string(), z.string()).optional(),
  }),
});
export type ExampleWebhook = z.infer<typeof exampleWebhookSchema>;

/** TEMPLATE: the plugin's options. Keep `...dedupConfigShape`; add what an admin may need to map. */
export const exampleConfigSchema = z.strictObject({
  ...dedupConfigShape,
  /** @defaultValue 'medium' */
  defaultSeverity: severitySchema.default('medium'),
});
export type ExampleConfig = z.infer<typeof exampleConfigSchema>;
