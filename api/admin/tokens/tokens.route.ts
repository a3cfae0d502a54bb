import { Router } from 'express';
import { z } from 'zod';
import { HubError } from '../../../core/errors';
import { withPgErrors } from '../../../db/pg-errors';
import { getToken, issueToken, listTokens, revokeTokenAudited } from '../../../app/tokens';
import { ALL_COMPANIES, onlyCompanies } from '../../../core/access/company-scope';
import type { AppDeps } from '../../context';
import { actorOf } from '../../context';
import { idInputSchema, idString, instant, listQuery, nameSchema, pageOf, queryBoolean } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';
import { pageBody } from '../crud';

const MOUNT = '/tokens';
const TAGS = ['tokens'];

const roleSchema = z.enum(['admin', 'operator', 'viewer']);

const createBody = z.strictObject({
  name: nameSchema,
  role: roleSchema,
  companyIds: z
    .array(idInputSchema)
    // An empty list used to mean "every company" (issue 13 item 1); now it is refused as ambiguous.
    .min(1, 'name at least one company, or leave companyIds out for a token of every company')
    .max(1000)
    .optional()
    .openapi({ description: 'Restrict the token to these companies (at least one); absent = every company.' }),
});

export const tokenSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The visible start of the token (hub_xxxxxxxx), to recognise it in lists and logs.' }),
    role: roleSchema,
    allCompanies: z.boolean().openapi({ description: 'true: the token sees every company (companyIds is empty).' }),
    companyIds: z.array(z.string()).openapi({
      description:
        'The companies of a scoped token. Deleting a company removes it here; a scoped token left with none sees nothing (it never widens to every company).',
    }),
    createdAt: instant,
    createdBy: z.string().nullable(),
    lastUsedAt: instant.nullable(),
    revokedAt: instant.nullable(),
  })
  .openapi('ApiToken');

const createdTokenSchema = tokenSchema
  .extend({ token: z.string().openapi({ description: 'The bearer token. Shown this once; only its hash is stored.' }) })
  .openapi('ApiTokenCreated');

/** A token is named by its id or its prefix (hub_xxxxxxxx); anything else cannot exist. */
function tokenRef(raw: string | undefined): string {
  const ref = raw ?? '';
  if (!/^(\d{1,18}|hub_[0-9a-f]{8})$/.test(ref)) throw new HubError('NOT_FOUND', `token ${ref} not found`);
  return ref;
}

/**
 * API tokens (issue "Admin API" point 1). Admin only, and only an unscoped admin: a company-scoped
 * admin could otherwise mint itself an unscoped token.
 */
export function tokensRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List API tokens (never the secret or its hash)',
      tags: TAGS,
      role: 'admin',
      query: listQuery({ includeRevoked: queryBoolean.optional(), role: roleSchema.optional() }),
      response: pageOf(tokenSchema),
    },
    async ({ query, req }) => {
      requireUnscoped(req, 'API tokens');
      const page = await listTokens(deps.db, { ...query, includeRevoked: query.includeRevoked === 'true' });
      return { body: pageBody(page, (v) => v) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get an API token by id or prefix (never the secret or its hash)', tags: TAGS, role: 'admin', response: tokenSchema },
    async ({ params, req }) => {
      requireUnscoped(req, 'API tokens');
      const idOrPrefix = tokenRef(params.id);
      const view = await getToken(deps.db, idOrPrefix);
      if (!view) throw new HubError('NOT_FOUND', `token ${idOrPrefix} not found`);
      return { body: view };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '',
      summary: 'Create an API token; the response shows the token once',
      tags: TAGS,
      role: 'admin',
      body: createBody,
      status: 201,
      response: createdTokenSchema,
    },
    async ({ body, req }) => {
      requireUnscoped(req, 'API tokens');
      const scope = body.companyIds === undefined ? ALL_COMPANIES : onlyCompanies(body.companyIds.map(idString));
      const { token, view } = await withPgErrors({ company_id: 'companyIds' }, () =>
        issueToken(deps.db, { name: body.name, role: body.role, scope, actor: actorOf(req), requestId: req.requestId ?? null }),
      );
      return { status: 201, body: { ...view, token } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Revoke an API token (by id or prefix); it stops working at once',
      tags: TAGS,
      role: 'admin',
      response: tokenSchema,
    },
    async ({ params, req }) => {
      requireUnscoped(req, 'API tokens');
      const idOrPrefix = tokenRef(params.id);
      const view = await revokeTokenAudited(deps.db, idOrPrefix, actorOf(req), req.requestId ?? null);
      if (!view) throw new HubError('NOT_FOUND', `no active token ${idOrPrefix}`);
      return { body: view };
    },
  );

  return router;
}
