import { HubError } from '../../core/errors';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page } from '../paging';
import { pgErrorToHubError } from '../pg-errors';
import type {
  BillingRuleRow,
  ContractChargeRow,
  ContractNoteRow,
  ContractRow,
  ContractType,
  IsoDate,
  Money,
  PeriodType,
  ServiceMappingRow,
} from '../tables';

/**
 * Contracts and everything that hangs off them: services and bundles with their dated
 * adjustments, billing rules, notes, service mappings and charges. One exported function per
 * query; the company scope is a parameter wherever a contract is looked up by id.
 */

// ---------------------------------------------------------------------------------------------
// Constraint errors
// ---------------------------------------------------------------------------------------------

/** API field of each constraint of these tables, so a 409/400 names what the client sent. */
const CONTRACT_FIELDS = {
  contracts_code_unique: 'code',
  contracts_dates_check: 'endDate',
  contracts_one_default_per_company: 'isDefaultServiceDesk',
  contract_services_unique: 'serviceId',
  contract_bundles_unique: 'bundleId',
  service_mappings_unique: 'moduleBillingType',
  company_id: 'companyId',
  sla_id: 'slaId',
  service_id: 'serviceId',
  bundle_id: 'bundleId',
  contract_id: 'contractId',
  device_id: 'deviceId',
} as const;

/**
 * Postgres constraint errors of contract tables as HubErrors: the renewal uniqueness (R-REN-2)
 * and the device-link exclusion (R-LINK-1) get their own codes; the one-default-per-company
 * exclusion is a 409 naming isDefaultServiceDesk; the rest is mapped by db/pg-errors.ts.
 */
export function contractPgError(e: unknown, fields: Record<string, string> = {}): HubError | undefined {
  const base = pgErrorToHubError(e, { ...CONTRACT_FIELDS, ...fields });
  if (!base) return undefined;
  const constraint = typeof e === 'object' && e !== null && 'constraint' in e ? String((e as { constraint: unknown }).constraint) : '';
  if (constraint === 'contracts_renewal_of_unique') {
    return new HubError('CONTRACT_ALREADY_RENEWED', 'the contract was already renewed (a contract can be renewed only once)', undefined, {
      cause: e,
    });
  }
  if (constraint === 'device_contract_links_no_overlap') {
    return new HubError('LINK_OVERLAP', 'from: the link would overlap another contract link of the device', [{ field: 'from', message: 'overlaps another link' }], {
      cause: e,
    });
  }
  if (constraint === 'contracts_one_default_per_company') {
    const message = 'another default service-desk contract of the company overlaps these dates';
    return new HubError('CONFLICT', `isDefaultServiceDesk: ${message}`, [{ field: 'isDefaultServiceDesk', message }], { cause: e });
  }
  return base;
}

/** Runs `fn`, mapping constraint errors with {@link contractPgError}. */
export async function withContractErrors<T>(fn: () => Promise<T>, fields: Record<string, string> = {}): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw contractPgError(e, fields) ?? e;
  }
}

// ---------------------------------------------------------------------------------------------
// Contracts
// ---------------------------------------------------------------------------------------------

/** A contract row with the id of the contract that renews it (R-REN-2), if any. */
export interface ContractWithRenewalRow extends ContractRow {
  renewed_by_id: string | null;
}

export interface NewContract {
  companyId: string;
  name: string;
  code?: string | null;
  description?: string | null;
  type: ContractType;
  periodType: PeriodType;
  startDate: IsoDate;
  endDate: IsoDate;
  slaId?: string | null;
  isDefaultServiceDesk?: boolean;
  integratedBilling?: boolean;
  purchaseOrder?: string | null;
  contactName?: string | null;
  autoRenew?: boolean;
  autoRenewDaysBefore?: number | null;
  renewalOfId?: string | null;
}

export async function insertContract(db: Db, c: NewContract): Promise<ContractRow> {
  const [row] = await db('contracts')
    .insert({
      company_id: c.companyId,
      name: c.name,
      code: c.code ?? null,
      description: c.description ?? null,
      type: c.type,
      period_type: c.periodType,
      start_date: c.startDate,
      end_date: c.endDate,
      sla_id: c.slaId ?? null,
      is_default_service_desk: c.isDefaultServiceDesk ?? false,
      integrated_billing: c.integratedBilling ?? false,
      purchase_order: c.purchaseOrder ?? null,
      contact_name: c.contactName ?? null,
      auto_renew: c.autoRenew ?? false,
      auto_renew_days_before: c.autoRenewDaysBefore ?? null,
      renewal_of_id: c.renewalOfId ?? null,
    })
    .returning('*');
  return row as ContractRow;
}

