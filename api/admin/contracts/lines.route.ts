import type { Router } from 'express';
import { z } from 'zod';
import { HubError, notFound, validationError } from '../../../core/errors';
import { withContractErrors } from '../../../db/queries/contract-errors';
import { lockContract } from '../../../db/queries/contracts';
import { deleteContractLine, findCatalogueItems, findContractLine, insertContractLines, insertLineAdjustment, listContractLines, listLineAdjustments, updateContractLine, type LineKind } from '../../../db/queries/contract-lines';
import { countLinksUsingService } from '../../../db/queries/device-links';
import type { AppDeps } from '../../context';
import { idString, moneyString, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit } from '../audit/admin-write';
import { contractOr404, MOUNT, TAGS } from './contracts.route';
import { adjustmentBody, asOfQuery, bundleLineInput, patchLineBody, serviceLineInput } from './schemas';
import { adjustmentOut, adjustmentSchema, bundleLineSchema, linesOut, serviceLineSchema } from './serialize';
import { todayFor } from './today';

interface LineRoutes {
  kind: LineKind;
  /** Path segment under /contracts/:id. */
  segment: string;
  /** Path parameter and body field naming the catalogue item. */
  key: 'serviceId' | 'bundleId';
  what: string;
  entity: string;
}

const KINDS: LineRoutes[] = [
  { kind: 'service', segment: 'services', key: 'serviceId', what: 'service', entity: 'contract_service' },
  { kind: 'bundle', segment: 'service-bundles', key: 'bundleId', what: 'service bundle', entity: 'contract_bundle' },
];

/**
 * Services and service bundles on a contract, and their dated adjustments (SPEC §8
 * `POST /contracts/:id/services/:serviceId/adjustments`): from effectiveDate on, the line has
 * `units` units (the new count, not a delta) and/or costs `unitPrice` a unit.
 */
export function registerLineRoutes(router: Router, deps: AppDeps): void {
  for (const k of KINDS) register(router, deps, k);
}

