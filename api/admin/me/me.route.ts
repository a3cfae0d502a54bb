import { Router } from 'express';
import { z } from 'zod';
import { companyNamesIn } from '../../../db/queries/companies';
import { principalOf, type AppDeps } from '../../context';
import { defineRoute } from '../../route';

const MOUNT = '/me';

const meSchema = z
  .strictObject({
    name: z.string(),
    role: z.enum(['viewer', 'operator', 'admin']),
    all: z.boolean().openapi({ description: 'true: every company; false: exactly `companies` (an empty list means none).' }),
    companies: z.array(z.strictObject({ id: z.string(), name: z.string() })).openapi({ description: 'The companies of a company-scoped token (empty when `all`).' }),
  })
  .openapi('Me');

/**
 * `GET /api/v1/me`: who the bearer token is — its name, role and company scope — so the console
 * offers only what the token may do. Any role; it tells a token nothing but its own facts.
 */
export function meRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '', summary: 'The calling token: name, role and company scope', tags: ['tokens'], role: 'viewer', response: meSchema },
    async ({ req }) => {
      const p = principalOf(req);
      const companies = p.scope.all ? [] : await companyNamesIn(deps.db, p.scope.companyIds);
      return { body: { name: p.name, role: p.role, all: p.scope.all, companies } };
    },
  );
  return router;
}
