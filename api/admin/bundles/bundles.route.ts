import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors';
import { withPgErrors } from '../../../db/pg-errors';
import { deleteBundle, getBundle, insertBundle, listBundles, updateBundle, type BundleWithServices } from '../../../db/queries/services';
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
import { audit, requireUnscoped } from '../audit/admin-write';

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

const PG_FIELDS = {
  service_bundles_name_unique: 'name',
  service_bundles_code_unique: 'code',
  service_id: 'serviceIds',
  unit_price: 'unitPrice',
  unit_cost: 'unitCost',
};

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
      const page = await listBundles(deps.db, query);
      return { body: { items: page.items.map(bundleOut), nextCursor: page.nextCursor } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a service bundle', tags: TAGS, role: 'viewer', response: bundleSchema },
    async ({ params }) => {
      const id = parseId(params.id, 'service bundle');
      const b = await getBundle(deps.db, id);
      if (!b) throw notFound('service bundle', id);
      return { body: bundleOut(b) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a service bundle', tags: TAGS, role: 'admin', body: createBody, status: 201, response: bundleSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const created = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const b = await insertBundle(trx, {
            name: body.name,
            code: body.code,
            serviceIds: body.serviceIds.map(idString),
            unitPrice: moneyString(body.unitPrice),
            unitCost: body.unitCost == null ? null : moneyString(body.unitCost),
          });
          const after = bundleOut(b);
          await audit(trx, req, { action: 'create', entityType: 'service_bundle', entityId: after.id, after });
          return after;
        }),
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
      const updated = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          await trx('service_bundles').where('id', id).forUpdate().first();
          const before = await getBundle(trx, id);
          if (!before) throw notFound('service bundle', id);
          const b = await updateBundle(trx, id, {
            name: body.name,
            code: body.code,
            serviceIds: body.serviceIds?.map(idString),
            unitPrice: body.unitPrice === undefined ? undefined : moneyString(body.unitPrice),
            unitCost: body.unitCost === undefined ? undefined : body.unitCost === null ? null : moneyString(body.unitCost),
          });
          if (!b) throw notFound('service bundle', id);
          const after = bundleOut(b);
          await audit(trx, req, { action: 'update', entityType: 'service_bundle', entityId: id, before: bundleOut(before), after });
          return after;
        }),
      );
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
      await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const before = await getBundle(trx, id);
          if (!before) throw notFound('service bundle', id);
          await deleteBundle(trx, id);
          await audit(trx, req, { action: 'delete', entityType: 'service_bundle', entityId: id, before: bundleOut(before) });
        }),
      );
      res.status(204).end();
    },
  );

  return router;
}
