import { z } from 'zod';
import { psaRefsInput } from '../psa-refs';
import { idInputSchema, isoDate, moneyInput, nameSchema, nonEmptyPatch, pageQueryShape } from '../../openapi/schemas';

/** Request schemas of the contracts API (SPEC §8). Strict: an unknown key is a 400 naming it. */

export const contractTypeSchema = z.enum(['recurring_service', 'time_and_materials', 'fixed_price', 'block_hours', 'retainer', 'per_ticket']);
export const periodTypeSchema = z.enum(['monthly', 'quarterly', 'semi_annual', 'yearly']);
export const frequencySchema = z.enum(['monthly', 'quarterly', 'semi_annual', 'yearly', 'one_time']);

/** Unit counts: like money, ≥ 0 with at most 4 decimals (numeric(14,4)). */
export const unitsInput = moneyInput.openapi({ description: 'Units: ≥ 0, at most 4 decimals (number or decimal string).', example: 25 });

/** A signed amount (a charge may be a credit): number or decimal string, at most 4 decimals. */
export const signedMoneyInput = z
  .union([
    z
      .number()
      .min(-9_999_999_999.9999)
      .max(9_999_999_999.9999)
      .refine((v) => Math.round(v * 1e4) / 1e4 === v, { message: 'must have at most 4 decimal places' }),
    z.string().regex(/^-?\d{1,10}(\.\d{1,4})?$/, { message: 'must be a decimal with at most 4 decimal places' }),
  ])
  .openapi({ description: 'Amount, may be negative (a credit); at most 4 decimals.', example: -12.5 });

const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();
const codeInput = z.string().trim().min(1, { message: 'must not be empty' }).max(64).nullable().optional();

const lineFields = {
  units: unitsInput,
  unitPrice: moneyInput.optional().openapi({ description: 'Defaults to the catalogue price.' }),
  unitCost: moneyInput.nullable().optional().openapi({ description: 'Defaults to the catalogue cost.' }),
};
export const serviceLineInput = z.strictObject({ serviceId: idInputSchema, ...lineFields });
export const bundleLineInput = z.strictObject({ bundleId: idInputSchema, ...lineFields });

/** Ids must not repeat within one list; the issue names the repeated entry. */
const uniqueBy =
  <T>(key: (t: T) => string, field: string) =>
  (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const k = key(item);
      const first = seen.get(k);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, field], message: `duplicates entry ${first}` });
      else seen.set(k, i);
    });
  };

/** An end before its start is a 400 naming the end field. */
const inOrder = (start: string | undefined, end: string | null | undefined, endField: string, startField: string, ctx: z.RefinementCtx) => {
  if (start && end && end < start) ctx.addIssue({ code: 'custom', path: [endField], message: `must not be before ${startField} ${start}` });
};
const datesInOrder = (v: { startDate?: string; endDate?: string | null }, ctx: z.RefinementCtx) =>
  inOrder(v.startDate, v.endDate, 'endDate', 'startDate', ctx);

const contractFields = {
  name: nameSchema,
  code: codeInput,
  description: optionalText(5000),
  slaId: idInputSchema.nullable().optional(),
  isDefaultServiceDesk: z.boolean().optional(),
  integratedBilling: z.boolean().optional(),
  purchaseOrder: optionalText(200),
  contactName: optionalText(200),
  autoRenew: z.boolean().optional(),
  autoRenewDaysBefore: z.number().int().min(0).max(365).nullable().optional(),
  psaRefs: psaRefsInput.optional(),
};

export const createContractBody = z
  .strictObject({
    companyId: idInputSchema,
    type: contractTypeSchema,
    periodType: periodTypeSchema,
    startDate: isoDate,
    endDate: isoDate,
    ...contractFields,
    services: z
      .array(serviceLineInput)
      .max(5000)
      .superRefine(uniqueBy((l) => String(l.serviceId), 'serviceId'))
      .optional(),
    serviceBundles: z
      .array(bundleLineInput)
      .max(5000)
      .superRefine(uniqueBy((l) => String(l.bundleId), 'bundleId'))
      .optional(),
  })
  .superRefine(datesInOrder);

/**
 * PATCH: every field optional. companyId and periodType are accepted by the schema only so that
 * the answer can say precisely that they cannot change (instead of "unrecognized key").
 */
export const patchContractBody = nonEmptyPatch(
  z.strictObject({
    ...contractFields,
    name: nameSchema.optional(),
    type: contractTypeSchema.optional(),
    status: z.enum(['active', 'inactive']).optional(),
    startDate: isoDate.optional(),
    endDate: isoDate.optional(),
    companyId: z.unknown().optional().openapi({ description: 'Cannot change: any other value than the current one is a 400.' }),
    periodType: z.unknown().optional().openapi({ description: 'Cannot change: any other value than the current one is a 400.' }),
  }),
).superRefine(datesInOrder);

export const contractListQuery = z.strictObject({
  ...pageQueryShape,
  offset: z.coerce.number().int().min(0).max(1_000_000).optional().openapi({ description: 'Rows to skip (keyset `cursor` is preferred).' }),
  companyId: z.string().regex(/^\d{1,18}$/, { message: 'must be an id (digits)' }).optional(),
  status: z.enum(['active', 'inactive']).optional(),
  type: contractTypeSchema.optional(),
});

