import { z } from 'zod';

/**
 * A `webhook` connection: a signed JSON POST per ticket event to any URL (Teams/Slack relays,
 * HaloPSA, in-house tools), signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) so receivers verify it with an existing library.
 */
export const webhookConfigSchema = z.strictObject({
  url: z.string().url().regex(/^https?:\/\//, 'must be http(s)'),
  /** The signing secret, `whsec_<base64>` as Standard Webhooks libraries generate it. Secret. */
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, 'must be a Standard Webhooks secret: whsec_ followed by base64 of at least 18 bytes'),
  /** Extra headers sent with every request (e.g. a relay's own token). Secret (values). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1000)).optional(),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export const WEBHOOK_SECRET_FIELDS = ['secret', 'headers'] as const;
