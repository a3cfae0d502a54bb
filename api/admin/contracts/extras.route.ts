import type { Router } from 'express';
import { z } from 'zod';
import { validationError } from '../../../core/errors';
import { withContractErrors } from '../../../db/queries/contract-errors';
import { deleteBillingRule, findBillingRule, insertBillingRule, listBillingRules, updateBillingRule } from '../../../db/queries/billing-rules';
import { insertContractNote, listContractNotes } from '../../../db/queries/contract-notes';
import { deleteServiceMapping, insertServiceMapping, listServiceMappings } from '../../../db/queries/service-mappings';
import { deleteContractCharge, insertContractCharge, listContractCharges } from '../../../db/queries/contract-charges';
import { listContractDeviceLinks } from '../../../db/queries/device-links';
import type { BillingRuleRow } from '../../../db/tables';
import type { AppDeps } from '../../context';
import { actorOf } from '../../context';
import { idString, moneyString, pageOf, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { createAudited, deleteAudited, noErrorMapping, pageOfExtraRow, removeAudited, updateAudited } from '../crud';
import { contractOr404, MOUNT, TAGS } from './contracts.route';
import { billingRuleBody, chargeBody, chargeListQuery, deviceLinksQuery, noteBody, patchBillingRuleBody, serviceMappingBody } from './schemas';
import {
  billingRuleOut,
  billingRuleSchema,
  chargeOut,
  chargeSchema,
  deviceLinkOut,
  deviceLinkSchema,
  noteOut,
  noteSchema,
  serviceMappingOut,
  serviceMappingSchema,
} from './serialize';

const items = <T extends z.ZodType>(item: T) => z.strictObject({ items: z.array(item) });
const signedMoney = (v: number | string): string => (typeof v === 'number' ? v.toFixed(4) : v);

/**
 * Billing rules, notes, service mappings, charges and device links of a contract: the small
 * sub-resources of a contract, each a handful of thin routes; one file (just over 300 lines) keeps
 * their shared contract look-up and audit shape in one place.
 */
export function registerContractExtraRoutes(router: Router, deps: AppDeps): void {
  // --- billing rules ---------------------------------------------------------------------------
  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id/billing-rules', summary: "List the contract's billing rules", tags: TAGS, role: 'viewer', response: items(billingRuleSchema) },
    async ({ params, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      return { body: { items: (await listBillingRules(deps.db, c.id)).map(billingRuleOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '/:id/billing-rules', summary: 'Add a billing rule', tags: TAGS, role: 'admin', body: billingRuleBody, status: 201, response: billingRuleSchema },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await createAudited(
        deps.db,
        req,
        withContractErrors,
        'billing_rule',
        async (trx) =>
          billingRuleOut(
            await insertBillingRule(trx, c.id, {
              name: body.name,
              description: body.description ?? null,
              serviceId: body.serviceId == null ? null : idString(body.serviceId),
              amount: body.amount == null ? null : moneyString(body.amount),
              frequency: body.frequency ?? 'monthly',
              active: body.active ?? true,
              startDate: body.startDate,
              endDate: body.endDate ?? null,
            }),
          ),
        () => c.company_id,
      );
      return { status: 201, body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'patch', path: '/:id/billing-rules/:ruleId', summary: 'Change a billing rule', tags: TAGS, role: 'admin', body: patchBillingRuleBody, response: billingRuleSchema },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const ruleId = parseId(params.ruleId, 'billing rule');
      const out = await updateAudited(deps.db, req, withContractErrors, {
        entityType: 'billing_rule',
        what: 'billing rule',
        id: ruleId,
        load: (trx) => findBillingRule(trx, c.id, ruleId),
        update: (trx, before) => {
          const start = body.startDate ?? before.start_date;
          const end = body.endDate === undefined ? before.end_date : body.endDate;
          if (end !== null && end < start) throw validationError(body.endDate ? 'endDate' : 'startDate', `the rule would end (${end}) before it starts (${start})`);
          const patch: Partial<BillingRuleRow> = {};
          if (body.name !== undefined) patch.name = body.name;
          if (body.description !== undefined) patch.description = body.description;
          if (body.serviceId !== undefined) patch.service_id = body.serviceId === null ? null : idString(body.serviceId);
          if (body.amount !== undefined) patch.amount = body.amount === null ? null : moneyString(body.amount);
          if (body.frequency !== undefined) patch.frequency = body.frequency;
          if (body.active !== undefined) patch.active = body.active;
          if (body.startDate !== undefined) patch.start_date = body.startDate;
          if (body.endDate !== undefined) patch.end_date = body.endDate;
          return updateBillingRule(trx, ruleId, patch);
        },
        out: billingRuleOut,
        companyOf: () => c.company_id,
      });
      return { body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id/billing-rules/:ruleId', summary: 'Delete a billing rule', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const ruleId = parseId(params.ruleId, 'billing rule');
      await deleteAudited(deps.db, req, noErrorMapping, {
        entityType: 'billing_rule',
        what: 'billing rule',
        id: ruleId,
        load: (trx) => findBillingRule(trx, c.id, ruleId),
        remove: (trx) => deleteBillingRule(trx, ruleId),
        out: billingRuleOut,
        companyOf: () => c.company_id,
      });
      res.status(204).end();
    },
  );

  // --- notes -----------------------------------------------------------------------------------
  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id/notes', summary: "List the contract's notes (renewal notes included, R-REN-9)", tags: TAGS, role: 'viewer', response: items(noteSchema) },
    async ({ params, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      return { body: { items: (await listContractNotes(deps.db, c.id)).map(noteOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '/:id/notes', summary: 'Add a note to the contract', tags: TAGS, role: 'admin', body: noteBody, status: 201, response: noteSchema },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await createAudited(
        deps.db,
        req,
        noErrorMapping,
        'contract_note',
        async (trx) => noteOut(await insertContractNote(trx, c.id, { kind: body.kind ?? 'note', body: body.body, author: actorOf(req) })),
        () => c.company_id,
      );
      return { status: 201, body: out };
    },
  );

  // --- service mappings (integrated billing, R-REN-13) -----------------------------------------
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/service-mappings',
      summary: 'List the module billing type → service mapping (integrated billing)',
      tags: TAGS,
      role: 'viewer',
      response: items(serviceMappingSchema),
    },
    async ({ params, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      return { body: { items: (await listServiceMappings(deps.db, c.id)).map(serviceMappingOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:id/service-mappings',
      summary: 'Map a module billing type to a service',
      tags: TAGS,
      role: 'admin',
      body: serviceMappingBody,
      status: 201,
      response: serviceMappingSchema,
    },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await createAudited(
        deps.db,
        req,
        withContractErrors,
        'service_mapping',
        async (trx) => serviceMappingOut(await insertServiceMapping(trx, c.id, { moduleBillingType: body.moduleBillingType, serviceId: idString(body.serviceId) })),
        () => c.company_id,
      );
      return { status: 201, body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id/service-mappings/:mappingId', summary: 'Delete a service mapping', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const mappingId = parseId(params.mappingId, 'service mapping');
      await removeAudited(deps.db, req, {
        entityType: 'service_mapping',
        what: 'service mapping',
        id: mappingId,
        companyId: c.company_id,
        remove: (trx) => deleteServiceMapping(trx, c.id, mappingId),
        out: serviceMappingOut,
      });
      res.status(204).end();
    },
  );

  // --- charges ---------------------------------------------------------------------------------
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/charges',
      summary: "List the contract's charges (optionally between from and to)",
      tags: TAGS,
      role: 'viewer',
      query: chargeListQuery,
      response: items(chargeSchema),
    },
    async ({ params, query, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      return { body: { items: (await listContractCharges(deps.db, c.id, query)).map(chargeOut) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '/:id/charges', summary: 'Add a charge to the contract', tags: TAGS, role: 'admin', body: chargeBody, status: 201, response: chargeSchema },
    async ({ params, body, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const out = await createAudited(
        deps.db,
        req,
        noErrorMapping,
        'contract_charge',
        async (trx) =>
          chargeOut(
            await insertContractCharge(trx, c.id, {
              chargeDate: body.chargeDate,
              description: body.description,
              amount: signedMoney(body.amount),
              billed: body.billed ?? false,
            }),
          ),
        () => c.company_id,
      );
      return { status: 201, body: out };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id/charges/:chargeId', summary: 'Delete a charge', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const chargeId = parseId(params.chargeId, 'charge');
      await removeAudited(deps.db, req, {
        entityType: 'contract_charge',
        what: 'charge',
        id: chargeId,
        companyId: c.company_id,
        remove: (trx) => deleteContractCharge(trx, c.id, chargeId),
        out: chargeOut,
      });
      res.status(204).end();
    },
  );

  // --- device links of the contract ------------------------------------------------------------
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/device-links',
      summary: 'Device links of the contract (with asOf: only those in force that day)',
      tags: TAGS,
      role: 'viewer',
      query: deviceLinksQuery,
      response: pageOf(deviceLinkSchema),
    },
    async ({ params, query, req }) => {
      const c = await contractOr404(deps.db, req, params.id);
      const rows = await listContractDeviceLinks(deps.db, c.id, { asOf: query.asOf, limit: query.limit + 1, afterId: query.cursor });
      return { body: pageOfExtraRow(rows, query.limit, deviceLinkOut) };
    },
  );
}
