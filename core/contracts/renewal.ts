/**
 * The renewal wizard's proposal (SPEC §4, seed contract-renewal), as a pure function: from the
 * original contract as it stands, the admin's overrides and today's date, every value the renewal
 * will get and every effect it will have. app/renewals loads the inputs, shows this as the
 * preview (R-REN-15) and applies exactly this when the admin confirms.
 *
 * Over 300 lines and one piece on purpose: the proposal's rules (R-REN-3..13) read top to bottom
 * like the wizard's pages; splitting them would scatter one decision over several files. What the
 * confirmed renewal then writes is decided in renewal-effects.ts.
 *
 * One piece (about 420 lines): the proposal is one pure function with its helpers for names,
 * dates, prices and the R-REN-12 question; the effects of a confirmed renewal are already apart
 * (renewal-effects.ts).
 */
import { addDays, compareDates, isIsoDate, type IsoDate } from '../dates';
import { HubError, validationError } from '../errors';
import {
  formatMoney,
  formatScaled,
  formatUnits,
  parseDecimal,
  parseUpliftPercent,
  upliftPrice,
  type Decimal,
} from './money';
import { renewedBillingRuleTerms } from './renewal-effects';
import { defaultRenewalStart, renewalEndDate } from './term';

export type ContractType = 'recurring_service' | 'time_and_materials' | 'fixed_price' | 'block_hours' | 'retainer' | 'per_ticket';
export type PeriodType = 'monthly' | 'quarterly' | 'semi_annual' | 'yearly';
export type DefaultContractChoice = 'renewal' | 'existing';

/** A dated change of a contract service or bundle: from `effectiveDate` on, `units` and/or `unitPrice` apply. */
export interface LineAdjustment {
  effectiveDate: IsoDate;
  units: Decimal | null;
  unitPrice: Decimal | null;
  /** Order of entry (the row id): breaks ties between adjustments of the same date, the later one wins. */
  seq: number;
}

/** A service (or bundle) on the original, with all of its adjustments. */
export interface ContractLine {
  /** The catalogue service id (or bundle id). */
  itemId: string;
  units: Decimal;
  unitPrice: Decimal;
  unitCost: Decimal | null;
  adjustments: readonly LineAdjustment[];
}

export interface BillingRuleInput {
  id: string;
  name: string;
  description: string | null;
  serviceId: string | null;
  amount: Decimal | null;
  frequency: string;
}

export interface ServiceMappingInput {
  moduleBillingType: string;
  serviceId: string;
}

/** Another contract of the company flagged as default service-desk contract (R-REN-12). */
export interface DefaultContractRef {
  id: string;
  name: string;
  startDate: IsoDate;
  endDate: IsoDate;
}

export interface RenewalOriginal {
  id: string;
  companyId: string;
  name: string;
  description: string | null;
  type: ContractType;
  periodType: PeriodType;
  status: 'active' | 'inactive';
  startDate: IsoDate;
  endDate: IsoDate;
  slaId: string | null;
  isDefaultServiceDesk: boolean;
  integratedBilling: boolean;
  purchaseOrder: string | null;
  contactName: string | null;
  autoRenew: boolean;
  autoRenewDaysBefore: number | null;
  /** The contract that already renews this one, if any (R-REN-2). */
  renewedById: string | null;
  services: readonly ContractLine[];
  bundles: readonly ContractLine[];
  billingRules: readonly BillingRuleInput[];
  serviceMappings: readonly ServiceMappingInput[];
}

/** What the admin may change in the wizard. Prices and units are keyed by catalogue service (bundle) id. */
export interface RenewalOverrides {
  name?: string;
  startDate?: IsoDate;
  endDate?: IsoDate;
  /** Percent, 0–1000.00; empty = no uplift (R-REN-7). Number or numeric string. */
  priceUpliftPercent?: number | string | null;
  unitPrices?: Readonly<Record<string, number | string>>;
  units?: Readonly<Record<string, number | string>>;
  bundleUnitPrices?: Readonly<Record<string, number | string>>;
  bundleUnits?: Readonly<Record<string, number | string>>;
  /** Which contract is the default from now on when R-REN-12 has to ask. */
  defaultContract?: DefaultContractChoice;
}

export interface ProposedLine {
  itemId: string;
  /** Units as they stand on the renewal's start date (R-REN-8), or the admin's override. */
  units: Decimal;
  unitsOverridden: boolean;
  /** The latest adjusted price of the original, even when adjusted after the start date (R-REN-8). */
  originalUnitPrice: Decimal;
  /** After the uplift (R-REN-7), before a per-line override. */
  upliftedUnitPrice: Decimal;
  /** What the renewal gets. */
  unitPrice: Decimal;
  priceOverridden: boolean;
  unitCost: Decimal | null;
}