const withRenewedBy = (db: Db) =>
  db.raw('(SELECT r.id::text FROM contracts r WHERE r.renewal_of_id = c.id) AS renewed_by_id');

/** The contract, or undefined when it does not exist or is outside `scope`. */
export async function findContract(db: Db, id: string, scope: CompanyScope): Promise<ContractWithRenewalRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const q = db('contracts as c').select('c.*', withRenewedBy(db)).where('c.id', id);
  whereInScope(q, 'c.company_id', scope);
  return (await q.first()) as ContractWithRenewalRow | undefined;
}

/** Locks the contract row for the rest of the transaction (SELECT … FOR UPDATE). */
export async function lockContract(trx: Db, id: string): Promise<ContractRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await trx('contracts').where('id', id).forUpdate().first()) as ContractRow | undefined;
}

export interface ContractListFilter {
  scope: CompanyScope;
  companyId?: string;
  status?: 'active' | 'inactive';
  type?: ContractType;
  limit: number;
  /** Keyset pagination: the nextCursor of the previous page (the last id). */
  cursor?: string;
  /** Offset pagination, for clients that jump to a page; keyset is preferred. */
  offset?: number;
}

export async function listContracts(db: Db, f: ContractListFilter): Promise<Page<ContractWithRenewalRow>> {
  const q = db('contracts as c').select('c.*', withRenewedBy(db));
  whereInScope(q, 'c.company_id', f.scope);
  if (f.companyId) q.where('c.company_id', f.companyId);
  if (f.status) q.where('c.status', f.status);
  if (f.type) q.where('c.type', f.type);
  if (f.offset) q.offset(f.offset);
  return pageBy<ContractWithRenewalRow>(q, { limit: f.limit, cursor: f.cursor }, 'c.id');
}

/** Column → value changes of a contract (snake_case, as stored). */
export type ContractPatch = Partial<
  Pick<
    ContractRow,
    | 'name'
    | 'code'
    | 'description'
    | 'type'
    | 'status'
    | 'start_date'
    | 'end_date'
    | 'sla_id'
    | 'is_default_service_desk'
    | 'integrated_billing'
    | 'purchase_order'
    | 'contact_name'
    | 'auto_renew'
    | 'auto_renew_days_before'
  >
>;

export async function updateContract(db: Db, id: string, patch: ContractPatch): Promise<ContractRow> {
  const [row] = await db('contracts')
    .where('id', id)
    .update({ ...patch, updated_at: db.fn.now() })
    .returning('*');
  return row as ContractRow;
}

/** The company's contracts flagged as default service-desk contract, except `exceptId` (R-REN-12). */
export async function listDefaultContracts(db: Db, companyId: string, exceptId: string): Promise<ContractRow[]> {
  return (await db('contracts')
    .where({ company_id: companyId, is_default_service_desk: true })
    .whereNot('id', exceptId)
    .orderBy('start_date')) as ContractRow[];
}

// ---------------------------------------------------------------------------------------------
// Services and bundles on a contract, with dated adjustments
// ---------------------------------------------------------------------------------------------

export type LineKind = 'service' | 'bundle';

const LINE = {
  service: {
    table: 'contract_services',
    item: 'service_id',
    adjustments: 'contract_service_adjustments',
    adjustmentFk: 'contract_service_id',
    catalogue: 'services',
  },
  bundle: {
    table: 'contract_bundles',
    item: 'bundle_id',
    adjustments: 'contract_bundle_adjustments',
    adjustmentFk: 'contract_bundle_id',
    catalogue: 'service_bundles',
  },
} as const;

/** A contract service or bundle, with the catalogue item's id and name. */
export interface ContractLineRow {
  id: string;
  contract_id: string;
  item_id: string;
  item_name: string;
  units: Money;
  unit_price: Money;
  unit_cost: Money | null;
}

export interface LineAdjustmentRow {
  id: string;
  line_id: string;
  item_id: string;
  effective_date: IsoDate;
  units: Money | null;
  unit_price: Money | null;
  created_at: Date;
}

export async function listContractLines(db: Db, kind: LineKind, contractId: string): Promise<ContractLineRow[]> {
  const t = LINE[kind];
  return (await db(`${t.table} as l`)
    .join(`${t.catalogue} as i`, 'i.id', `l.${t.item}`)
    .select('l.id', 'l.contract_id', `l.${t.item} as item_id`, 'i.name as item_name', 'l.units', 'l.unit_price', 'l.unit_cost')
    .where('l.contract_id', contractId)
    .orderBy('l.id')) as ContractLineRow[];
}

