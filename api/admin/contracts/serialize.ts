import { z } from 'zod';
import { psaRefsOutput, refsOf } from '../psa-refs';
import type { IsoDate } from '../../../core/dates';
import { latestUnitPrice, unitPriceAsOf, unitsAsOf, type ContractLine, type RenewalProposal } from '../../../core/contracts/renewal';
import type { ContractWithRenewalRow } from '../../../db/queries/contracts';
import type { ContractLineRow, LineAdjustmentRow, LineKind } from '../../../db/queries/contract-lines';
import type { DeviceLinkView } from '../../../db/queries/device-links';
import type { LeftBehindReport } from '../../../core/contracts/left-behind';
import type { RenewalApplication } from '../../../db/queries/renewal-applications';
import type { BillingRuleRow, ContractChargeRow, ContractNoteRow, ServiceMappingRow } from '../../../db/tables';
import { instant, moneyOut, toInstant } from '../../openapi/schemas';

/**
 * Rows → JSON of the contracts API (SPEC §8: camelCase, ids as strings, dates 'YYYY-MM-DD',
 * instants ISO 8601). Money and unit counts are JSON numbers, like the rest of the admin API
 * (api/openapi/schemas.ts `moneyOut`): exact to the 4 decimals the database stores, computed on
 * exact decimals before they get here.
 *
 * Over 300 lines and one piece on purpose: every response schema of the contracts resource and its
 * serializer sit side by side, so the OpenAPI document and the JSON cannot drift apart.
 *
 * One piece (about 360 lines): every JSON shape of the contracts resource (contracts, lines,
 * adjustments, renewals) in one place, so the money and date conventions stated here hold for all
 * of them.
 */

const num = (v: string): number => moneyOut(v) ?? 0;
const id = (v: string | number): string => String(v);
const idOrNull = (v: string | number | null): string | null => (v === null ? null : String(v));

// --- contracts ---------------------------------------------------------------------------------

