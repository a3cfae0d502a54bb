import { Router } from 'express';
import { z } from 'zod';
import { deleteService, getService, insertService, listServices, lockService, updateService } from '../../../db/queries/services';
import type { ServiceRow } from '../../../db/tables';
import type { AppDeps } from '../../context';
import { codeSchema, instant, listQuery, moneyInput, moneyOut, moneyString, nameSchema, nonEmptyPatch, pageOf, parseId } from '../../openapi/schemas';
import { psaRefsInput, psaRefsOutput, refsOf, withPsaRefs } from '../psa-refs';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, pageBody, pgErrors, updateAudited } from '../crud';

const MOUNT = '/services';
const TAGS = ['catalogue'];

const createBody = z.strictObject({
  name: nameSchema,
  code: codeSchema.optional(),
  unitPrice: moneyInput,
  unitCost: moneyInput.nullable().optional(),
  psaRefs: psaRefsInput.optional(),
});
const patchBody = nonEmptyPatch(
  z.strictObject({
    name: nameSchema.optional(),
    code: codeSchema.optional(),
    unitPrice: moneyInput.optional(),
    unitCost: moneyInput.nullable().optional(),
    psaRefs: psaRefsInput.optional(),
  }),
);

export const serviceSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    unitPrice: z.number(),
    unitCost: z.number().nullable(),
    psaRefs: psaRefsOutput,
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
  psaRefs: refsOf(s),
  createdAt: s.created_at.toISOString(),
  updatedAt: s.updated_at.toISOString(),
});

const DB_ERRORS = pgErrors({ services_name_unique: 'name', services_code_unique: 'code', unit_price: 'unitPrice', unit_cost: 'unitCost' });

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
      return { body: pageBody(await listServices(deps.db, query), serviceOut) };
    },
  );

  defineRoute(router, MOUNT, { method: 'get', path: '/:id', summary: 'Get a service', tags: TAGS, role: 'viewer', response: serviceSchema }, async ({ params }) => ({
    body: serviceOut(await loadOr404('service', params.id, (id) => getService(deps.db, id))),
  }));

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a service', tags: TAGS, role: 'admin', body: createBody, status: 201, response: serviceSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'the service catalogue');
      const created = await createAudited(deps.db, req, DB_ERRORS, 'service', async (trx) =>
        serviceOut(
          await withPsaRefs(
            trx,
            'services',
            body.psaRefs,
            await insertService(trx, {
              name: body.name,
              code: body.code,
              unitPrice: moneyString(body.unitPrice),
              unitCost: body.unitCost == null ? null : moneyString(body.unitCost),
            }),
          ),
        ),
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
      const updated = await updateAudited(deps.db, req, DB_ERRORS, {
        entityType: 'service',
        what: 'service',
        id,
        load: (trx) => lockService(trx, id),
        update: async (trx) =>
          withPsaRefs(
            trx,
            'services',
            body.psaRefs,
            await updateService(trx, id, {
              name: body.name,
              code: body.code,
              unitPrice: body.unitPrice === undefined ? undefined : moneyString(body.unitPrice),
              unitCost: body.unitCost === undefined ? undefined : body.unitCost === null ? null : moneyString(body.unitCost),
            }),
          ),
        out: serviceOut,
      });
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
      await deleteAudited(deps.db, req, DB_ERRORS, {
        entityType: 'service',
        what: 'service',
        id,
        load: (trx) => getService(trx, id),
        remove: (trx) => deleteService(trx, id),
        out: serviceOut,
      });
      res.status(204).end();
    },
  );

  return router;
}
