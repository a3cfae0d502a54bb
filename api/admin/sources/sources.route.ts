import { Router } from 'express';
import { z } from 'zod';
import { HubError, notFound } from '../../../core/errors';
import { withPgErrors } from '../../../db/pg-errors';
import { deleteSource, getSource, insertSource, listSources, lockSource, updateSource, type SourceRecord, type SourceWrite } from '../../../db/queries/sources';
import { PLUGIN_IDS, sourceConfigSchema, type SourceConfig } from '../../../plugins';
import { SECRET_FIELD_NAMES, joinAuth, type SourceAuth } from '../../../plugins/auth/source-auth';
import { decryptSecrets, sourceSecretsContext } from '../../../plugins/auth/secret-box';
import { sourceWriteOf } from '../../../app/sources/sources-file';
import type { AppDeps } from '../../context';
import { instant, listQuery, nonEmptyPatch, pageOf, queryBoolean } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { parseWith } from '../../validate';
import { audit, requireUnscoped } from '../audit/admin-write';
import { createAudited, pageBody, pgErrors } from '../crud';

const MOUNT = '/sources';
const TAGS = ['sources'];

const shape = sourceConfigSchema.shape;

/** PATCH: each given field replaces the current one; `auth` as a whole (with its secrets); null clears an option. */
const patchBody = nonEmptyPatch(
  z.strictObject({
    name: shape.name.optional(),
    plugin: shape.plugin.optional(),
    auth: shape.auth.optional(),
    siteField: shape.siteField.unwrap().nullable().optional(),
    config: shape.config,
    maxBodyBytes: shape.maxBodyBytes.unwrap().nullable().optional(),
    rateLimitPerSecond: shape.rateLimitPerSecond.unwrap().nullable().optional(),
    enabled: shape.enabled,
  }),
);

const secretKeys = new Set(SECRET_FIELD_NAMES);

/** The auth as the API shows it: settings only, plus how many secrets are stored (never which). */
const authViewSchema = z
  .looseObject({
    type: z.enum(['hmac', 'token', 'basic']),
    secretsConfigured: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'How many secrets are stored (e.g. 2 while rotating); null when they cannot be decrypted with HUB_SECRET_KEYS.' }),
    scheme: z.string().optional().openapi({ description: 'HMAC: timestamped (default), standard-webhooks, or body-only (no replay protection).' }),
    header: z.string().optional(),
    algorithm: z.string().optional(),
    allowSha1: z.boolean().optional(),
    encoding: z.string().optional(),
    prefix: z.string().optional(),
    timestampHeader: z.string().optional(),
    toleranceSeconds: z.number().optional(),
    queryParam: z.string().optional(),
    username: z.string().optional(),
  })
  // The conformance tests parse every response with this schema: a secret that slips into the output fails them.
  .refine((a) => !Object.keys(a).some((k) => secretKeys.has(k)), { message: 'must not contain secrets' });

export const sourceSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    plugin: z.string(),
    webhookPath: z.string().openapi({ description: 'Where the sender posts: /hooks/<name>.' }),
    auth: authViewSchema,
    siteField: z.string().nullable(),
    config: z.record(z.string(), z.unknown()),
    maxBodyBytes: z.number().nullable(),
    rateLimitPerSecond: z.number().nullable(),
    enabled: z.boolean(),
    origin: z.enum(['api', 'file']).openapi({ description: 'file = declared in HUB_SOURCES_FILE: edit the file, not the API.' }),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Source');

export type SourceOut = z.infer<typeof sourceSchema>;

const countSecrets = (secrets: Record<string, unknown>): number =>
  Object.values(secrets).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1), 0);

/** PATCH of a non-string-keyed config needs the object back as a record. */
const asRecord = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function sourceCacheInvalidator(deps: AppDeps): ((name: string) => void) | undefined {
  // The webhook route keeps decrypted sources for a few seconds; an edit made here should not wait for that.
  const cache = deps.services.sourceCache;
  return cache ? (name) => cache.invalidate(name) : undefined;
}

/**
 * SPEC §8 "Sources": `POST /api/v1/sources { name, plugin, auth, siteField?, config? }`. Secrets are
 * split off the auth, encrypted with the newest of HUB_SECRET_KEYS (bound to the source's name) into `auth_secrets_enc`, and never returned,
 * logged or audited; responses show `auth: { type, …settings, secretsConfigured }`.
 */