export interface ProposedBillingRule {
  sourceRuleId: string;
  name: string;
  description: string | null;
  serviceId: string | null;
  amount: Decimal | null;
  frequency: string;
  /** Copied rules are inactive on the renewal (R-REN-11). */
  active: false;
  startDate: IsoDate;
  endDate: null;
}

export interface RenewalProposal {
  originalId: string;
  /** The renewal contract's own fields (R-REN-3). */
  contract: {
    companyId: string;
    name: string;
    description: string | null;
    type: ContractType;
    periodType: PeriodType;
    startDate: IsoDate;
    endDate: IsoDate;
    slaId: string | null;
    isDefaultServiceDesk: boolean;
    integratedBilling: boolean;
    purchaseOrder: string | null;
    contactName: string | null;
    autoRenew: boolean;
    autoRenewDaysBefore: number | null;
  };
  /** Hundredths of a percent as given, formatted ('10.5'); null = no uplift. */
  priceUpliftPercent: string | null;
  services: ProposedLine[];
  bundles: ProposedLine[];
  billingRules: ProposedBillingRule[];
  /** Copied only with integrated billing (R-REN-13). */
  serviceMappings: ServiceMappingInput[];
  serviceMappingsCopied: boolean;
  /** What happens to the original (R-REN-5). */
  original: {
    id: string;
    /** Still active on the renewal's start date: ends the day before it and is deactivated on it. */
    endsEarly: boolean;
    currentEndDate: IsoDate;
    newEndDate: IsoDate;
    deactivatedOn: IsoDate | null;
  };
  /** Device links move on the renewal's start date; the original's links end the day before (R-REN-10). */
  deviceLinks: { moveOn: IsoDate; originalLinksEndOn: IsoDate };
  /** R-REN-12. */
  defaultServiceDesk: {
    originalIsDefault: boolean;
    /** Other default contracts of the company whose dates overlap the renewal's. */
    conflicts: DefaultContractRef[];
    /** True when the API must ask: the original is the default and another default overlaps. */
    choiceRequired: boolean;
    choice: DefaultContractChoice | null;
    renewalIsDefault: boolean;
    /** Contracts whose default flag is cleared because the admin chose the renewal. */
    clearDefaultOf: string[];
  };
  /** R-REN-15: date-dependent effects apply on `effectiveDate`, now or by the renewal worker. */
  schedule: { effectiveDate: IsoDate; scheduled: boolean };
}

const RENEWAL_NAME_PREFIX = 'Renewal of ';
const MAX_NAME_LENGTH = 255;

/** R-REN-3: the wizard's default name. */
export const defaultRenewalName = (originalName: string): string => `${RENEWAL_NAME_PREFIX}${originalName}`.slice(0, MAX_NAME_LENGTH);

const bySeq = (a: LineAdjustment, b: LineAdjustment): number => compareDates(a.effectiveDate, b.effectiveDate) || a.seq - b.seq;

/** R-REN-8: units as they stand on `date` (the latest unit adjustment effective on or before it). */
export function unitsAsOf(line: ContractLine, date: IsoDate): Decimal {
  let best: LineAdjustment | undefined;
  for (const a of line.adjustments) {
    if (a.units === null || compareDates(a.effectiveDate, date) > 0) continue;
    if (!best || bySeq(a, best) > 0) best = a;
  }
  return best?.units ?? line.units;
}

/**
 * R-REN-8: the latest adjusted price, whatever its date: the price adjustment with the latest
 * effective date (on the same date, the one entered last); without price adjustments the line's price.
 */
export function latestUnitPrice(line: ContractLine): Decimal {
  let best: LineAdjustment | undefined;
  for (const a of line.adjustments) {
    if (a.unitPrice === null) continue;
    if (!best || bySeq(a, best) > 0) best = a;
  }
  return best?.unitPrice ?? line.unitPrice;
}

/** The price (and units) of a line on `date`, for showing a contract "as of" a day. */
export function unitPriceAsOf(line: ContractLine, date: IsoDate): Decimal {
  let best: LineAdjustment | undefined;
  for (const a of line.adjustments) {
    if (a.unitPrice === null || compareDates(a.effectiveDate, date) > 0) continue;
    if (!best || bySeq(a, best) > 0) best = a;
  }
  return best?.unitPrice ?? line.unitPrice;
}

