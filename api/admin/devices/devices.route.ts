import type { CompanyScope } from '../../../core/access/company-scope';
import { Router } from 'express';
import { z } from 'zod';
import { validationError } from '../../../core/errors';
import { companyVisible, deleteDevice, getDevice, insertDevice, listDevices, lockDevice, updateDevice, type DeviceDetail } from '../../../db/queries/devices';
import type { AppDeps } from '../../context';
import { scopeOf } from '../../context';
import { idInputSchema, idString, instant, listQuery, nonEmptyPatch, pageOf, parseId, queryBoolean, toInstant } from '../../openapi/schemas';
import { psaRefsInput, psaRefsOutput, refsOf, withPsaRefs } from '../psa-refs';
import { defineRoute } from '../../route';
import { createAudited, deleteAudited, loadOr404, pageBody, pgErrors, updateAudited } from '../crud';

const MOUNT = '/devices';
const TAGS = ['devices'];

const sourceRefInput = z.strictObject({
  source: z.string().trim().min(1).max(100),
  deviceId: z.union([z.string().trim().min(1).max(200), z.number().int()]).openapi({ description: "The source's own device id." }),
});
const sourceRefsInput = z
  .array(sourceRefInput)
  .max(100)
  .superRefine((refs, ctx) => {
    const seen = new Map<string, number>();
    refs.forEach((r, i) => {
      const key = `${r.source}\u0000${String(r.deviceId)}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `duplicates sourceRefs[${first}]` });
      else seen.set(key, i);
    });
  });

const hostnameSchema = z.string().trim().min(1, { message: 'must not be empty' }).max(253);
const optionalText = z.string().trim().max(200).nullable().optional();

const createBody = z.strictObject({
  companyId: idInputSchema,
  hostname: hostnameSchema,
  site: optionalText,
  role: optionalText,
  sourceRefs: sourceRefsInput.optional(),
  psaRefs: psaRefsInput.optional(),
});
const patchBody = nonEmptyPatch(
  z.strictObject({
    companyId: idInputSchema.optional(),
    hostname: hostnameSchema.optional(),
    site: optionalText,
    role: optionalText,
    discovered: z.boolean().optional().openapi({ description: 'Set false once a discovered device has been triaged.' }),
    sourceRefs: sourceRefsInput.optional(),
    psaRefs: psaRefsInput.optional(),
  }),
);

const linkSchema = z.strictObject({
  id: z.string(),
  contractId: z.string(),
  serviceId: z.string().nullable(),
  from: z.string().openapi({ format: 'date' }),
  to: z.string().nullable().openapi({ format: 'date', description: 'Inclusive; null = open-ended.' }),
});

export const deviceSchema = z
  .strictObject({
    id: z.string(),
    companyId: z.string().nullable(),
    hostname: z.string(),
    site: z.string().nullable(),
    role: z.string().nullable(),
    discovered: z.boolean(),
    firstSeenAt: instant.nullable(),
    lastSeenAt: instant.nullable(),
    sourceRefs: z.array(z.strictObject({ source: z.string(), deviceId: z.string() })),
    psaRefs: psaRefsOutput,
    links: z.array(linkSchema).openapi({ description: 'Dated contract links (R-LINK-1), oldest first.' }),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Device');

export type DeviceOut = z.infer<typeof deviceSchema>;

export const deviceOut = (d: DeviceDetail): DeviceOut => ({
  id: String(d.id),
  companyId: d.company_id === null ? null : String(d.company_id),
  hostname: d.hostname,
  site: d.site,
  role: d.role,
  discovered: d.discovered,
  firstSeenAt: toInstant(d.first_seen_at),
  lastSeenAt: toInstant(d.last_seen_at),
  sourceRefs: d.sourceRefs.map((r) => ({ source: r.source, deviceId: r.source_device_id })),
  psaRefs: refsOf(d),
  links: d.links.map((l) => ({
    id: String(l.id),
    contractId: String(l.contract_id),
    serviceId: l.service_id === null ? null : String(l.service_id),
    from: l.valid_from,
    to: l.valid_to,
  })),
  createdAt: d.created_at.toISOString(),
  updatedAt: d.updated_at.toISOString(),
});

const refsIn = (refs: z.infer<typeof sourceRefsInput> | undefined) => refs?.map((r) => ({ source: r.source, deviceId: String(r.deviceId) }));

const DB_ERRORS = pgErrors({
  devices_company_hostname_unique: 'hostname',
  device_source_refs_unique: 'sourceRefs',
  company_id: 'companyId',
});

/**
 * SPEC §8 `POST /devices`, `GET /devices/:id` (R-LINK-1, R-LINK-8). The contract links themselves
 * are written by `PUT /devices/:id/contract` and `/devices/:id/links`, which live in the contracts module.
 */
export function devicesRouter(deps: AppDeps): Router {
  const router = Router();

  // Out of scope and nonexistent answer the same, so a scoped token cannot probe other companies' ids.
  const assertCompany = async (companyId: string, scope: CompanyScope): Promise<void> => {
    if (!(await companyVisible(deps.db, companyId, scope))) throw validationError('companyId', `company ${companyId} not found`);
  };

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List devices (a scoped token sees only its companies’ devices)',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        companyId: z.string().regex(/^\d{1,18}$/).optional(),
        hostname: z.string().max(253).optional().openapi({ description: 'Exact hostname, case-insensitive.' }),
        source: z.string().max(100).optional().openapi({ description: 'Only devices with a reference from this source.' }),
        sourceDeviceId: z.string().max(200).optional(),
        discovered: queryBoolean.optional(),
      }),
      response: pageOf(deviceSchema),
    },
    async ({ query, req }) => {
      const page = await listDevices(deps.db, {
        ...query,
        discovered: query.discovered === undefined ? undefined : query.discovered === 'true',
        scope: scopeOf(req),
      });
      return { body: pageBody(page, deviceOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a device with its source references and contract links', tags: TAGS, role: 'viewer', response: deviceSchema },
    async ({ params, req }) => ({ body: deviceOut(await loadOr404('device', params.id, (id) => getDevice(deps.db, id, scopeOf(req)))) }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a device', tags: TAGS, role: 'admin', body: createBody, status: 201, response: deviceSchema },
    async ({ body, req }) => {
      const companyId = idString(body.companyId);
      await assertCompany(companyId, scopeOf(req));
      const created = await createAudited(
        deps.db,
        req,
        DB_ERRORS,
        'device',
        async (trx) => deviceOut(await withPsaRefs(trx, 'devices', body.psaRefs, await insertDevice(trx, { companyId, hostname: body.hostname, site: body.site, role: body.role, sourceRefs: refsIn(body.sourceRefs) }))),
        () => companyId,
      );
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Update a device (sourceRefs, when given, replaces the list)',
      tags: TAGS,
      role: 'admin',
      body: patchBody,
      response: deviceSchema,
    },
    async ({ body, params, req }) => {
      const id = parseId(params.id, 'device');
      const scope = scopeOf(req);
      const companyId = body.companyId === undefined ? undefined : idString(body.companyId);
      const updated = await updateAudited(deps.db, req, DB_ERRORS, {
        entityType: 'device',
        what: 'device',
        id,
        load: async (trx) => {
          await lockDevice(trx, id);
          return getDevice(trx, id, scope);
        },
        update: async (trx) => {
          if (companyId !== undefined) await assertCompany(companyId, scope);
          return withPsaRefs(
            trx,
            'devices',
            body.psaRefs,
            await updateDevice(trx, id, {
              companyId,
              hostname: body.hostname,
              site: body.site,
              role: body.role,
              discovered: body.discovered,
              sourceRefs: refsIn(body.sourceRefs),
            }),
          );
        },
        out: deviceOut,
        companyOf: (after) => after.companyId,
      });
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a device with its references and contract links (its tickets stay, without the device)',
      tags: TAGS,
      role: 'admin',
      status: 204,
    },
    async ({ params, req, res }) => {
      const id = parseId(params.id, 'device');
      await deleteAudited(deps.db, req, DB_ERRORS, {
        entityType: 'device',
        what: 'device',
        id,
        load: (trx) => getDevice(trx, id, scopeOf(req)),
        remove: (trx) => deleteDevice(trx, id),
        out: deviceOut,
        companyOf: (before) => before.companyId,
      });
      res.status(204).end();
    },
  );

  return router;
}