export const contractSchema = z
  .strictObject({
    id: z.string(),
    companyId: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    description: z.string().nullable(),
    type: z.string(),
    periodType: z.string(),
    status: z.enum(['active', 'inactive']),
    startDate: z.string(),
    endDate: z.string(),
    slaId: z.string().nullable(),
    isDefaultServiceDesk: z.boolean(),
    integratedBilling: z.boolean(),
    purchaseOrder: z.string().nullable(),
    contactName: z.string().nullable(),
    autoRenew: z.boolean(),
    autoRenewDaysBefore: z.number().nullable(),
    renewalOfId: z.string().nullable(),
    renewedById: z.string().nullable(),
    renewedAt: instant.nullable(),
    psaRefs: psaRefsOutput,
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Contract');

export type ContractOut = z.infer<typeof contractSchema>;

export const contractOut = (c: ContractWithRenewalRow): ContractOut => ({
  id: id(c.id),
  companyId: id(c.company_id),
  name: c.name,
  code: c.code,
  description: c.description,
  type: c.type,
  periodType: c.period_type,
  status: c.status,
  startDate: c.start_date,
  endDate: c.end_date,
  slaId: idOrNull(c.sla_id),
  isDefaultServiceDesk: c.is_default_service_desk,
  integratedBilling: c.integrated_billing,
  purchaseOrder: c.purchase_order,
  contactName: c.contact_name,
  autoRenew: c.auto_renew,
  autoRenewDaysBefore: c.auto_renew_days_before,
  renewalOfId: idOrNull(c.renewal_of_id),
  renewedById: idOrNull(c.renewed_by_id),
  renewedAt: toInstant(c.renewed_at),
  psaRefs: refsOf(c),
  createdAt: c.created_at.toISOString(),
  updatedAt: c.updated_at.toISOString(),
});

// --- services and bundles ----------------------------------------------------------------------

export const adjustmentSchema = z
  .strictObject({ id: z.string(), effectiveDate: z.string(), units: z.number().nullable(), unitPrice: z.number().nullable(), createdAt: instant })
  .openapi('ContractLineAdjustment');

export const adjustmentOut = (a: LineAdjustmentRow) => ({
  id: id(a.id),
  effectiveDate: a.effective_date,
  units: moneyOut(a.units),
  unitPrice: moneyOut(a.unit_price),
  createdAt: a.created_at.toISOString(),
});

const lineShape = {
  name: z.string(),
  units: z.number().openapi({ description: 'Units as of `asOf` (adjustments applied).' }),
  unitPrice: z.number().openapi({ description: 'Unit price as of `asOf` (adjustments applied).' }),
  unitCost: z.number().nullable(),
  baseUnits: z.number().openapi({ description: 'Units before any adjustment.' }),
  baseUnitPrice: z.number(),
  latestUnitPrice: z.number().openapi({ description: 'The latest adjusted price, whatever its date (what a renewal takes, R-REN-8).' }),
  adjustments: z.array(adjustmentSchema),
};
export const serviceLineSchema = z.strictObject({ serviceId: z.string(), ...lineShape }).openapi('ContractService');
export const bundleLineSchema = z.strictObject({ bundleId: z.string(), ...lineShape }).openapi('ContractServiceBundle');

/** A contract service or bundle as it stands on `asOf`. */
export function lineOut(kind: LineKind, row: ContractLineRow, adjustments: LineAdjustmentRow[], asOf: IsoDate) {
  const line: ContractLine = {
    itemId: id(row.item_id),
    units: row.units,
    unitPrice: row.unit_price,
    unitCost: row.unit_cost,
    adjustments: adjustments.map((a) => ({ effectiveDate: a.effective_date, units: a.units, unitPrice: a.unit_price, seq: Number(a.id) })),
  };
  const body = {
    name: row.item_name,
    units: num(unitsAsOf(line, asOf)),
    unitPrice: num(unitPriceAsOf(line, asOf)),
    unitCost: moneyOut(row.unit_cost),
    baseUnits: num(row.units),
    baseUnitPrice: num(row.unit_price),
    latestUnitPrice: num(latestUnitPrice(line)),
    adjustments: adjustments.map(adjustmentOut),
  };
  return kind === 'service' ? { serviceId: id(row.item_id), ...body } : { bundleId: id(row.item_id), ...body };
}

/** Lines of a contract with their adjustments, as of `asOf`. */
export function linesOut(kind: LineKind, rows: ContractLineRow[], adjustments: LineAdjustmentRow[], asOf: IsoDate) {
  const byLine = new Map<string, LineAdjustmentRow[]>();
  for (const a of adjustments) byLine.set(id(a.line_id), [...(byLine.get(id(a.line_id)) ?? []), a]);
  return rows.map((r) => lineOut(kind, r, byLine.get(id(r.id)) ?? [], asOf));
}

// --- notes, billing rules, mappings, charges ---------------------------------------------------

export const noteSchema = z
  .strictObject({ id: z.string(), kind: z.string(), body: z.string(), author: z.string().nullable(), createdAt: instant })
  .openapi('ContractNote');
export const noteOut = (n: ContractNoteRow) => ({ id: id(n.id), kind: n.kind, body: n.body, author: n.author, createdAt: n.created_at.toISOString() });

export const billingRuleSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    serviceId: z.string().nullable(),
    amount: z.number().nullable(),
    frequency: z.string(),
    active: z.boolean(),
    startDate: z.string(),
    endDate: z.string().nullable(),
    createdAt: instant,
  })
  .openapi('BillingRule');
export const billingRuleOut = (r: BillingRuleRow) => ({
  id: id(r.id),
  name: r.name,
  description: r.description,
  serviceId: idOrNull(r.service_id),
  amount: moneyOut(r.amount),
  frequency: r.frequency,
  active: r.active,
  startDate: r.start_date,
  endDate: r.end_date,
  createdAt: r.created_at.toISOString(),
});

export const serviceMappingSchema = z
  .strictObject({ id: z.string(), moduleBillingType: z.string(), serviceId: z.string() })
  .openapi('ServiceMapping');
export const serviceMappingOut = (m: ServiceMappingRow) => ({ id: id(m.id), moduleBillingType: m.module_billing_type, serviceId: id(m.service_id) });

export const chargeSchema = z
  .strictObject({ id: z.string(), chargeDate: z.string(), description: z.string(), amount: z.number(), billed: z.boolean(), createdAt: instant })
  .openapi('ContractCharge');
