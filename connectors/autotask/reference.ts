import { PsaError, type PsaPage, type PsaRecord } from '../types';
import { queryAll, queryPage, type AtContext } from './query';

/**
 * Reference data read from Autotask for `hub psa import` (R-PSA-4), as the import's normalized
 * records (app/psa/import-reference-data.ts): companies (`Companies`), SLAs (the
 * `serviceLevelAgreementID` picklist of `Tickets` — Autotask has no SLA entity to query), services
 * (`Services`), contracts (`Contracts`, each with its `ContractServices` lines and its
 * `serviceLevelAgreementID`) and configuration items (`ConfigurationItems`, each with its own
 * `contractID`: the link of R-LINK-1). Read-only, paged by `nextPageUrl`, active records only.
 * Entities: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/ (CompaniesEntity,
 * ContractsEntity, ContractServicesEntity, ServicesEntity, ConfigurationItemsEntity).
 */
interface AtCompany {
  id: number;
  companyName?: string;
  companyNumber?: string | null;
}
interface AtContract {
  id: number;
  companyID?: number;
  contractName?: string;
  startDate?: string | null;
  endDate?: string | null;
  serviceLevelAgreementID?: number | null;
  contractPeriodType?: number | string | null;
  contractType?: number | null;
}
interface AtContractService {
  id: number;
  contractID: number;
  serviceID?: number;
  unitPrice?: number | null;
  adjustedPrice?: number | null;
}
interface AtService {
  id: number;
  name?: string;
  unitPrice?: number | null;
  unitCost?: number | null;
}
interface AtConfigurationItem {
  id: number;
  companyID?: number;
  contractID?: number | null;
  referenceTitle?: string | null;
  serialNumber?: string | null;
  rmmDeviceAuditHostname?: string | null;
}
interface AtPicklistValue {
  value: string | number;
  label: string;
  isActive?: boolean;
}
interface AtField {
  name: string;
  isPickList?: boolean;
  picklistValues?: AtPicklistValue[] | null;
}

const active = { op: 'eq', field: 'isActive', value: true };

/**
 * Autotask's contract period types (picklist letters or their names) → the import's period names;
 * anything else is left to the importer's default (monthly).
 */
const PERIODS: Record<string, string> = { m: 'monthly', q: 'quarterly', s: 'semiannual', y: 'yearly', monthly: 'monthly', quarterly: 'quarterly', 'semi-annual': 'semiannual', yearly: 'yearly' };

export async function listCompanies(ctx: AtContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await queryPage<AtCompany>(ctx, 'Companies', { filter: [active], IncludeFields: ['id', 'companyName', 'companyNumber'] }, cursor);
  return { next: page.next, items: page.items.map((c) => ({ externalId: String(c.id), name: c.companyName ?? '', fields: { number: c.companyNumber ?? null } })) };
}

/** The SLA picklist of Tickets (one page: a picklist is not paged). */
export async function listSlas(ctx: AtContext): Promise<PsaPage<PsaRecord>> {
  const res = await ctx.call('GET', '/Tickets/entityInformation/fields');
  const fields = (res.body as { fields?: AtField[] } | undefined)?.fields;
  if (!Array.isArray(fields)) throw new PsaError('transient', 'Tickets/entityInformation/fields: the answer has no fields');
  const sla = fields.find((f) => f.name.toLowerCase() === 'servicelevelagreementid');
  const values = (sla?.picklistValues ?? []).filter((v) => v.isActive !== false);
  return { next: null, items: values.map((v) => ({ externalId: String(v.value), name: v.label, fields: {} })) };
}

export async function listServices(ctx: AtContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await queryPage<AtService>(ctx, 'Services', { filter: [active], IncludeFields: ['id', 'name', 'unitPrice', 'unitCost'] }, cursor);
  return { next: page.next, items: page.items.map((s) => ({ externalId: String(s.id), name: s.name ?? '', fields: { unitPrice: s.unitPrice ?? null, unitCost: s.unitCost ?? null } })) };
}

/**
 * Contracts in effect (`status` 1), each with its service lines: one `ContractServices` query per
 * page of contracts (`contractID in [...]`), not one per contract. Units: 1 per line (Autotask keeps
 * a line's units per period in ContractServiceUnits, which the import does not read).
 */
export async function listContracts(ctx: AtContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await queryPage<AtContract>(ctx, 'Contracts', { filter: [{ op: 'eq', field: 'status', value: 1 }] }, cursor);
  const ids = page.items.map((c) => c.id);
  const lines = ids.length === 0 ? [] : await queryAll<AtContractService>(ctx, 'ContractServices', { filter: [{ op: 'in', field: 'contractID', value: ids }] });
  const byContract = new Map<number, AtContractService[]>();
  for (const l of lines) byContract.set(l.contractID, [...(byContract.get(l.contractID) ?? []), l]);
  return {
    next: page.next,
    items: page.items.map((c) => ({
      externalId: String(c.id),
      name: c.contractName ?? '',
      fields: {
        companyId: c.companyID ?? null,
        startDate: c.startDate ?? null,
        endDate: c.endDate ?? null,
        slaId: c.serviceLevelAgreementID ?? null,
        periodType: PERIODS[String(c.contractPeriodType ?? '').toLowerCase()] ?? null,
        services: (byContract.get(c.id) ?? [])
          .filter((l) => l.serviceID !== undefined)
          .map((l) => ({ serviceId: l.serviceID, units: 1, unitPrice: l.adjustedPrice ?? l.unitPrice ?? null })),
        configurationItemIds: [],
      },
    })),
  };
}

/** Active configuration items; the name is the reference title (else the RMM's host name, else the serial number). */
export async function listConfigurationItems(ctx: AtContext, cursor: string | null): Promise<PsaPage<PsaRecord>> {
  const page = await queryPage<AtConfigurationItem>(
    ctx,
    'ConfigurationItems',
    { filter: [active], IncludeFields: ['id', 'companyID', 'contractID', 'referenceTitle', 'serialNumber', 'rmmDeviceAuditHostname'] },
    cursor,
  );
  return {
    next: page.next,
    items: page.items.map((ci) => ({
      externalId: String(ci.id),
      name: ci.referenceTitle || ci.rmmDeviceAuditHostname || ci.serialNumber || '',
      fields: { companyId: ci.companyID ?? null, contractId: ci.contractID ?? null, serialNumber: ci.serialNumber ?? null },
    })),
  };
}