export async function findContractLine(db: Db, kind: LineKind, contractId: string, itemId: string): Promise<ContractLineRow | undefined> {
  if (!/^\d+$/.test(itemId)) return undefined;
  const t = LINE[kind];
  return (await db(`${t.table} as l`)
    .join(`${t.catalogue} as i`, 'i.id', `l.${t.item}`)
    .select('l.id', 'l.contract_id', `l.${t.item} as item_id`, 'i.name as item_name', 'l.units', 'l.unit_price', 'l.unit_cost')
    .where('l.contract_id', contractId)
    .where(`l.${t.item}`, itemId)
    .first()) as ContractLineRow | undefined;
}

/** Every adjustment of every line of the contract (or of one line), oldest first. */
export async function listLineAdjustments(db: Db, kind: LineKind, contractId: string, lineId?: string): Promise<LineAdjustmentRow[]> {
  const t = LINE[kind];
  const q = db(`${t.adjustments} as a`)
    .join(`${t.table} as l`, 'l.id', `a.${t.adjustmentFk}`)
    .select('a.id', `a.${t.adjustmentFk} as line_id`, `l.${t.item} as item_id`, 'a.effective_date', 'a.units', 'a.unit_price', 'a.created_at')
    .where('l.contract_id', contractId)
    .orderBy([{ column: 'a.effective_date' }, { column: 'a.id' }]);
  if (lineId) q.where('l.id', lineId);
  return (await q) as LineAdjustmentRow[];
}

/** Catalogue prices of services or bundles by id, for lines created without a price. */
export async function findCatalogueItems(
  db: Db,
  kind: LineKind,
  ids: string[],
): Promise<Map<string, { name: string; unit_price: Money; unit_cost: Money | null }>> {
  const numeric = ids.filter((i) => /^\d+$/.test(i));
  if (numeric.length === 0) return new Map();
  const rows = (await db(LINE[kind].catalogue).select('id', 'name', 'unit_price', 'unit_cost').whereIn('id', numeric)) as Array<{
    id: string;
    name: string;
    unit_price: Money;
    unit_cost: Money | null;
  }>;
  return new Map(rows.map((r) => [String(r.id), r]));
}

export interface NewLine {
  itemId: string;
  units: Money;
  unitPrice: Money;
  unitCost: Money | null;
}

/** Adds lines to a contract in one statement (no query per line). */
export async function insertContractLines(db: Db, kind: LineKind, contractId: string, lines: readonly NewLine[]): Promise<void> {
  if (lines.length === 0) return;
  const t = LINE[kind];
  // One JSON parameter instead of one per value: a 10,000-line insert stays one statement.
  await db.raw(
    `INSERT INTO ?? (contract_id, ??, units, unit_price, unit_cost)
     SELECT ?, x.item_id, x.units, x.unit_price, x.unit_cost
     FROM ROWS FROM (jsonb_to_recordset(?::jsonb) AS (item_id bigint, units numeric, unit_price numeric, unit_cost numeric))
       WITH ORDINALITY AS x(item_id, units, unit_price, unit_cost, n)
     ORDER BY x.n`,
    [
      t.table,
      t.item,
      contractId,
      JSON.stringify(lines.map((l) => ({ item_id: l.itemId, units: l.units, unit_price: l.unitPrice, unit_cost: l.unitCost }))),
    ],
  );
}

export async function updateContractLine(
  db: Db,
  kind: LineKind,
  lineId: string,
  patch: { units?: Money; unit_price?: Money; unit_cost?: Money | null },
): Promise<void> {
  await db(LINE[kind].table).where('id', lineId).update(patch);
}

export async function deleteContractLine(db: Db, kind: LineKind, lineId: string): Promise<void> {
  await db(LINE[kind].table).where('id', lineId).delete();
}

export async function insertLineAdjustment(
  db: Db,
  kind: LineKind,
  lineId: string,
  a: { effectiveDate: IsoDate; units: Money | null; unitPrice: Money | null },
): Promise<LineAdjustmentRow> {
  const t = LINE[kind];
  const [row] = (await db(t.adjustments)
    .insert({ [t.adjustmentFk]: lineId, effective_date: a.effectiveDate, units: a.units, unit_price: a.unitPrice })
    .returning(['id', `${t.adjustmentFk} as line_id`, 'effective_date', 'units', 'unit_price', 'created_at'])) as Array<
    Omit<LineAdjustmentRow, 'item_id'>
  >;
  const line = (await db(t.table).select(`${t.item} as item_id`).where('id', lineId).first()) as { item_id: string };
  return { ...(row as Omit<LineAdjustmentRow, 'item_id'>), item_id: String(line.item_id) };
}

