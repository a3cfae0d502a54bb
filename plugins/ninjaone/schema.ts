import { z } from 'zod';
import { severitySchema } from '../alert-schema';
import { dedupConfigShape } from '../dedup-fields';

/**
 * NinjaOne (NinjaRMM) activity webhook: one activity per request, the shape of the API v2
 * Activity object ("Ninja RMM Public API v2.0.5 Webhooks", webhook.yaml; the notification-channel
 * webhook posts the same shape). Only CONDITION activities are alerts.
 */
const id = z.union([z.int(), z.string().min(1)]);
const upper = <T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), z.enum(values));

export const NINJA_SEVERITIES = ['NONE', 'MINOR', 'MODERATE', 'MAJOR', 'CRITICAL'] as const;
export const NINJA_PRIORITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH'] as const;

/** Enough to decide whether the activity is an alert at all. */
export const ninjaEnvelopeSchema = z.object({
  id,
  activityType: z.string().min(1),
  statusCode: z.string().nullish(),
  status: z.string().nullish(),
});

export const ninjaDeviceSchema = z.object({
  id: id.optional(),
  organizationId: id.nullish(),
  locationId: id.nullish(),
  nodeClass: z.string().nullish(),
  displayName: z.string().nullish(),
  systemName: z.string().nullish(),
  dnsName: z.string().nullish(),
  netbiosName: z.string().nullish(),
  references: z
    .object({
      organization: z.object({ name: z.string().nullish() }).nullish(),
      location: z.object({ name: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

/** A CONDITION activity: what a triggered or reset monitoring condition carries. */
export const ninjaConditionSchema = ninjaEnvelopeSchema.extend({
  /** Epoch seconds, may be fractional (1742391675.556). */
  activityTime: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?$/, 'must be epoch seconds')]),
  deviceId: id.nullish(),
  organizationId: id.nullish(),
  /** The condition's series: the same for every activity of one condition on one device. */
  seriesUid: z.string().min(1, 'must not be empty'),
  severity: upper(NINJA_SEVERITIES).nullish(),
  priority: upper(NINJA_PRIORITIES).nullish(),
  sourceConfigUid: z.string().nullish(),
  sourceName: z.string().nullish(),
  subject: z.string().nullish(),
  message: z.string().nullish(),
  type: z.string().nullish(),
  data: z
    .object({ message: z.object({ code: z.string().nullish() }).nullish() })
    .nullish(),
  device: ninjaDeviceSchema.nullish(),
});

export type NinjaCondition = z.infer<typeof ninjaConditionSchema>;

export const ninjaoneConfigSchema = z.strictObject({
  ...dedupConfigShape,
  /** Severity when the activity carries neither severity nor priority. @defaultValue 'medium' */
  defaultSeverity: severitySchema.default('medium'),
});
export type NinjaoneConfig = z.infer<typeof ninjaoneConfigSchema>;