export function sourcesRouter(deps: AppDeps): Router {
  const router = Router();
  const keys = deps.config.HUB_SECRET_KEYS;
  const invalidate = sourceCacheInvalidator(deps);

  const secretsOf = (row: SourceRecord): Record<string, unknown> | null => {
    try {
      return decryptSecrets(row.auth_secrets_enc, keys, sourceSecretsContext(row.name));
    } catch {
      return null;
    }
  };

  const sourceOut = (row: SourceRecord): SourceOut => {
    const secrets = secretsOf(row);
    const settings = Object.fromEntries(Object.entries(asRecord(row.auth_settings)).filter(([k]) => !secretKeys.has(k) && k !== 'type'));
    return {
      id: String(row.id),
      name: row.name,
      plugin: row.plugin,
      webhookPath: `/hooks/${row.name}`,
      auth: { type: row.auth_type, ...settings, secretsConfigured: secrets ? countSecrets(secrets) : null },
      siteField: row.site_field,
      config: asRecord(row.config),
      maxBodyBytes: row.max_body_bytes,
      rateLimitPerSecond: row.rate_limit_per_second,
      enabled: row.enabled,
      origin: row.origin,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  };

  const toWrite = (s: SourceConfig): SourceWrite => sourceWriteOf(s, keys);

  const PG_FIELDS = { sources_name_unique: 'name', sources_name_check: 'name' };

  const find = async (db: typeof deps.db | Parameters<Parameters<typeof deps.db.transaction>[0]>[0], idOrName: string | undefined) => {
    const ref = idOrName ?? '';
    const row = /^(\d{1,18}|[a-z0-9][a-z0-9_-]{0,62})$/.test(ref) ? await getSource(db, ref) : undefined;
    if (!row) throw notFound('source', ref);
    return row;
  };

  const fileOwned = (row: SourceRecord): void => {
    if (row.origin === 'file') throw new HubError('CONFLICT', `source ${row.name} is declared in the sources file (HUB_SOURCES_FILE); change it there`);
  };

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List sources (secrets are never shown)',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        plugin: z.enum(PLUGIN_IDS).optional(),
        enabled: queryBoolean.optional(),
        origin: z.enum(['api', 'file']).optional(),
      }),
      response: pageOf(sourceSchema),
    },
    async ({ query }) => {
      const page = await listSources(deps.db, { ...query, enabled: query.enabled === undefined ? undefined : query.enabled === 'true' });
      return { body: pageBody(page, sourceOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a source by id or name', tags: TAGS, role: 'viewer', response: sourceSchema },
    async ({ params }) => ({ body: sourceOut(await find(deps.db, params.id)) }),
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '',
      summary: 'Configure an inbound webhook source (SPEC §8)',
      tags: TAGS,
      role: 'admin',
      body: sourceConfigSchema,
      status: 201,
      response: sourceSchema,
    },
    async ({ body, req }) => {
      requireUnscoped(req, 'sources');
      const created = await createAudited(deps.db, req, pgErrors(PG_FIELDS), 'source', async (trx) => sourceOut(await insertSource(trx, toWrite(body))));
      invalidate?.(created.name);
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Update a source (auth, when given, replaces the whole auth including its secrets)',
      tags: TAGS,
      role: 'admin',
      body: patchBody,
      response: sourceSchema,
    },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'sources');
      const result = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const current = await find(trx, params.id);
          await lockSource(trx, current.id);
          fileOwned(current);
          const before = sourceOut(current);
          let auth: SourceAuth;
          if (body.auth) auth = body.auth;
          else {
            const secrets = secretsOf(current);
            if (!secrets) throw new HubError('CONFLICT', `source ${current.name}: stored secrets cannot be decrypted with HUB_SECRET_KEYS; send auth with its secrets`);
            auth = joinAuth({ type: current.auth_type, ...asRecord(current.auth_settings) }, secrets);
          }
          const merged: Record<string, unknown> = {
            name: body.name ?? current.name,
            plugin: body.plugin ?? current.plugin,
            auth,
            config: body.config ?? asRecord(current.config),
            enabled: body.enabled ?? current.enabled,
          };
          const keep = <T>(patch: T | null | undefined, stored: T | null): T | undefined => (patch === null ? undefined : (patch ?? stored ?? undefined));
          const siteField = keep(body.siteField, current.site_field);
          const maxBodyBytes = keep(body.maxBodyBytes, current.max_body_bytes);
          const rateLimitPerSecond = keep(body.rateLimitPerSecond, current.rate_limit_per_second);
          if (siteField !== undefined) merged.siteField = siteField;
          if (maxBodyBytes !== undefined) merged.maxBodyBytes = maxBodyBytes;
          if (rateLimitPerSecond !== undefined) merged.rateLimitPerSecond = rateLimitPerSecond;
          // The result must be a valid source as a whole (a new plugin may not accept the old auth type or config).
          const next = parseWith(sourceConfigSchema, merged, 'body');
          const row = await updateSource(trx, current.id, toWrite(next));
          if (!row) throw notFound('source', params.id ?? '');
          const after = sourceOut(row);
          await audit(trx, req, { action: 'update', entityType: 'source', entityId: after.id, before, after: { ...after, secretsChanged: body.auth !== undefined } });
          return { after, oldName: current.name };
        }),
      );
      invalidate?.(result.oldName);
      invalidate?.(result.after.name);
      return { body: result.after };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a source that never received a delivery (409 otherwise: disable it with enabled=false)',
      tags: TAGS,
      role: 'admin',
      status: 204,
    },
    async ({ params, req, res }) => {
      requireUnscoped(req, 'sources');
      const name = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const current = await find(trx, params.id);
          fileOwned(current);
          await deleteSource(trx, current.id);
          await audit(trx, req, { action: 'delete', entityType: 'source', entityId: String(current.id), before: sourceOut(current) });
          return current.name;
        }),
      );
      invalidate?.(name);
      res.status(204).end();
    },
  );

  return router;
}