function assertKnownKeys(map: Readonly<Record<string, unknown>> | undefined, lines: readonly ContractLine[], field: string, what: string): void {
  if (!map) return;
  const known = new Set(lines.map((l) => l.itemId));
  for (const key of Object.keys(map)) {
    if (!known.has(key)) throw validationError(`${field}.${key}`, `${what} ${key} is not on the original contract`);
  }
}

function proposeLines(
  lines: readonly ContractLine[],
  startDate: IsoDate,
  uplift: bigint | null,
  priceOverrides: Readonly<Record<string, number | string>> | undefined,
  unitOverrides: Readonly<Record<string, number | string>> | undefined,
  fields: { prices: string; units: string },
): ProposedLine[] {
  return lines.map((line) => {
    const original = parseDecimal(latestUnitPrice(line), `${fields.prices}.${line.itemId}`);
    const uplifted = upliftPrice(original, uplift);
    const priceOverride = priceOverrides?.[line.itemId];
    const unitOverride = unitOverrides?.[line.itemId];
    const price = priceOverride === undefined ? uplifted : parseDecimal(priceOverride, `${fields.prices}.${line.itemId}`);
    const units =
      unitOverride === undefined
        ? parseDecimal(unitsAsOf(line, startDate), `${fields.units}.${line.itemId}`)
        : parseDecimal(unitOverride, `${fields.units}.${line.itemId}`);
    return {
      itemId: line.itemId,
      units: formatUnits(units),
      unitsOverridden: unitOverride !== undefined,
      originalUnitPrice: formatMoney(original),
      upliftedUnitPrice: formatMoney(uplifted),
      unitPrice: formatMoney(price),
      priceOverridden: priceOverride !== undefined,
      unitCost: line.unitCost === null ? null : formatMoney(line.unitCost),
    };
  });
}

const overlaps = (a: { startDate: IsoDate; endDate: IsoDate }, b: { startDate: IsoDate; endDate: IsoDate }): boolean =>
  compareDates(a.startDate, b.endDate) <= 0 && compareDates(b.startDate, a.endDate) <= 0;

/**
 * The renewal of `original` with the admin's `overrides`, as of `today`.
 *
 * Throws CONTRACT_NOT_RENEWABLE (R-REN-1), CONTRACT_ALREADY_RENEWED (R-REN-2) and
 * VALIDATION_FAILED naming the field for bad overrides. Does not throw when R-REN-12 needs the
 * admin's choice: the preview shows it; {@link assertDefaultChoiceMade} refuses to apply it.
 *
 * `companyDefaults` are the company's other contracts flagged as default service-desk contract
 * (the original excluded).
 */
