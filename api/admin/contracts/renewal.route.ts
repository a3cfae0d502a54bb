import type { Router } from 'express';
import { z } from 'zod';
import { previewRenewal } from '../../../app/renewals/preview-renewal';
import { renewContract } from '../../../app/renewals/renew-contract';
import { validationError } from '../../../core/errors';
import type { RenewalOverrides } from '../../../core/contracts/renewal';
import { metrics } from '../../../lib/metrics';
import type { AppDeps } from '../../context';
import { actorOf, scopeOf } from '../../context';
import { parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { contractDetail, contractDetailSchema, MOUNT, TAGS } from './contracts.route';
import { renewalBody, type RenewalBody } from './schemas';
import { applicationOut, applicationSchema, contractOut, contractSchema, leftBehindOut, leftBehindSchema, proposalOut, renewalProposalSchema } from './serialize';
import { todayFor } from './today';

const renewalPreviewSchema = z
  .strictObject({ original: contractSchema, proposal: renewalProposalSchema, leftBehind: leftBehindSchema })
  .openapi('RenewalPreview');

const renewalResultSchema = z
  .strictObject({
    renewal: contractDetailSchema,
    original: contractSchema,
    proposal: renewalProposalSchema,
    leftBehind: leftBehindSchema,
    application: applicationSchema,
    deviceLinks: z.strictObject({ moved: z.number().int(), rescheduled: z.number().int() }),
  })
  .openapi('RenewalResult');

/**
 * The body as the pure proposal takes it. companyId and periodType are refused by name
 * (R-REN-3: the company and the contract period type of a renewal cannot change).
 */
export function renewalOverrides(body: RenewalBody): RenewalOverrides {
  if (body.companyId !== undefined) throw validationError('companyId', 'the company of a renewal cannot change (it is the original’s)');
  if (body.periodType !== undefined) throw validationError('periodType', 'the contract period type of a renewal cannot change (it is the original’s)');
  return {
    name: body.name,
    startDate: body.startDate,
    endDate: body.endDate,
    priceUpliftPercent: body.priceUpliftPercent,
    unitPrices: body.unitPrices,
    units: body.units,
    bundleUnitPrices: body.bundleUnitPrices,
    bundleUnits: body.bundleUnits,
    defaultContract: body.defaultContract,
  };
}

/** SPEC §8 `POST /contracts/:id/renewal/preview` and `POST /contracts/:id/renewal` (R-REN-1..15). */
export function registerRenewalRoutes(router: Router, deps: AppDeps): void {
  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:id/renewal/preview',
      summary: "The renewal wizard's proposal with every default filled in, and what stays behind (R-REN-14); changes nothing",
      tags: TAGS,
      role: 'admin',
      body: renewalBody,
      response: renewalPreviewSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'contract');
      const overrides = renewalOverrides(body);
      const p = await previewRenewal(deps, id, overrides, { scope: scopeOf(req), actor: actorOf(req), today: todayFor(deps) });
      return { body: { original: contractOut(p.original), proposal: proposalOut(p.proposal), leftBehind: leftBehindOut(p.leftBehind) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:id/renewal',
      summary: 'Renew a recurring service contract (409 CONTRACT_NOT_RENEWABLE, CONTRACT_ALREADY_RENEWED, DEFAULT_CONTRACT_CHOICE_REQUIRED)',
      tags: TAGS,
      role: 'admin',
      body: renewalBody,
      status: 201,
      response: renewalResultSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'contract');
      const overrides = renewalOverrides(body);
      const r = await renewContract(deps, id, overrides, {
        scope: scopeOf(req),
        actor: actorOf(req),
        requestId: req.requestId ?? null,
        today: todayFor(deps),
      });
      metrics.renewalsApplied.inc({ kind: 'manual' });
      return {
        status: 201,
        body: {
          renewal: await contractDetail(deps.db, r.renewal, r.renewal.start_date),
          original: contractOut(r.original),
          proposal: proposalOut(r.proposal),
          leftBehind: leftBehindOut(r.leftBehind),
          application: applicationOut(r.application),
          deviceLinks: r.deviceLinks,
        },
      };
    },
  );
}
