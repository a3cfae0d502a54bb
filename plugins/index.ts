import { z } from 'zod';
import { HubError } from '../core/errors';
import { findUnstorableJson } from '../core/storable-json';
import { normalizeResultSchema } from './alert-schema';
import { alertmanagerPlugin } from './alertmanager';
import { sourceAuthSchema } from './auth/source-auth';
import { HMAC_DEFAULTS } from './auth/verify-sender';
import { dattoRmmPlugin } from './datto-rmm';
import { genericPlugin } from './generic';
import { grafanaPlugin } from './grafana';
import { ninjaonePlugin } from './ninjaone';
import { getPath, plainPathSchema } from './object-path';
import { fieldError, issuesToPathProblems, zodError } from './payload-error';
import type { HubPlugin, NormalizeResult } from './types';

/**
 * The plugin registry and the source configuration (SPEC §8 "Sources"). Adding a plugin = one
 * folder + one line in PLUGIN_IDS and `plugins` (see README.md).
 */
export const PLUGIN_IDS = ['generic', 'datto-rmm', 'ninjaone', 'alertmanager', 'grafana'] as const;
export type PluginId = (typeof PLUGIN_IDS)[number];

// HubPlugin<C> is assignable to HubPlugin<unknown>: configSchema is covariant and normalize is a
// method (bivariant), so the registry needs no casts; callers parse config with the plugin's own schema.
export const plugins: Readonly<Record<PluginId, HubPlugin<unknown>>> = {
  generic: genericPlugin,
  'datto-rmm': dattoRmmPlugin,
  ninjaone: ninjaonePlugin,
  alertmanager: alertmanagerPlugin,
  grafana: grafanaPlugin,
};

export const isPluginId = (id: string): id is PluginId => (PLUGIN_IDS as readonly string[]).includes(id);

/** The plugin of that id, or undefined (a source row naming a plugin this build no longer has). */
export function getPlugin(id: string): HubPlugin<unknown> | undefined {
  return isPluginId(id) ? plugins[id] : undefined;
}

/**
 * A source's plugin config through the plugin's own schema, defaults filled in.
 * @throws HubError VALIDATION_FAILED naming `config.<field>`, or `plugin` for an unknown plugin.
 */
export function resolvePluginConfig(pluginId: string, config: unknown): unknown {
  const plugin = getPlugin(pluginId);
  if (!plugin) throw new HubError('VALIDATION_FAILED', `plugin: unknown plugin "${pluginId}" (known: ${PLUGIN_IDS.join(', ')})`);
  const value = config ?? {};
  const parsed = plugin.configSchema.safeParse(value);
  if (!parsed.success) throw zodError(parsed.error, ['config'], value);
  return parsed.data;
}

/** The grammar of a source name (also the database's CHECK); the webhook intake refuses any other name before any lookup. */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const sourceShape = {
  /** The webhook URL is /hooks/<name>. */
  name: z.string().regex(SOURCE_NAME, 'must be 1-63 characters: lower-case letters, digits, "_" or "-", starting with a letter or digit'),
  plugin: z.enum(PLUGIN_IDS, { error: `must be one of ${PLUGIN_IDS.join(', ')}` }),
  auth: sourceAuthSchema,
  /**
   * Dot path into each alert's own payload part whose value is the site / customer id, overriding
   * the plugin's (e.g. `labels.customer`). Applied by normalizeDelivery().
   */
  siteField: plainPathSchema.optional(),
  /** The plugin's options, validated by its configSchema. @defaultValue {} */
  config: z.record(z.string(), z.unknown()).optional(),
  /** Body cap for this source. @defaultValue HUB_MAX_BODY_BYTES */
  maxBodyBytes: z.int().min(1024).max(64 * 1024 * 1024).optional(),
  rateLimitPerSecond: z.int().min(1).max(100_000).optional(),
  /** @defaultValue true */
  enabled: z.boolean().optional(),
};

