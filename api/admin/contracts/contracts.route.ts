import { ALL_COMPANIES, scopeIncludes } from '../../../core/access/company-scope';
import type { Request, Router } from 'express';
import { z } from 'zod';
import type { IsoDate } from '../../../core/dates';
import { notFound, validationError } from '../../../core/errors';
import type { Db } from '../../../db/connection';
import { withContractErrors } from '../../../db/queries/contract-errors';
import { findContract, insertContract, listContracts, lockContract, updateContract, type ContractPatch, type ContractWithRenewalRow } from '../../../db/queries/contracts';
import { findCatalogueItems, insertContractLines, listContractLines, listLineAdjustments, type LineKind, type NewLine } from '../../../db/queries/contract-lines';
import { listContractNotes } from '../../../db/queries/contract-notes';
import type { AppDeps } from '../../context';
import { actorOf, scopeOf } from '../../context';
import { deleteContract } from '../../../app/contracts/delete-contract';
import { idString, moneyString, pageOf, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit } from '../audit/admin-write';
import { createAudited, pageBody } from '../crud';
import { asOfQuery, contractListQuery, createContractBody, patchContractBody } from './schemas';
import { bundleLineSchema, contractOut, contractSchema, linesOut, noteOut, noteSchema, serviceLineSchema } from './serialize';
import { todayFor } from './today';

export const MOUNT = '/contracts';
export const TAGS = ['contracts'];

/** The contract, or 404 — also when it belongs to a company outside the caller's scope. */
export async function contractOr404(db: Db, req: Request, rawId: string | undefined): Promise<ContractWithRenewalRow> {
  const id = parseId(rawId, 'contract');
  const c = await findContract(db, id, scopeOf(req));
  if (!c) throw notFound('contract', id);
  return c;
}

export const contractDetailSchema = contractSchema
  .extend({
    asOf: z.string().openapi({ format: 'date', description: 'The date units and prices are shown for.' }),
    services: z.array(serviceLineSchema),
    serviceBundles: z.array(bundleLineSchema),
    notes: z.array(noteSchema),
  })
  .openapi('ContractDetail');

/** The contract with its services and bundles as of `asOf`, and its notes (SPEC §8 GET /contracts/:id). */
export async function contractDetail(db: Db, c: ContractWithRenewalRow, asOf: IsoDate) {
  // Sequential: inside a transaction these share one connection, which runs one query at a time.
  const services = await listContractLines(db, 'service', c.id);
  const serviceAdjustments = await listLineAdjustments(db, 'service', c.id);
  const bundles = await listContractLines(db, 'bundle', c.id);
  const bundleAdjustments = await listLineAdjustments(db, 'bundle', c.id);
  const notes = await listContractNotes(db, c.id);
  return {
    ...contractOut(c),
    asOf,
    services: linesOut('service', services, serviceAdjustments, asOf),
    serviceBundles: linesOut('bundle', bundles, bundleAdjustments, asOf),
    notes: notes.map(noteOut),
  };
}

type LineInput = { units: number | string; unitPrice?: number | string; unitCost?: number | string | null };

/** Lines as sent, with catalogue prices filled in; an unknown catalogue id is a 400 naming its entry. */
async function resolveLines(db: Db, kind: LineKind, field: string, items: Array<LineInput & { id: string }>): Promise<NewLine[]> {
  const catalogue = await findCatalogueItems(db, kind, items.map((i) => i.id));
  return items.map((item, i) => {
    const known = catalogue.get(item.id);
    if (!known) throw validationError(`${field}.${i}.${kind === 'service' ? 'serviceId' : 'bundleId'}`, `${kind === 'service' ? 'service' : 'service bundle'} ${item.id} does not exist`);
    return {
      itemId: item.id,
      units: moneyString(item.units),
      unitPrice: item.unitPrice === undefined ? known.unit_price : moneyString(item.unitPrice),
      unitCost: item.unitCost === undefined ? known.unit_cost : item.unitCost === null ? null : moneyString(item.unitCost),
    };
  });
}

