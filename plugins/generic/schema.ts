import { z } from 'zod';
import { alertStateSchema, severitySchema } from '../alert-schema';
import { dedupConfigShape } from '../dedup-fields';

/**
 * The hub's own alert shape (SPEC §8 "Webhooks"), for any sender that can template JSON: scripts,
 * n8n, PowerShell, monitoring tools without a plugin. Unknown extra fields are allowed (kept in
 * raw), so senders can add context without breaking.
 */
export const GENERIC_MAX_ALERTS = 500;

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const nonBlank = (max: number) => text(max).refine((s) => s.trim() !== '', 'must not be blank');

export const genericDeviceSchema = z
  .object({
    /** The sender's own device id. */
    id: z.union([nonBlank(200), z.int()]).nullish(),
    hostname: nonBlank(255).nullish(),
    /** The sender's site / customer id, mapped to a company via sourceSites. */
    site: z.union([nonBlank(200), z.int()]).nullish(),
  })
  .refine((d) => (d.id !== undefined && d.id !== null) || (d.hostname !== undefined && d.hostname !== null), {
    message: 'needs id or hostname, so the alert can be tied to a device',
  });

const labelValue = z.union([text(1024), z.number(), z.boolean()]);

export const genericAlertSchema = z.object({
  /** The sender's id of the alert condition; the same id on firing and on resolved. */
  alertId: z.union([nonBlank(200), z.int()]),
  state: alertStateSchema,
  severity: severitySchema,
  category: text(100).nullish(),
  title: nonBlank(500),
  message: text(65_536).nullish(),
  device: genericDeviceSchema,
  /** ISO 8601 instant with offset (`Z` or `+01:00`). */
  occurredAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 instant with offset, e.g. 2026-11-23T10:15:00+01:00' }),
  labels: z
    .record(z.string().min(1).max(128), labelValue)
    .refine((l) => Object.keys(l).length <= 64, 'at most 64 labels')
    .optional(),
});

export type GenericAlert = z.infer<typeof genericAlertSchema>;

export const genericConfigSchema = z.strictObject({ ...dedupConfigShape });
export type GenericConfig = z.infer<typeof genericConfigSchema>;
