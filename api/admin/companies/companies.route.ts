import { Router } from 'express';
import { auditTokensLosingCompany } from '../../../app/tokens';
import { z } from 'zod';
import { isValidTimeZone } from '../../../core/dates';
import {
  deleteCompany,
  getCompany,
  insertCompany,
  listCompanies,
  lockCompany,
  updateCompany,
  type CompanyWithSites,
} from '../../../db/queries/companies';
import { resumeSkippedForRefs } from '../../../app/psa/resume-skipped';
import type { DeliveryRef } from '../../../db/queries/psa-deliveries';
import type { AppDeps } from '../../context';
import { actorOf, scopeOf } from '../../context';
import { codeSchema, instant, listQuery, nameSchema, nonEmptyPatch, pageOf, parseId } from '../../openapi/schemas';
import { psaRefsInput, psaRefsOutput, refsOf, withPsaRefs } from '../psa-refs';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, pageBody, pgErrors, updateAudited } from '../crud';

const MOUNT = '/companies';
const TAGS = ['companies'];

const sourceSiteInput = z.strictObject({
  source: z.string().trim().min(1).max(100).openapi({ description: 'Source (webhook) name or plugin id the site id comes from.' }),
  siteId: z
    .union([z.string().trim().min(1).max(200), z.number().int()])
    .openapi({ description: "The RMM's site / organization / customer id." }),
  siteName: z.string().max(200).nullable().optional(),
});

const sourceSitesInput = z
  .array(sourceSiteInput)
  .max(500)
  .superRefine((sites, ctx) => {
    const seen = new Map<string, number>();
    sites.forEach((s, i) => {
      const key = `${s.source}\u0000${String(s.siteId)}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `duplicates sourceSites[${first}]` });
      else seen.set(key, i);
    });
  });

const timezoneInput = z
  .string()
  .max(64)
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' })
  .nullable()
  .openapi({
    description:
      "IANA time zone the company's alerts are dated in: which device link, default contract and contract in effect apply (issue 15 item 5). null = the zone of the SLA of the contract chosen, else HUB_RENEWAL_TIMEZONE.",
    example: 'Europe/Berlin',
  });
const createBody = z.strictObject({ name: nameSchema, code: codeSchema.optional(), timezone: timezoneInput.optional(), sourceSites: sourceSitesInput.optional(), psaRefs: psaRefsInput.optional() });
const patchBody = nonEmptyPatch(
  z.strictObject({ name: nameSchema.optional(), code: codeSchema.optional(), timezone: timezoneInput.optional(), sourceSites: sourceSitesInput.optional(), psaRefs: psaRefsInput.optional() }),
);

export const companySchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    timezone: z.string().nullable().openapi({ description: "IANA zone the company's alerts are dated in; null = the SLA's, else HUB_RENEWAL_TIMEZONE." }),
    sourceSites: z.array(z.strictObject({ source: z.string(), siteId: z.string(), siteName: z.string().nullable() })),
    psaRefs: psaRefsOutput,
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Company');

export type CompanyOut = z.infer<typeof companySchema>;

export const companyOut = (c: CompanyWithSites): CompanyOut => ({
  id: String(c.id),
  name: c.name,
  code: c.code,
  timezone: c.timezone,
  sourceSites: c.sourceSites.map((s) => ({ source: s.source, siteId: s.site_id, siteName: s.site_name })),
  psaRefs: refsOf(c),
  createdAt: c.created_at.toISOString(),
  updatedAt: c.updated_at.toISOString(),
});

const sitesIn = (sites: z.infer<typeof sourceSitesInput> | undefined) =>
  sites?.map((s) => ({ source: s.source, siteId: String(s.siteId), siteName: s.siteName ?? null }));

const DB_ERRORS = pgErrors({
  companies_name_unique: 'name',
  companies_code_unique: 'code',
  company_source_sites_unique: 'sourceSites',
});

/** SPEC §8 `POST /companies`: customers and the RMM site ids that map alerts to them. */
export function companiesRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List companies (a scoped token sees only its own)',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        name: z.string().max(200).optional().openapi({ description: 'Case-insensitive substring of the name.' }),
        code: z.string().max(64).optional(),
        source: z.string().max(100).optional(),
        siteId: z.string().max(200).optional(),
      }),
      response: pageOf(companySchema),
    },
    async ({ query, req }) => {
      return { body: pageBody(await listCompanies(deps.db, { ...query, scope: scopeOf(req) }), companyOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a company', tags: TAGS, role: 'viewer', response: companySchema },
    async ({ params, req }) => ({ body: companyOut(await loadOr404('company', params.id, (id) => getCompany(deps.db, id, scopeOf(req)))) }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create a company', tags: TAGS, role: 'admin', body: createBody, status: 201, response: companySchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'the company list');
      const created = await createAudited(
        deps.db,
        req,
        DB_ERRORS,
        'company',
        async (trx) => companyOut(await withPsaRefs(trx, 'companies', body.psaRefs, await insertCompany(trx, { name: body.name, code: body.code, timezone: body.timezone, sourceSites: sitesIn(body.sourceSites) }))),
        (after) => after.id,
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
      summary: 'Update a company (sourceSites, when given, replaces the list)',
      tags: TAGS,
      role: 'admin',
      body: patchBody,
      response: companySchema,
    },
    async ({ body, params, req }) => {
      const id = parseId(params.id, 'company');
      let resumed: DeliveryRef[] = [];
      const updated = await updateAudited(deps.db, req, DB_ERRORS, {
        entityType: 'company',
        what: 'company',
        id,
        load: async (trx) => {
          // Lock first so `before` in the audit row is exactly what this update replaced.
          await lockCompany(trx, id);
          return getCompany(trx, id, scopeOf(req));
        },
        update: async (trx, before) => {
          const after = await withPsaRefs(trx, 'companies', body.psaRefs, await updateCompany(trx, id, { name: body.name, code: body.code, timezone: body.timezone, sourceSites: sitesIn(body.sourceSites) }));
          // A connection ref gained: the skipped deliveries of the company's open tickets go out now.
          if (after && body.psaRefs) resumed = await resumeSkippedForRefs(trx, id, refsOf(before), body.psaRefs, { actor: actorOf(req), requestId: req.requestId ?? null });
          return after;
        },
        out: companyOut,
        companyOf: () => id,
      });
      if (resumed.length > 0)
        await deps.services.psaEnqueuer?.enqueue(resumed).catch((err: unknown) => deps.logger.warn({ err: String(err), companyId: id }, 'PSA enqueue failed; the delivery sweep picks the deliveries up'));
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a company (409 while contracts, devices or tickets still belong to it)',
      tags: TAGS,
      role: 'admin',
      status: 204,
    },
    async ({ params, req, res }) => {
      const id = parseId(params.id, 'company');
      await deleteAudited(deps.db, req, DB_ERRORS, {
        entityType: 'company',
        what: 'company',
        id,
        load: (trx) => getCompany(trx, id, scopeOf(req)),
        // After the load: a scoped token gets 404 for another company's id, 403 only for its own.
        remove: async (trx) => {
          requireUnscoped(req, 'the company list');
          // Before the delete: the token rows cascade away with the company (issue 13 item 1).
          await auditTokensLosingCompany(trx, { companyId: id, actor: actorOf(req), requestId: req.requestId ?? null });
          return deleteCompany(trx, id);
        },
        out: companyOut,
        companyOf: () => id,
      });
      res.status(204).end();
    },
  );

  return router;
}