export const asOfQuery = z.strictObject({ asOf: isoDate.optional().openapi({ description: 'Default: today.' }) });

export const addLineBody = (key: 'serviceId' | 'bundleId') => (key === 'serviceId' ? serviceLineInput : bundleLineInput);

export const patchLineBody = nonEmptyPatch(
  z.strictObject({
    units: unitsInput.optional(),
    unitPrice: moneyInput.optional(),
    unitCost: moneyInput.nullable().optional(),
  }),
);

export const adjustmentBody = z
  .strictObject({
    effectiveDate: isoDate,
    units: unitsInput.optional().openapi({ description: 'The new count from effectiveDate on (not a delta).' }),
    unitPrice: moneyInput.optional(),
  })
  .refine((v) => v.units !== undefined || v.unitPrice !== undefined, { message: 'must set units, unitPrice or both', path: ['units'] });

export const billingRuleBody = z
  .strictObject({
    name: nameSchema,
    description: optionalText(5000),
    serviceId: idInputSchema.nullable().optional(),
    amount: moneyInput.nullable().optional(),
    frequency: frequencySchema.optional(),
    active: z.boolean().optional(),
    startDate: isoDate,
    endDate: isoDate.nullable().optional(),
  })
  .superRefine(datesInOrder);

export const patchBillingRuleBody = nonEmptyPatch(
  z.strictObject({
    name: nameSchema.optional(),
    description: optionalText(5000),
    serviceId: idInputSchema.nullable().optional(),
    amount: moneyInput.nullable().optional(),
    frequency: frequencySchema.optional(),
    active: z.boolean().optional(),
    startDate: isoDate.optional(),
    endDate: isoDate.nullable().optional(),
  }),
);

export const noteBody = z.strictObject({
  body: z.string().trim().min(1, { message: 'must not be empty' }).max(20000),
  kind: z.string().trim().min(1).max(50).optional(),
});

export const serviceMappingBody = z.strictObject({
  moduleBillingType: z.string().trim().min(1, { message: 'must not be empty' }).max(200),
  serviceId: idInputSchema,
});

export const chargeBody = z.strictObject({
  chargeDate: isoDate,
  description: z.string().trim().min(1, { message: 'must not be empty' }).max(2000),
  amount: signedMoneyInput,
  billed: z.boolean().optional(),
});

export const chargeListQuery = z.strictObject({ from: isoDate.optional(), to: isoDate.optional() });

export const deviceLinksQuery = z.strictObject({ ...pageQueryShape, asOf: isoDate.optional().openapi({ description: 'Only links in force on this date.' }) });

const priceMap = z
  .record(z.string().regex(/^\d{1,18}$/, { message: 'keys must be catalogue ids' }), moneyInput)
  .openapi({ description: 'Catalogue id → value.', example: { '12': 25 } });

/**
 * The renewal wizard's body (SPEC §8). companyId and periodType are in the schema only to answer
 * "cannot change" naming them (R-REN-3).
 */
export const renewalBody = z.strictObject({
  name: nameSchema.optional().openapi({ description: 'Default: "Renewal of <old name>" (R-REN-3).' }),
  startDate: isoDate.optional().openapi({ description: "Default: the day after the original's end date (R-REN-4)." }),
  endDate: isoDate.optional().openapi({ description: "Default: the original's full term from the start date (R-REN-6)." }),
  priceUpliftPercent: z
    .union([z.number(), z.string(), z.null()])
    .optional()
    .openapi({ description: 'Percent, 0–1000.00, at most 2 decimals; empty = none (R-REN-7).', example: 3.5 }),
  unitPrices: priceMap.optional().openapi({ description: 'Service id → unit price, applied after the uplift (R-REN-7).' }),
  units: priceMap.optional().openapi({ description: 'Service id → units (default: units on the start date, R-REN-8).' }),
  bundleUnitPrices: priceMap.optional(),
  bundleUnits: priceMap.optional(),
  defaultContract: z
    .enum(['renewal', 'existing'])
    .optional()
    .openapi({ description: 'Which contract is the default service-desk contract from now on, when R-REN-12 asks.' }),
  companyId: z.unknown().optional().openapi({ description: 'Not allowed: the company of a renewal cannot change (R-REN-3).' }),
  periodType: z.unknown().optional().openapi({ description: 'Not allowed: the period type of a renewal cannot change (R-REN-3).' }),
});
export type RenewalBody = z.infer<typeof renewalBody>;

export const deviceContractBody = z
  .strictObject({
    contractId: idInputSchema,
    serviceId: idInputSchema.nullable().optional(),
    from: isoDate.optional().openapi({ description: 'First day of the link (default today).' }),
    to: isoDate.nullable().optional().openapi({ description: 'Last day of the link (default open-ended).' }),
  })
  .superRefine((v, ctx) => inOrder(v.from, v.to, 'to', 'from', ctx));

export const endLinkQuery = z.strictObject({ from: isoDate.optional().openapi({ description: 'First day without a contract (default today).' }) });