/** SPEC §8 `POST/GET/PATCH /contracts`. */
export function registerContractRoutes(router: Router, deps: AppDeps): void {
  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '',
      summary: 'Create a contract, optionally with services and service bundles',
      tags: TAGS,
      role: 'admin',
      body: createContractBody,
      status: 201,
      response: contractDetailSchema,
    },
    async ({ body, req }) => {
      const companyId = idString(body.companyId);
      const scope = scopeOf(req);
      if (!scopeIncludes(scope, companyId)) throw validationError('companyId', `company ${companyId} does not exist`);
      const created = await createAudited(
        deps.db,
        req,
        withContractErrors,
        'contract',
        async (trx) => {
          const c = await insertContract(trx, {
            companyId,
            name: body.name,
            code: body.code ?? null,
            description: body.description ?? null,
            type: body.type,
            periodType: body.periodType,
            startDate: body.startDate,
            endDate: body.endDate,
            slaId: body.slaId == null ? null : idString(body.slaId),
            isDefaultServiceDesk: body.isDefaultServiceDesk,
            integratedBilling: body.integratedBilling,
            purchaseOrder: body.purchaseOrder ?? null,
            contactName: body.contactName ?? null,
            autoRenew: body.autoRenew,
            autoRenewDaysBefore: body.autoRenewDaysBefore ?? null,
          });
          const services = await resolveLines(trx, 'service', 'services', (body.services ?? []).map((s) => ({ ...s, id: idString(s.serviceId) })));
          const bundles = await resolveLines(trx, 'bundle', 'serviceBundles', (body.serviceBundles ?? []).map((b) => ({ ...b, id: idString(b.bundleId) })));
          await insertContractLines(trx, 'service', c.id, services);
          await insertContractLines(trx, 'bundle', c.id, bundles);
          const row = await findContract(trx, c.id, ALL_COMPANIES);
          if (!row) throw notFound('contract', c.id);
          return contractDetail(trx, row, todayFor(deps));
        },
        () => companyId,
      );
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List contracts (filters: companyId, status, type; keyset cursor or offset)',
      tags: TAGS,
      role: 'viewer',
      query: contractListQuery,
      response: pageOf(contractSchema),
    },
    async ({ query, req }) => {
      const page = await listContracts(deps.db, {
        scope: scopeOf(req),
        companyId: query.companyId,
        status: query.status,
        type: query.type,
        limit: query.limit,
        cursor: query.cursor,
        offset: query.offset,
      });
      return { body: pageBody(page, contractOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id',
      summary: 'Get a contract with services and bundles as of a date (default today), status, notes, renewedById, renewalOfId',
      tags: TAGS,
      role: 'viewer',
      query: asOfQuery,
      response: contractDetailSchema,
    },
    async ({ params, query, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      return { body: await contractDetail(deps.db, c, query.asOf ?? todayFor(deps)) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Update a contract (company and period type cannot change)',
      tags: TAGS,
      role: 'admin',
      body: patchContractBody,
      response: contractDetailSchema,
    },
    async ({ params, body, req }) => {
      const id = parseId(params.id, 'contract');
      const updated = await withContractErrors(() =>
        deps.db.transaction(async (trx) => {
          const before = await lockContract(trx, id);
          const scope = scopeOf(req);
          if (!before || !scopeIncludes(scope, before.company_id)) throw notFound('contract', id);
          if (body.companyId !== undefined && String(body.companyId) !== String(before.company_id)) {
            throw validationError('companyId', 'the company of a contract cannot change; create a new contract for the other company');
          }
          if (body.periodType !== undefined && body.periodType !== before.period_type) {
            throw validationError('periodType', 'the period type of a contract cannot change');
          }
          const startDate = body.startDate ?? before.start_date;
          const endDate = body.endDate ?? before.end_date;
          if (endDate < startDate) throw validationError(body.endDate ? 'endDate' : 'startDate', `the contract would end (${endDate}) before it starts (${startDate})`);
          const patch: ContractPatch = {
            name: body.name,
            code: body.code,
            description: body.description,
            type: body.type,
            status: body.status,
            start_date: body.startDate,
            end_date: body.endDate,
            sla_id: body.slaId === undefined ? undefined : body.slaId === null ? null : idString(body.slaId),
            is_default_service_desk: body.isDefaultServiceDesk,
            integrated_billing: body.integratedBilling,
            purchase_order: body.purchaseOrder,
            contact_name: body.contactName,
            auto_renew: body.autoRenew,
            auto_renew_days_before: body.autoRenewDaysBefore,
          };
          const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as ContractPatch;
          if (Object.keys(changes).length > 0) await updateContract(trx, id, changes);
          const row = await findContract(trx, id, ALL_COMPANIES);
          if (!row) throw notFound('contract', id);
          const detail = await contractDetail(trx, row, todayFor(deps));
          await audit(trx, req, { action: 'update', entityType: 'contract', entityId: id, companyId: before.company_id, before, after: detail });
          return detail;
        }),
      );
      return { body: updated };
    },
  );
  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a contract nothing refers to (409 naming the tickets, device links, time entries, renewals, … that do)',
      tags: TAGS,
      role: 'admin',
      status: 204,
    },
    async ({ params, req, res }) => {
      const id = parseId(params.id, 'contract');
      await deleteContract(deps.db, { contractId: id }, { scope: scopeOf(req), actor: actorOf(req), requestId: req.requestId ?? null });
      res.status(204).end();
    },
  );
}
