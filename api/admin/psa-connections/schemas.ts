import { z } from 'zod';
import { PSA_TYPES } from '../../../app/psa/connections';
import { instant } from '../../openapi/schemas';

/** `POST /api/v1/psa-connections` (SPEC §9): `{ name, type, enabled, config }`; config per type (connectors/README.md). */
export const connectionName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, starting with a letter or digit, at most 63')
  .openapi({ example: 'autotask' });

export const createConnectionBody = z.strictObject({
  name: connectionName,
  type: z.enum(PSA_TYPES),
  enabled: z.boolean().default(true),
  config: z.record(z.string(), z.unknown()).openapi({ description: "The connector's config, validated by its schema (autotask: username, secret, integrationCode, baseUrl?, webhookSecret?, picklist ids)." }),
  rateLimitPerHour: z.number().int().min(1).max(1_000_000).nullable().optional().openapi({ description: 'PSA calls per hour; default: HUB_PSA_AUTOTASK_RATE_PER_HOUR for autotask, none for webhook.' }),
});

export const patchConnectionBody = z
  .strictObject({
    enabled: z.boolean().optional(),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'Merged key by key over the stored config (secrets need not be sent again); a key set to null is removed.' }),
    rateLimitPerHour: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' });

export const connectionSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    type: z.enum(PSA_TYPES),
    enabled: z.boolean(),
    config: z.record(z.string(), z.unknown()).openapi({ description: 'Settings only: secret fields are never returned.' }),
    secretsConfigured: z.array(z.string()).nullable().openapi({ description: 'Which secret fields are stored (never their values); null when HUB_SECRET_KEYS cannot open them.' }),
    rateLimitPerHour: z.number().nullable(),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('PsaConnection');

export const connectionTestSchema = z
  .strictObject({ ok: z.boolean(), checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() })) })
  .openapi('PsaConnectionTest');

export const deliverySchema = z
  .strictObject({
    id: z.string(),
    ticketId: z.string(),
    connection: z.string(),
    externalId: z.string().nullable(),
    externalNumber: z.string().nullable(),
    state: z.enum(['pending', 'delivered', 'failed', 'skipped']),
    attempts: z.number(),
    lastError: z.string().nullable(),
    deliveredAt: instant.nullable(),
  })
  .openapi('PsaDelivery');