// ---------------------------------------------------------------------------------------------
// Billing rules
// ---------------------------------------------------------------------------------------------

export interface NewBillingRule {
  name: string;
  description: string | null;
  serviceId: string | null;
  amount: Money | null;
  frequency: BillingRuleRow['frequency'];
  active: boolean;
  startDate: IsoDate;
  endDate: IsoDate | null;
}

export async function listBillingRules(db: Db, contractId: string): Promise<BillingRuleRow[]> {
  return (await db('billing_rules').where('contract_id', contractId).orderBy('id')) as BillingRuleRow[];
}

export async function findBillingRule(db: Db, contractId: string, id: string): Promise<BillingRuleRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  return (await db('billing_rules').where({ contract_id: contractId, id }).first()) as BillingRuleRow | undefined;
}

export async function insertBillingRule(db: Db, contractId: string, r: NewBillingRule): Promise<BillingRuleRow> {
  const [row] = await db('billing_rules')
    .insert({
      contract_id: contractId,
      name: r.name,
      description: r.description,
      service_id: r.serviceId,
      amount: r.amount,
      frequency: r.frequency,
      active: r.active,
      start_date: r.startDate,
      end_date: r.endDate,
    })
    .returning('*');
  return row as BillingRuleRow;
}

export async function updateBillingRule(
  db: Db,
  id: string,
  patch: Partial<Pick<BillingRuleRow, 'name' | 'description' | 'service_id' | 'amount' | 'frequency' | 'active' | 'start_date' | 'end_date'>>,
): Promise<BillingRuleRow> {
  const [row] = await db('billing_rules').where('id', id).update(patch).returning('*');
  return row as BillingRuleRow;
}

export async function deleteBillingRule(db: Db, id: string): Promise<void> {
  await db('billing_rules').where('id', id).delete();
}

// ---------------------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------------------

export async function listContractNotes(db: Db, contractId: string): Promise<ContractNoteRow[]> {
  return (await db('contract_notes').where('contract_id', contractId).orderBy('id')) as ContractNoteRow[];
}

export async function insertContractNote(db: Db, contractId: string, n: { kind: string; body: string; author: string | null }): Promise<ContractNoteRow> {
  const [row] = await db('contract_notes').insert({ contract_id: contractId, kind: n.kind, body: n.body, author: n.author }).returning('*');
  return row as ContractNoteRow;
}

// ---------------------------------------------------------------------------------------------
// Service mappings (integrated billing, R-REN-13)
// ---------------------------------------------------------------------------------------------

export async function listServiceMappings(db: Db, contractId: string): Promise<ServiceMappingRow[]> {
  return (await db('service_mappings').where('contract_id', contractId).orderBy('id')) as ServiceMappingRow[];
}

export async function insertServiceMapping(db: Db, contractId: string, m: { moduleBillingType: string; serviceId: string }): Promise<ServiceMappingRow> {
  const [row] = await db('service_mappings')
    .insert({ contract_id: contractId, module_billing_type: m.moduleBillingType, service_id: m.serviceId })
    .returning('*');
  return row as ServiceMappingRow;
}

/** Deletes one mapping of the contract; returns the deleted row, or undefined when there was none. */
export async function deleteServiceMapping(db: Db, contractId: string, id: string): Promise<ServiceMappingRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const [row] = await db('service_mappings').where({ contract_id: contractId, id }).delete().returning('*');
  return row as ServiceMappingRow | undefined;
}

// ---------------------------------------------------------------------------------------------
// Charges
// ---------------------------------------------------------------------------------------------

export async function listContractCharges(db: Db, contractId: string, f: { from?: IsoDate; to?: IsoDate } = {}): Promise<ContractChargeRow[]> {
  const q = db('contract_charges').where('contract_id', contractId).orderBy([{ column: 'charge_date' }, { column: 'id' }]);
  if (f.from) q.where('charge_date', '>=', f.from);
  if (f.to) q.where('charge_date', '<=', f.to);
  return (await q) as ContractChargeRow[];
}

export async function insertContractCharge(
  db: Db,
  contractId: string,
  c: { chargeDate: IsoDate; description: string; amount: Money; billed: boolean },
): Promise<ContractChargeRow> {
  const [row] = await db('contract_charges')
    .insert({ contract_id: contractId, charge_date: c.chargeDate, description: c.description, amount: c.amount, billed: c.billed })
    .returning('*');
  return row as ContractChargeRow;
}

export async function deleteContractCharge(db: Db, contractId: string, id: string): Promise<ContractChargeRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const [row] = await db('contract_charges').where({ contract_id: contractId, id }).delete().returning('*');
  return row as ContractChargeRow | undefined;
}