/** The plugin decides what its config may hold and which auth its sender can do; errors name `config.<field>` / `auth.type`. */
function checkAgainstPlugin(
  source: { plugin: PluginId; auth: { type: string; scheme?: string | undefined }; config?: Record<string, unknown> | undefined },
  ctx: z.RefinementCtx,
  base: PropertyKey[] = [],
): void {
  const plugin = plugins[source.plugin];
  const config = source.config ?? {};
  const parsed = plugin.configSchema.safeParse(config);
  if (!parsed.success) {
    for (const problem of issuesToPathProblems(parsed.error.issues, config)) {
      ctx.addIssue({ code: 'custom', path: [...base, 'config', ...problem.path], message: problem.message });
    }
  }
  if (!(plugin.auth as readonly string[]).includes(source.auth.type)) {
    ctx.addIssue({
      code: 'custom',
      path: [...base, 'auth', 'type'],
      message: `${plugin.displayName} cannot authenticate with ${source.auth.type}; use ${plugin.auth.join(' or ')}`,
    });
  }
  if (source.auth.type === 'hmac' && plugin.hmacSchemes !== undefined) {
    const scheme = source.auth.scheme ?? HMAC_DEFAULTS.scheme;
    if (!(plugin.hmacSchemes as readonly string[]).includes(scheme)) {
      ctx.addIssue({
        code: 'custom',
        path: [...base, 'auth', 'scheme'],
        message: `${plugin.displayName} cannot sign with scheme ${scheme}; use ${plugin.hmacSchemes.join(' or ')}`,
      });
    }
  }
}

/** Body of `POST /api/v1/sources` (SPEC §8): strict, unknown keys are refused. */
export const sourceConfigSchema = z.strictObject(sourceShape).superRefine((source, ctx) => checkAgainstPlugin(source, ctx));
export type SourceConfig = z.infer<typeof sourceConfigSchema>;

/** A sources file (HUB_SOURCES_FILE): `{ "sources": [ <same as POST /api/v1/sources> ] }`, names unique. */
export const sourcesFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    sources: z.array(z.strictObject(sourceShape)).max(1000),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.sources.forEach((source, i) => {
      checkAgainstPlugin(source, ctx, ['sources', i]);
      const first = seen.get(source.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name (also sources[${first}])` });
      else seen.set(source.name, i);
    });
  });
export type SourcesFile = z.infer<typeof sourcesFileSchema>;

export interface DeliveryContext {
  sourceName: string;
  receivedAt: Date;
  /** The source's stored plugin config (validated here again: rows outlive code). */
  config: unknown;
  siteField?: string | null | undefined;
}

/** `siteField` (a source option) overrides each alert's site with a value from its own payload part. */
export function applySiteField(result: NormalizeResult, siteField: string | null | undefined): NormalizeResult {
  if (result.kind !== 'alerts' || !siteField) return result;
  return {
    kind: 'alerts',
    alerts: result.alerts.map((alert) => {
      const value = getPath(alert.raw, siteField);
      const site = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
      return site === '' ? alert : { ...alert, device: { ...alert.device, site } };
    }),
  };
}

/**
 * The whole plugin step of a delivery: config through the plugin's schema, normalize, the alert
 * contract checked (a plugin bug becomes a clear INTERNAL error, never a bad row), siteField applied.
 * @throws HubError VALIDATION_FAILED naming the payload field (R-ALR-5), also for text Postgres
 *   cannot store or nesting too deep to store (core/storable-json.ts).
 */
export function normalizeDelivery(plugin: HubPlugin<unknown>, payload: unknown, ctx: DeliveryContext): NormalizeResult {
  const rawConfig = ctx.config ?? {};
  const parsedConfig = plugin.configSchema.safeParse(rawConfig);
  if (!parsedConfig.success) throw zodError(parsedConfig.error, ['config'], rawConfig);
  const config = parsedConfig.data;
  // U+0000, an unpaired surrogate or 10,000-deep nesting would otherwise be a 500 when the alert is stored.
  const unstorable = findUnstorableJson(payload);
  if (unstorable) throw fieldError(unstorable.path, unstorable.message);
  const result = plugin.normalize(payload, { config, sourceName: ctx.sourceName, receivedAt: ctx.receivedAt });
  const checked = normalizeResultSchema.safeParse(result);
  if (!checked.success) {
    const first = checked.error.issues[0];
    throw new HubError('INTERNAL', `plugin ${plugin.id} produced an invalid alert at ${first?.path.join('.') ?? '?'}: ${first?.message ?? ''}`);
  }
  return applySiteField(result, ctx.siteField);
}

export type { HubPlugin, NormalizeContext, NormalizedAlert, NormalizeResult, SamplePayload } from './types';
