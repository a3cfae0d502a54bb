import { Router } from 'express';
import { z } from 'zod';
import { deleteBundle, getBundle, insertBundle, listBundles, lockBundle, updateBundle, type BundleWithServices } from '../../../db/queries/services';
import type { AppDeps } from '../../context';
import {
  codeSchema,
  idInputSchema,
  idString,
  instant,
  listQuery,
  moneyInput,
  moneyOut,
  moneyString,
  nameSchema,
  nonEmptyPatch,
  pageOf,
  parseId,
} from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, pageBody, pgErrors, updateAudited } from '../crud';

const MOUNT = '/service-bundles';
const TAGS = ['catalogue'];

const serviceIdsSchema = z
  .array(idInputSchema)
  .min(1, { message: 'must list at least one service id' })
  .max(500)
  .superRefine((ids, ctx) => {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(String(id))) ctx.addIssue({ code: 'custom', path: [i], message: `service ${id} is listed twice` });
      seen.add(String(id));
    });
  });

const createBody = z.strictObject({
  name: nameSchema,
  code: codeSchema.optional(),
  serviceIds: serviceIdsSchema,
  unitPrice: moneyInput,
  unitCost: moneyInput.nullable().optional(),
});
const patchBody = nonEmptyPatch(
  z.strictObject({
    name: nameSchema.optional(),
    code: codeSchema.optional(),
    serviceIds: serviceIdsSchema.optional(),
    unitPrice: moneyInput.optional(),
    unitCost: moneyInput.nullable().optional(),
  }),
);

export const bundleSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    serviceIds: z.array(z.string()),
    unitPrice: z.number(),
    unitCost: z.number().nullable(),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('ServiceBundle');

export type BundleOut = z.infer<typeof bundleSchema>;

export const bundleOut = (b: BundleWithServices): BundleOut => ({
  id: String(b.id),
  name: b.name,
  code: b.code,
  serviceIds: b.serviceIds,
  unitPrice: moneyOut(b.unit_price) ?? 0,
  unitCost: moneyOut(b.unit_cost),
  createdAt: b.created_at.toISOString(),
  updatedAt: b.updated_at.toISOString(),
});

const DB_ERRORS = pgErrors({
  service_bundles_name_unique: 'name',
  service_bundles_code_unique: 'code',
  service_id: 'serviceIds',
  unit_price: 'unitPrice',
  unit_cost: 'unitCost',
});

/** SPEC §8 `POST /service-bundles`: services sold together at one price. Global, like services. */
export function bundlesRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List service bundles',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        name: z.string().max(200).optional().openapi({ description: 'Case-insensitive substring of the name.' }),
        code: z.string().max(64).optional(),
        serviceId: z.string().regex(/^\d{1,18}$/).optional().openapi({ description: 'Only bundles containing this service.' }),
      }),
      response: pageOf(bundleSchema),
    },
    async ({ query }) => {
      return { body: pageBody(await listBundles(deps.db, query), bundleOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a service bundle', tags: TAGS, role: 'viewer', response: bundleSchema },
    async ({ params }) => ({ body: bundleOut(await loadOr404('service bundle', params.id, (id) => getBundle(deps.db, id))) }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a service bundle', tags: TAGS, role: 'admin', body: createBody, status: 201, response: bundleSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const created = await createAudited(deps.db, req, DB_ERRORS, 'service_bundle', async (trx) =>
        bundleOut(
          await insertBundle(trx, {
            name: body.name,
            code: body.code,
            serviceIds: body.serviceIds.map(idString),
            unitPrice: moneyString(body.unitPrice),
            unitCost: body.unitCost == null ? null : moneyString(body.unitCost),
          }),
        ),
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
      summary: 'Update a service bundle (serviceIds, when given, replaces the list)',
      tags: TAGS,
      role: 'admin',
      body: patchBody,
      response: bundleSchema,
    },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const id = parseId(params.id, 'service bundle');
      const updated = await updateAudited(deps.db, req, DB_ERRORS, {
        entityType: 'service_bundle',
        what: 'service bundle',
        id,
        load: async (trx) => {
          await lockBundle(trx, id);
          return getBundle(trx, id);
        },
        update: (trx) =>
          updateBundle(trx, id, {
            name: body.name,
            code: body.code,
            serviceIds: body.serviceIds?.map(idString),
            unitPrice: body.unitPrice === undefined ? undefined : moneyString(body.unitPrice),
            unitCost: body.unitCost === undefined ? undefined : body.unitCost === null ? null : moneyString(body.unitCost),
          }),
        out: bundleOut,
      });
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id', summary: 'Delete a service bundle (409 while contracts carry it)', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      requireUnscoped(req, 'the service catalogue');
      const id = parseId(params.id, 'service bundle');
      await deleteAudited(deps.db, req, DB_ERRORS, {
        entityType: 'service_bundle',
        what: 'service bundle',
        id,
        load: (trx) => getBundle(trx, id),
        remove: (trx) => deleteBundle(trx, id),
        out: bundleOut,
      });
      res.status(204).end();
    },
  );

  return router;
}