export const chargeOut = (c: ContractChargeRow) => ({
  id: id(c.id),
  chargeDate: c.charge_date,
  description: c.description,
  amount: num(c.amount),
  billed: c.billed,
  createdAt: c.created_at.toISOString(),
});

// --- device links --------------------------------------------------------------------------------

export const deviceLinkSchema = z
  .strictObject({
    id: z.string(),
    deviceId: z.string(),
    hostname: z.string().optional(),
    contractId: z.string(),
    contractName: z.string(),
    serviceId: z.string().nullable(),
    serviceName: z.string().nullable(),
    from: z.string().openapi({ format: 'date' }),
    to: z.string().nullable().openapi({ format: 'date', description: 'Inclusive; null = open-ended.' }),
    origin: z.enum(['import', 'rule']).nullable().openapi({ description: 'Where the link came from: a device import row, a rules `link` event (rule in createdByRule), or null (by hand, triage, renewal).' }),
    createdByRule: z.string().nullable().openapi({ description: 'The rule whose `link` event made it (R-LINK-7).' }),
    createdAt: instant,
  })
  .openapi('DeviceContractLink');
export const deviceLinkOut = (l: DeviceLinkView & { hostname?: string }) => ({
  id: id(l.id),
  deviceId: id(l.device_id),
  ...(l.hostname === undefined ? {} : { hostname: l.hostname }),
  contractId: id(l.contract_id),
  contractName: l.contract_name,
  serviceId: idOrNull(l.service_id),
  serviceName: l.service_name,
  from: l.valid_from,
  to: l.valid_to,
  origin: l.origin ?? null,
  createdByRule: l.created_by_rule,
  createdAt: l.created_at.toISOString(),
});

// --- renewal -------------------------------------------------------------------------------------

const proposedLineOut = (kind: LineKind, l: RenewalProposal['services'][number]) => ({
  ...(kind === 'service' ? { serviceId: l.itemId } : { bundleId: l.itemId }),
  units: num(l.units),
  unitsOverridden: l.unitsOverridden,
  originalUnitPrice: num(l.originalUnitPrice),
  upliftedUnitPrice: num(l.upliftedUnitPrice),
  unitPrice: num(l.unitPrice),
  priceOverridden: l.priceOverridden,
  unitCost: moneyOut(l.unitCost),
});

/** The wizard's proposal (R-REN-3..13, R-REN-15) in the API's number format. */
export const proposalOut = (p: RenewalProposal) => ({
  originalId: p.originalId,
  contract: p.contract,
  priceUpliftPercent: p.priceUpliftPercent === null ? null : Number(p.priceUpliftPercent),
  services: p.services.map((l) => proposedLineOut('service', l)),
  serviceBundles: p.bundles.map((l) => proposedLineOut('bundle', l)),
  billingRules: p.billingRules.map((r) => ({ ...r, amount: moneyOut(r.amount) })),
  serviceMappings: p.serviceMappings,
  serviceMappingsCopied: p.serviceMappingsCopied,
  original: p.original,
  deviceLinks: p.deviceLinks,
  defaultServiceDesk: p.defaultServiceDesk,
  schedule: p.schedule,
});

/** R-REN-14: what stays behind, amounts and hours as numbers. */
export const leftBehindOut = (r: LeftBehindReport) => ({
  originalEndDate: r.originalEndDate,
  openTickets: r.openTickets,
  openProjects: r.openProjects,
  chargesAfterEnd: { count: r.chargesAfterEnd.count, items: r.chargesAfterEnd.items.map((c) => ({ ...c, amount: num(c.amount) })) },
  timeEntriesAfterEnd: {
    count: r.timeEntriesAfterEnd.count,
    items: r.timeEntriesAfterEnd.items.map((e) => ({ ...e, hours: num(e.hours) })),
  },
});

export const applicationOut = (a: RenewalApplication) => ({
  effectiveDate: a.effective_date,
  scheduled: a.applied_at === null,
  appliedAt: toInstant(a.applied_at),
  appliedBy: a.applied_by,
  deactivatesOriginal: a.deactivate_original,
});