function register(router: Router, deps: AppDeps, k: LineRoutes): void {
  const lineSchema = k.kind === 'service' ? serviceLineSchema : bundleLineSchema;
  const itemPath = `/:id/${k.segment}/:${k.key}`;

  const loadLine = async (db: Parameters<typeof findContractLine>[0], contractId: string, rawItemId: string | undefined) => {
    const itemId = parseId(rawItemId, k.what);
    const line = await findContractLine(db, k.kind, contractId, itemId);
    if (!line) throw notFound(`${k.what} ${itemId} on contract`, contractId);
    return line;
  };

  const lineView = async (db: Parameters<typeof findContractLine>[0], contractId: string, itemId: string, asOf: string) => {
    const line = await findContractLine(db, k.kind, contractId, itemId);
    if (!line) throw notFound(`${k.what} ${itemId} on contract`, contractId);
    const adjustments = await listLineAdjustments(db, k.kind, contractId, line.id);
    const [out] = linesOut(k.kind, [line], adjustments, asOf);
    return out;
  };

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: `/:id/${k.segment}`,
      summary: `List the contract's ${k.what}s with units and prices as of a date (default today)`,
      tags: TAGS,
      role: 'viewer',
      query: asOfQuery,
      response: z.strictObject({ items: z.array(lineSchema) }),
    },
    async ({ params, query, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const [lines, adjustments] = await Promise.all([listContractLines(deps.db, k.kind, c.id), listLineAdjustments(deps.db, k.kind, c.id)]);
      return { body: { items: linesOut(k.kind, lines, adjustments, query.asOf ?? todayFor(deps)) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: `/:id/${k.segment}`,
      summary: `Add a ${k.what} to the contract (price and cost default to the catalogue's)`,
      tags: TAGS,
      role: 'admin',
      body: k.kind === 'service' ? serviceLineInput : bundleLineInput,
      status: 201,
      response: lineSchema,
    },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const raw = body as { serviceId?: string | number; bundleId?: string | number; units: number | string; unitPrice?: number | string; unitCost?: number | string | null };
      const itemId = idString(raw[k.key] ?? '');
      const out = await withContractErrors(
        () =>
          deps.db.transaction(async (trx) => {
            const catalogue = await findCatalogueItems(trx, k.kind, [itemId]);
            const known = catalogue.get(itemId);
            if (!known) throw validationError(k.key, `${k.what} ${itemId} does not exist`);
            await insertContractLines(trx, k.kind, c.id, [
              {
                itemId,
                units: moneyString(raw.units),
                unitPrice: raw.unitPrice === undefined ? known.unit_price : moneyString(raw.unitPrice),
                unitCost: raw.unitCost === undefined ? known.unit_cost : raw.unitCost === null ? null : moneyString(raw.unitCost),
              },
            ]);
            const view = await lineView(trx, c.id, itemId, todayFor(deps));
            await audit(trx, req, { action: 'create', entityType: k.entity, entityId: `${c.id}:${itemId}`, companyId: c.company_id, after: view });
            return view;
          }),
        { contract_services_unique: k.key, contract_bundles_unique: k.key },
      );
      return { status: 201, body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: itemPath,
      summary: `Change a ${k.what}'s base units, price or cost (undated; use adjustments for dated changes)`,
      tags: TAGS,
      role: 'admin',
      body: patchLineBody,
      response: lineSchema,
    },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await withContractErrors(() =>
        deps.db.transaction(async (trx) => {
          await lockContract(trx, c.id);
          const line = await loadLine(trx, c.id, params[k.key]);
          const before = await lineView(trx, c.id, line.item_id, todayFor(deps));
          await updateContractLine(trx, k.kind, line.id, {
            ...(body.units === undefined ? {} : { units: moneyString(body.units) }),
            ...(body.unitPrice === undefined ? {} : { unit_price: moneyString(body.unitPrice) }),
            ...(body.unitCost === undefined ? {} : { unit_cost: body.unitCost === null ? null : moneyString(body.unitCost) }),
          });
          const after = await lineView(trx, c.id, line.item_id, todayFor(deps));
          await audit(trx, req, { action: 'update', entityType: k.entity, entityId: `${c.id}:${line.item_id}`, companyId: c.company_id, before, after });
          return after;
        }),
      );
      return { body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: itemPath, summary: `Remove a ${k.what} (and its adjustments) from the contract`, tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      const c = await contractOr404(deps.db, req, params.id);
      await withContractErrors(() =>
        deps.db.transaction(async (trx) => {
          await lockContract(trx, c.id);
          const line = await loadLine(trx, c.id, params[k.key]);
          if (k.kind === 'service') {
            const inUse = await countLinksUsingService(trx, c.id, line.item_id, todayFor(deps));
            if (inUse > 0) {
              throw new HubError('CONFLICT', `${k.key}: ${inUse} device link(s) of contract ${c.id} use service ${line.item_id} today or later; move them first`, {
                field: k.key,
                deviceLinks: inUse,
              });
            }
          }
          const before = await lineView(trx, c.id, line.item_id, todayFor(deps));
          await deleteContractLine(trx, k.kind, line.id);
          await audit(trx, req, { action: 'delete', entityType: k.entity, entityId: `${c.id}:${line.item_id}`, companyId: c.company_id, before });
        }),
      );
      res.status(204).end();
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: `${itemPath}/adjustments`,
      summary: `List the dated adjustments of a ${k.what} on the contract`,
      tags: TAGS,
      role: 'viewer',
      response: z.strictObject({ items: z.array(adjustmentSchema) }),
    },
    async ({ params, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const line = await loadLine(deps.db, c.id, params[k.key]);
      return { body: { items: (await listLineAdjustments(deps.db, k.kind, c.id, line.id)).map(adjustmentOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: `${itemPath}/adjustments`,
      summary: `A dated change of a ${k.what}: from effectiveDate on, units (the new count) and/or unitPrice apply`,
      tags: TAGS,
      role: 'admin',
      body: adjustmentBody,
      status: 201,
      response: z.strictObject({ adjustment: adjustmentSchema, [k.kind === 'service' ? 'service' : 'serviceBundle']: lineSchema }),
    },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await withContractErrors(() =>
        deps.db.transaction(async (trx) => {
          const line = await loadLine(trx, c.id, params[k.key]);
          const adjustment = await insertLineAdjustment(trx, k.kind, line.id, {
            effectiveDate: body.effectiveDate,
            units: body.units === undefined ? null : moneyString(body.units),
            unitPrice: body.unitPrice === undefined ? null : moneyString(body.unitPrice),
          });
          const view = await lineView(trx, c.id, line.item_id, body.effectiveDate);
          const result = { adjustment: adjustmentOut(adjustment), [k.kind === 'service' ? 'service' : 'serviceBundle']: view };
          await audit(trx, req, {
            action: 'create',
            entityType: `${k.entity}_adjustment`,
            entityId: String(adjustment.id),
            companyId: c.company_id,
            after: result,
          });
          return result;
        }),
      );
      return { status: 201, body: out };
    },
  );
}
