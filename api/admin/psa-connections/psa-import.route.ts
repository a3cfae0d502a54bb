import { Router } from 'express';
import { z } from 'zod';
import { importReferenceData } from '../../../app/psa/import-reference-data';
import { psaFailure } from '../../../app/psa/register-webhook';
import { todayIn } from '../../../core/dates';
import { IMPORT_KINDS } from '../../../core/psa/import-plan';
import { actorOf, type AppDeps } from '../../context';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';

const MOUNT = '/psa-connections';
const TAGS = ['psa'];

const counts = z.strictObject({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), refused: z.number().int() });
export const importReportSchema = z
  .strictObject({
    connection: z.string(),
    dryRun: z.boolean(),
    counts: z.strictObject(Object.fromEntries(IMPORT_KINDS.map((k) => [k, counts])) as Record<(typeof IMPORT_KINDS)[number], typeof counts>),
    refused: z.array(z.strictObject({ kind: z.enum(IMPORT_KINDS as [string, ...string[]]), externalId: z.string(), name: z.string(), reason: z.string() })),
    linkErrors: z.array(z.strictObject({ externalId: z.string(), reason: z.string() })),
    deliveriesResumed: z.number().int().openapi({
      description: 'Deliveries skipped for lack of the company’s PSA id, sent now that the import linked the company (in a dry run: how many would be).',
    }),
  })
  .openapi('PsaImportReport');

export const importBody = z.strictObject({
  /** Plan everything, write nothing. @defaultValue false */
  dryRun: z.boolean().optional(),
});

/**
 * `POST /api/v1/psa-connections/:name/import` (R-PSA-4): companies, SLAs, services, contracts and
 * configuration items from the PSA, idempotent, with a summary. Admin, unscoped (it writes
 * companies); the run is audited with its counts by the use case, as `hub psa import` is.
 */
export function psaImportRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:name/import',
      summary: 'Import companies, SLAs, services, contracts (with services and SLA) and configuration items from the PSA, linking each item to its contract',
      tags: TAGS,
      role: 'admin',
      body: importBody,
      response: importReportSchema,
    },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'PSA imports');
      const name = params.name ?? '';
      const report = await importReferenceData(
        {
          db: deps.db,
          secretKeys: deps.config.HUB_SECRET_KEYS,
          connectorDeps: { now: () => new Date(), autotaskZoneLookupUrl: deps.config.HUB_AUTOTASK_ZONE_LOOKUP_URL, timeoutMs: deps.config.HUB_PSA_TIMEOUT_MS },
          psaCallBudget: deps.services.psaCallBudget,
        },
        name,
        { dryRun: body.dryRun === true, actor: actorOf(req), requestId: req.requestId ?? null, today: todayIn('UTC', new Date()) },
      ).catch((e: unknown) => {
        // A PSA that refuses (4xx) or cannot be reached is the caller's 422 / 503, with the PSA's message, not a 500.
        throw psaFailure(e, `importing from ${name}`);
      });
      return { body: report };
    },
  );
  return router;
}
