import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../../../core/errors';
import { withPgErrors } from '../../../db/pg-errors';
import { deleteService, getService, insertService, listServices, updateService } from '../../../db/queries/services';
import type { ServiceRow } from '../../../db/tables';
import type { AppDeps } from '../../context';
import { codeSchema, instant, listQuery, moneyInput, moneyOut, moneyString, nameSchema, nonEmptyPatch, pageOf, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit, requireUnscoped } from '../audit/admin-write';

const MOUNT = '/services';
const TAGS = ['catalogue'];

const createBody = z.strictObject({
  name: nameSchema,
  code: codeSchema.optional(),
  unitPrice: moneyInput,
  unitCost: moneyInput.nullable().optional(),
});
const patchBody = nonEmptyPatch(
  z.strictObject({
    name: nameSchema.optional(),
    code: codeSchema.optional(),
    unitPrice: moneyInput.optional(),
    unitCost: moneyInput.nullable().optional(),
  }),
);

export const serviceSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    unitPrice: z.number(),
    unitCost: z.number().nullable(),
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Service');

export type ServiceOut = z.infer<typeof serviceSchema>;

export const serviceOut = (s: ServiceRow): ServiceOut => ({
  id: String(s.id),
  name: s.name,
  code: s.code,
  unitPrice: moneyOut(s.unit_price) ?? 0,
  unitCost: moneyOut(s.unit_cost),
  createdAt: s.created_at.toISOString(),
  updatedAt: s.updated_at.toISOString(),
});

const PG_FIELDS = { services_name_unique: 'name', services_code_unique: 'code', unit_price: 'unitPrice', unit_cost: 'unitCost' };

/** SPEC §8 `POST /services`: the catalogue of services that contracts sell. Global: every reader sees it, only unscoped admins change it. */
export function servicesRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List services',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        name: z.string().max(200).optional().openapi({ description: 'Case-insensitive substring of the name.' }),
        code: z.string().max(64).optional(),
      }),
      response: pageOf(serviceSchema),
    },
    async ({ query }) => {
      const page = await listServices(deps.db, query);
      return { body: { items: page.items.map(serviceOut), nextCursor: page.nextCursor } };
    },
  );

  defineRoute(router, MOUNT, { method: 'get', path: '/:id', summary: 'Get a service', tags: TAGS, role: 'viewer', response: serviceSchema }, async ({ params }) => {
    const id = parseId(params.id, 'service');
    const s = await getService(deps.db, id);
    if (!s) throw notFound('service', id);
    return { body: serviceOut(s) };
  });

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a service', tags: TAGS, role: 'admin', body: createBody, status: 201, response: serviceSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const created = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const row = await insertService(trx, {
            name: body.name,
            code: body.code,
            unitPrice: moneyString(body.unitPrice),
            unitCost: body.unitCost == null ? null : moneyString(body.unitCost),
          });
          const after = serviceOut(row);
          await audit(trx, req, { action: 'create', entityType: 'service', entityId: after.id, after });
          return after;
        }),
      );
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'patch', path: '/:id', summary: 'Update a service', tags: TAGS, role: 'admin', body: patchBody, response: serviceSchema },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const id = parseId(params.id, 'service');
      const updated = await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const before = (await trx('services').where('id', id).forUpdate().first()) as ServiceRow | undefined;
          if (!before) throw notFound('service', id);
          const row = await updateService(trx, id, {
            name: body.name,
            code: body.code,
            unitPrice: body.unitPrice === undefined ? undefined : moneyString(body.unitPrice),
            unitCost: body.unitCost === undefined ? undefined : body.unitCost === null ? null : moneyString(body.unitCost),
          });
          if (!row) throw notFound('service', id);
          const after = serviceOut(row);
          await audit(trx, req, { action: 'update', entityType: 'service', entityId: id, before: serviceOut(before), after });
          return after;
        }),
      );
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id', summary: 'Delete a service (409 while contracts, bundles or tickets use it)', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      requireUnscoped(req, 'the service catalogue');
      const id = parseId(params.id, 'service');
      await withPgErrors(PG_FIELDS, () =>
        deps.db.transaction(async (trx) => {
          const before = await getService(trx, id);
          if (!before) throw notFound('service', id);
          await deleteService(trx, id);
          await audit(trx, req, { action: 'delete', entityType: 'service', entityId: id, before: serviceOut(before) });
        }),
      );
      res.status(204).end();
    },
  );

  return router;
}
