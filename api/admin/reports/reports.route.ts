import { Router } from 'express';
import { z } from 'zod';
import { compareDates, daysBetween } from '../../../core/dates';
import { notFound, validationError } from '../../../core/errors';
import { buildProfitability, profitabilityCsv } from '../../../core/reports/profitability';
import { companyVisible } from '../../../db/queries/devices';
import { withSlaAttainment } from '../../../core/reports/sla-attainment';
import { loadProfitabilityInput } from '../../../db/queries/reports';
import { slaAttainmentByContract } from '../../../db/queries/ticket-sla';
import { scopeOf, type AppDeps } from '../../context';
import { nowOf } from '../tickets/tickets.route';
import { idSchema, isoDate } from '../../openapi/schemas';
import { defineRoute } from '../../route';

const MOUNT = '/reports';

/** A report over more than ten years is almost certainly a typo in a date, and costs a lot. */
const MAX_DAYS = 3660;

const money = z.string().regex(/^-?\d+\.\d{2}$/).openapi({ description: 'Amount with 2 decimals, as a string (exact).', example: '1234.50' });
const hours = z.string().openapi({ description: 'Hours as a decimal string.', example: '12.5' });
const figures = {
  revenue: money,
  cost: money.openapi({ description: 'Labour cost: Σ hours × the time entry’s cost rate.' }),
  margin: money,
  hours,
  unratedHours: hours.openapi({ description: 'Hours of entries without a cost rate (counted as 0 cost).' }),
};

const serviceSchema = z.strictObject({ serviceId: z.string().nullable().openapi({ description: 'null: labour booked on the contract without a service.' }), name: z.string(), ...figures });
const bundleSchema = z.strictObject({ bundleId: z.string(), name: z.string(), revenue: money });
const contractSchema = z.strictObject({
  contractId: z.string(),
  name: z.string(),
  companyId: z.string(),
  companyName: z.string(),
  ...figures,
  services: z.array(serviceSchema),
  bundles: z.array(bundleSchema),
  sla: z
    .strictObject({ met: z.number().int(), breached: z.number().int(), attainmentPercent: z.number().nullable() })
    .openapi({
      description:
        'R-TKT-2: of the contract’s tickets created in the period whose SLA is settled, how many met every target and how many breached one; attainmentPercent = met / (met + breached), null when none is settled (JSON only).',
    }),
});
const reportSchema = z
  .strictObject({
    from: z.string().openapi({ format: 'date' }),
    to: z.string().openapi({ format: 'date' }),
    contracts: z.array(contractSchema),
    uncontracted: z.strictObject({ hours, unratedHours: hours, cost: money }).openapi({ description: 'Labour in the period on tickets without a contract (not in the totals).' }),
    totals: z.strictObject(figures),
  })
  .openapi('ProfitabilityReport');

/**
 * R-LINK-6 `GET /reports/profitability?from&to[&companyId]`: per contract and per service,
 * revenue (units × monthly unit price, pro-rated by days, adjustments respected), labour cost and
 * margin; JSON, or CSV with `Accept: text/csv` (or `format=csv`). Conventions: core/reports/README.md.
 */
export function reportsRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/profitability',
      summary: 'Profitability per contract and service over a period (JSON, or CSV with Accept: text/csv)',
      tags: ['reports'],
      role: 'viewer',
      query: z.strictObject({
        from: isoDate.openapi({ description: 'First day, inclusive.' }),
        to: isoDate.openapi({ description: 'Last day, inclusive.' }),
        companyId: idSchema.optional(),
        format: z.enum(['json', 'csv']).optional().openapi({ description: 'Overrides the Accept header.' }),
      }),
      response: reportSchema,
      produces: ['text/csv'],
    },
    async ({ query, req, res }) => {
      if (compareDates(query.from, query.to) > 0) throw validationError('to', `must not be before from (${query.from})`);
      if (daysBetween(query.from, query.to) >= MAX_DAYS) throw validationError('to', `the period may span at most ${MAX_DAYS} days`);
      const scope = scopeOf(req);
      if (query.companyId && !(await companyVisible(deps.db, query.companyId, scope))) throw notFound('company', query.companyId);
      const report = buildProfitability(await loadProfitabilityInput(deps.db, { from: query.from, to: query.to, companyId: query.companyId, scope }));
      const csv = query.format === 'csv' || (query.format === undefined && req.accepts(['application/json', 'text/csv']) === 'text/csv');
      res.vary('Accept');
      if (!csv) {
        const counts = await slaAttainmentByContract(deps.db, report.contracts.map((c) => c.contractId), query.from, query.to, nowOf(deps));
        return { body: { ...report, contracts: withSlaAttainment(report.contracts, counts) } };
      }
      const name = `profitability_${query.from}_${query.to}${query.companyId ? `_company-${query.companyId}` : ''}.csv`;
      res.status(200).type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${name}"`);
      res.send(profitabilityCsv(report));
      return undefined;
    },
  );
  return router;
}
