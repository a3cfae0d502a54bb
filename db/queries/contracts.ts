import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import { pageBy, type Page } from '../paging';
import type { ContractRow, ContractType, IsoDate, PeriodType } from '../tables';

/**
 * The contracts table itself: insert, find (company-scoped), lock, list, update. The rows that hang
 * off a contract have their own files: contract-lines.ts, billing-rules.ts, contract-notes.ts,
 * service-mappings.ts, contract-charges.ts, default-contracts.ts. One exported function per statement.
 */

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

/**
 * Holds the contracts (a renewal chain) against renewal for the rest of the transaction (FOR SHARE:
 * linkers do not wait for each other; a renewal, which locks its original FOR UPDATE, waits).
 */
export async function shareLockContracts(trx: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx('contracts').whereIn('id', [...ids]).orderBy('id').forShare().select('id');
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

/** R-REN-5: the renewed original's end moves to `endDate` and it is marked renewed. */
export async function setRenewedOriginalEnd(db: Db, id: string, endDate: IsoDate): Promise<void> {
  await db('contracts').where('id', id).update({ end_date: endDate, renewed_at: db.fn.now(), updated_at: db.fn.now() });
}

/** R-REN-5: an active contract becomes inactive (an inactive one stays as it is). */
export async function deactivateContract(db: Db, id: string): Promise<void> {
  await db('contracts').where({ id, status: 'active' }).update({ status: 'inactive', updated_at: db.fn.now() });
}
