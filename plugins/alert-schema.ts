import { z } from 'zod';
import type { NormalizedAlert, NormalizeResult } from './types';

/**
 * The normalized alert (plugins/types.ts, R-ALR-2) as a zod schema: plugin output is checked
 * against it before anything is stored, so a plugin bug is a clear error, not a bad row.
 */
export const severitySchema = z.enum(['critical', 'high', 'medium', 'low', 'info']);
export const alertStateSchema = z.enum(['firing', 'resolved']);

/** Cap of sourceAlertId and dedupKey: finishAlert() refuses longer ones as the sender's mistake (a 400), before this schema would call it a plugin bug (a 500). */
export const MAX_ALERT_KEY_LENGTH = 1000;

export const normalizedAlertSchema = z.strictObject({
  sourceAlertId: z.string().min(1).max(MAX_ALERT_KEY_LENGTH),
  dedupKey: z.string().min(1).max(MAX_ALERT_KEY_LENGTH),
  state: alertStateSchema,
  severity: severitySchema,
  category: z.string().nullable(),
  title: z.string().min(1),
  message: z.string().nullable(),
  device: z.strictObject({
    sourceDeviceId: z.string().nullable(),
    hostname: z.string().nullable(),
    site: z.string().nullable(),
    siteName: z.string().nullable().optional(),
  }),
  occurredAt: z.iso.datetime({ offset: true }),
  labels: z.record(z.string(), z.string()),
  raw: z.unknown(),
}) satisfies z.ZodType<NormalizedAlert>;

export const normalizeResultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('alerts'), alerts: z.array(normalizedAlertSchema).min(1) }),
  z.strictObject({ kind: z.literal('ignored'), reason: z.string().min(1) }),
]) satisfies z.ZodType<NormalizeResult>;
