import { z } from 'zod';
import { dedupConfigShape } from '../dedup-fields';

/**
 * Datto RMM webhooks are templates the MSP writes in the monitor's (or the global) webhook
 * settings, with [variables] Datto substitutes; a separate template is posted on resolution.
 * https://rmm.datto.com/help/en/Content/3NEWUI/Monitors/Webhooks.htm
 * This schema accepts exactly the two templates in README.md (extra keys are allowed and kept in raw).
 */
export const DATTO_PRIORITIES = ['critical', 'high', 'moderate', 'low', 'information'] as const;

/** `[alert_uid]` left as is: Datto did not know the variable (a typo in the template) or had no value. */
export const UNSUBSTITUTED = /^\[[A-Za-z0-9_ .-]{1,64}\]$/;

const lower = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(values));
const id = z.union([z.string().max(200), z.int()]);
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export const dattoWebhookSchema = z
  .object({
    /** Set by the template itself: "alert" in the trigger template, "resolved" in the resolution template. */
    event: lower(['alert', 'resolved'] as const),
    alert_uid: id,
    alert_type: text(200).optional(),
    /** Critical, High, Moderate, Low, Information (any case). Required when event is "alert". */
    alert_priority: lower(DATTO_PRIORITIES).optional(),
    alert_message: text(65_536).optional(),
    device_id: id.optional(),
    device_hostname: text(255).optional(),
    site_id: id.optional(),
    site_name: text(255).optional(),
    /** Lenient: see parseLenientTimestamp() and README.md. */
    timestamp: z.union([z.string(), z.number()]).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.event === 'alert' && body.alert_priority === undefined) {
      ctx.addIssue({ code: 'custom', path: ['alert_priority'], message: 'is required when event is "alert"' });
    }
    if (body.device_id === undefined && body.device_hostname === undefined) {
      ctx.addIssue({ code: 'custom', path: ['device_hostname'], message: 'is required (or device_id), so the alert can be tied to a device' });
    }
  });

export type DattoWebhook = z.infer<typeof dattoWebhookSchema>;

export const dattoRmmConfigSchema = z.strictObject({ ...dedupConfigShape });
export type DattoRmmConfig = z.infer<typeof dattoRmmConfigSchema>;