// --- renewal response schemas (for the OpenAPI document and conformance tests) ------------------

const proposedLineShape = {
  units: z.number(),
  unitsOverridden: z.boolean(),
  originalUnitPrice: z.number().openapi({ description: 'Latest adjusted price of the original (R-REN-8).' }),
  upliftedUnitPrice: z.number().openapi({ description: 'After the uplift, rounded half up to cents (R-REN-7).' }),
  unitPrice: z.number().openapi({ description: 'What the renewal gets (after per-line edits).' }),
  priceOverridden: z.boolean(),
  unitCost: z.number().nullable(),
};
const leftBehindList = <T extends z.ZodType>(item: T) => z.strictObject({ count: z.number().int(), items: z.array(item) });
const contractRef = z.strictObject({ id: z.string(), name: z.string(), startDate: z.string(), endDate: z.string() });

export const renewalProposalSchema = z
  .strictObject({
    originalId: z.string(),
    contract: z.strictObject({
      companyId: z.string(),
      name: z.string(),
      description: z.string().nullable(),
      type: z.string(),
      periodType: z.string(),
      startDate: z.string(),
      endDate: z.string(),
      slaId: z.string().nullable(),
      isDefaultServiceDesk: z.boolean(),
      integratedBilling: z.boolean(),
      purchaseOrder: z.string().nullable(),
      contactName: z.string().nullable(),
      autoRenew: z.boolean(),
      autoRenewDaysBefore: z.number().nullable(),
    }),
    priceUpliftPercent: z.number().nullable(),
    services: z.array(z.strictObject({ serviceId: z.string(), ...proposedLineShape })),
    serviceBundles: z.array(z.strictObject({ bundleId: z.string(), ...proposedLineShape })),
    billingRules: z.array(
      z.strictObject({
        sourceRuleId: z.string(),
        name: z.string(),
        description: z.string().nullable(),
        serviceId: z.string().nullable(),
        amount: z.number().nullable(),
        frequency: z.string(),
        active: z.literal(false),
        startDate: z.string(),
        endDate: z.null(),
      }),
    ),
    serviceMappings: z.array(z.strictObject({ moduleBillingType: z.string(), serviceId: z.string() })),
    serviceMappingsCopied: z.boolean(),
    original: z.strictObject({
      id: z.string(),
      endsEarly: z.boolean(),
      currentEndDate: z.string(),
      newEndDate: z.string(),
      deactivatedOn: z.string().nullable(),
    }),
    deviceLinks: z.strictObject({ moveOn: z.string(), originalLinksEndOn: z.string() }),
    defaultServiceDesk: z.strictObject({
      originalIsDefault: z.boolean(),
      conflicts: z.array(contractRef),
      choiceRequired: z.boolean(),
      choice: z.enum(['renewal', 'existing']).nullable(),
      renewalIsDefault: z.boolean(),
      clearDefaultOf: z.array(z.string()),
    }),
    schedule: z.strictObject({ effectiveDate: z.string(), scheduled: z.boolean() }),
  })
  .openapi('RenewalProposal');

export const leftBehindSchema = z
  .strictObject({
    originalEndDate: z.string(),
    openTickets: leftBehindList(z.strictObject({ id: z.string(), title: z.string(), status: z.string() })),
    openProjects: leftBehindList(z.strictObject({ id: z.string(), name: z.string() })),
    chargesAfterEnd: leftBehindList(z.strictObject({ id: z.string(), chargeDate: z.string(), description: z.string(), amount: z.number() })),
    timeEntriesAfterEnd: leftBehindList(
      z.strictObject({ id: z.string(), workDate: z.string(), hours: z.number(), ticketId: z.string().nullable(), projectId: z.string().nullable() }),
    ),
  })
  .openapi('RenewalLeftBehind', { description: 'R-REN-14: what the renewal does not transfer (counts complete, at most 100 items each).' });

export const applicationSchema = z
  .strictObject({
    effectiveDate: z.string(),
    scheduled: z.boolean(),
    appliedAt: instant.nullable(),
    appliedBy: z.string().nullable(),
    deactivatesOriginal: z.boolean(),
  })
  .openapi('RenewalApplication');