export function proposeRenewal(
  original: RenewalOriginal,
  overrides: RenewalOverrides,
  today: IsoDate,
  companyDefaults: readonly DefaultContractRef[] = [],
): RenewalProposal {
  if (original.type !== 'recurring_service') {
    throw new HubError(
      'CONTRACT_NOT_RENEWABLE',
      `contract ${original.id} is a ${original.type} contract; only recurring service contracts can be renewed`,
      { contractId: original.id, type: original.type },
    );
  }
  if (original.renewedById !== null) {
    throw new HubError('CONTRACT_ALREADY_RENEWED', `contract ${original.id} was already renewed by contract ${original.renewedById}`, {
      contractId: original.id,
      renewedById: original.renewedById,
    });
  }
  if (!isIsoDate(today)) throw validationError('today', 'must be YYYY-MM-DD');

  const name = overrides.name === undefined ? defaultRenewalName(original.name) : overrides.name.trim();
  if (name === '') throw validationError('name', 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw validationError('name', `at most ${MAX_NAME_LENGTH} characters`);

  // R-REN-4: default start is the day after the original's end; any other date is allowed, as long
  // as the original keeps at least one day of its own.
  const startDate = overrides.startDate ?? defaultRenewalStart(original.endDate);
  if (!isIsoDate(startDate)) throw validationError('startDate', 'must be a calendar date written YYYY-MM-DD');
  if (compareDates(startDate, original.startDate) <= 0) {
    throw validationError('startDate', `must be after the original contract's start date ${original.startDate}`);
  }
  // R-REN-6: the full term of the original, measured in months from the new start.
  const endDate = overrides.endDate ?? renewalEndDate(original.startDate, original.endDate, startDate);
  if (!isIsoDate(endDate)) throw validationError('endDate', 'must be a calendar date written YYYY-MM-DD');
  if (compareDates(endDate, startDate) < 0) throw validationError('endDate', `must not be before the start date ${startDate}`);

  const uplift = parseUpliftPercent(overrides.priceUpliftPercent);
  assertKnownKeys(overrides.unitPrices, original.services, 'unitPrices', 'service');
  assertKnownKeys(overrides.units, original.services, 'units', 'service');
  assertKnownKeys(overrides.bundleUnitPrices, original.bundles, 'bundleUnitPrices', 'service bundle');
  assertKnownKeys(overrides.bundleUnits, original.bundles, 'bundleUnits', 'service bundle');

  const services = proposeLines(original.services, startDate, uplift, overrides.unitPrices, overrides.units, {
    prices: 'unitPrices',
    units: 'units',
  });
  const bundles = proposeLines(original.bundles, startDate, uplift, overrides.bundleUnitPrices, overrides.bundleUnits, {
    prices: 'bundleUnitPrices',
    units: 'bundleUnits',
  });

  // R-REN-5: still running on the renewal's start date → ends the day before and is deactivated
  // on that date; already expired → keeps its end date.
  const dayBefore = addDays(startDate, -1);
  const endsEarly = compareDates(startDate, original.endDate) <= 0;

  // R-REN-12.
  const renewalRange = { startDate, endDate };
  const conflicts = original.isDefaultServiceDesk
    ? companyDefaults.filter((c) => c.id !== original.id && overlaps(c, renewalRange))
    : [];
  const choice = overrides.defaultContract ?? null;
  const choiceRequired = conflicts.length > 0 && choice === null;
  const renewalIsDefault = original.isDefaultServiceDesk && (conflicts.length === 0 || choice === 'renewal');

  return {
    originalId: original.id,
    contract: {
      companyId: original.companyId,
      name,
      description: original.description,
      type: original.type,
      periodType: original.periodType,
      startDate,
      endDate,
      slaId: original.slaId,
      isDefaultServiceDesk: renewalIsDefault,
      integratedBilling: original.integratedBilling,
      purchaseOrder: original.purchaseOrder,
      contactName: original.contactName,
      autoRenew: original.autoRenew,
      autoRenewDaysBefore: original.autoRenewDaysBefore,
    },
    priceUpliftPercent: uplift === null ? null : formatScaled(uplift * 100n, 0),
    services,
    bundles,
    billingRules: original.billingRules.map((r) => ({
      sourceRuleId: r.id,
      name: r.name,
      description: r.description,
      serviceId: r.serviceId,
      amount: r.amount === null ? null : formatMoney(r.amount),
      frequency: r.frequency,
      ...renewedBillingRuleTerms(startDate),
    })),
    serviceMappings: original.integratedBilling ? original.serviceMappings.map((m) => ({ ...m })) : [],
    serviceMappingsCopied: original.integratedBilling,
    original: {
      id: original.id,
      endsEarly,
      currentEndDate: original.endDate,
      newEndDate: endsEarly ? dayBefore : original.endDate,
      deactivatedOn: endsEarly ? startDate : null,
    },
    deviceLinks: { moveOn: startDate, originalLinksEndOn: dayBefore },
    defaultServiceDesk: {
      originalIsDefault: original.isDefaultServiceDesk,
      conflicts: conflicts.map((c) => ({ ...c })),
      choiceRequired,
      choice,
      renewalIsDefault,
      clearDefaultOf: renewalIsDefault ? conflicts.map((c) => c.id) : [],
    },
    schedule: { effectiveDate: startDate, scheduled: compareDates(startDate, today) > 0 },
  };
}

/**
 * R-REN-12: the API asks instead of guessing. Throws DEFAULT_CONTRACT_CHOICE_REQUIRED (409) whose
 * details list the candidates when the original is the default and another default contract
 * overlaps the renewal's dates and no `defaultContract` was given.
 */
export function assertDefaultChoiceMade(p: RenewalProposal): void {
  const d = p.defaultServiceDesk;
  if (!d.choiceRequired) return;
  throw new HubError(
    'DEFAULT_CONTRACT_CHOICE_REQUIRED',
    `contract ${p.originalId} is the default service-desk contract, but ${d.conflicts.map((c) => `contract ${c.id} (${c.name})`).join(', ')} is already the default on the renewal's dates; send defaultContract: "renewal" or "existing"`,
    {
      field: 'defaultContract',
      options: ['renewal', 'existing'],
      candidates: [
        { choice: 'renewal', contract: { id: null, name: p.contract.name, startDate: p.contract.startDate, endDate: p.contract.endDate } },
        ...d.conflicts.map((c) => ({ choice: 'existing', contract: c })),
      ],
    },
  );
}
