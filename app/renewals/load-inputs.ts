import type { IsoDate } from '../../core/dates';
import type { LeftBehindReport } from '../../core/contracts/left-behind';
import type { ContractLine, DefaultContractRef, RenewalOriginal } from '../../core/contracts/renewal';
import type { Db } from '../../db/connection';
import { listBillingRules } from '../../db/queries/billing-rules';
import { listContractLines, listLineAdjustments, type LineKind } from '../../db/queries/contract-lines';
import { listDefaultContracts } from '../../db/queries/default-contracts';
import {
  findRenewalOf,
  listChargesAfter,
  listOpenProjectsOfContract,
  listOpenTicketsOfContract,
  listTimeEntriesAfter,
} from '../../db/queries/renewals';
import { listServiceMappings } from '../../db/queries/service-mappings';
import type { ContractRow } from '../../db/tables';

/**
 * Loading what core/contracts decides over: the original as the pure proposal takes it, the
 * company's other default contracts (R-REN-12) and the R-REN-14 report. Reads only; each call is
 * one statement in db/queries. Sequential on purpose: inside a transaction the queries share one
 * connection anyway.
 */

async function loadLines(db: Db, kind: LineKind, contractId: string): Promise<ContractLine[]> {
  const lines = await listContractLines(db, kind, contractId);
  const adjustments = await listLineAdjustments(db, kind, contractId);
  const byLine = new Map<string, ContractLine['adjustments'][number][]>();
  for (const a of adjustments) {
    const list = byLine.get(String(a.line_id)) ?? [];
    list.push({ effectiveDate: a.effective_date, units: a.units, unitPrice: a.unit_price, seq: Number(a.id) });
    byLine.set(String(a.line_id), list);
  }
  return lines.map((l) => ({
    itemId: String(l.item_id),
    units: l.units,
    unitPrice: l.unit_price,
    unitCost: l.unit_cost,
    adjustments: byLine.get(String(l.id)) ?? [],
  }));
}

/** The original as the pure proposal needs it: fields, lines with adjustments, rules, mappings. */
export async function loadRenewalOriginal(db: Db, row: ContractRow): Promise<RenewalOriginal> {
  const services = await loadLines(db, 'service', row.id);
  const bundles = await loadLines(db, 'bundle', row.id);
  const rules = await listBillingRules(db, row.id);
  const mappings = await listServiceMappings(db, row.id);
  const renewedById = await findRenewalOf(db, row.id);
  return {
    id: String(row.id),
    companyId: String(row.company_id),
    name: row.name,
    description: row.description,
    type: row.type,
    periodType: row.period_type,
    status: row.status,
    startDate: row.start_date,
    endDate: row.end_date,
    slaId: row.sla_id === null ? null : String(row.sla_id),
    isDefaultServiceDesk: row.is_default_service_desk,
    integratedBilling: row.integrated_billing,
    purchaseOrder: row.purchase_order,
    contactName: row.contact_name,
    autoRenew: row.auto_renew,
    autoRenewDaysBefore: row.auto_renew_days_before,
    renewedById,
    services,
    bundles,
    billingRules: rules.map((r) => ({
      id: String(r.id),
      name: r.name,
      description: r.description,
      serviceId: r.service_id === null ? null : String(r.service_id),
      amount: r.amount,
      frequency: r.frequency,
    })),
    serviceMappings: mappings.map((m) => ({ moduleBillingType: m.module_billing_type, serviceId: String(m.service_id) })),
  };
}

/** The company's other contracts flagged as default service-desk contract (R-REN-12). */
export async function loadCompanyDefaults(db: Db, row: ContractRow): Promise<DefaultContractRef[]> {
  return (await listDefaultContracts(db, row.company_id, row.id)).map((c) => ({
    id: String(c.id),
    name: c.name,
    startDate: c.start_date,
    endDate: c.end_date,
  }));
}

/**
 * R-REN-14: open tickets and projects of the original (they stay on it), its charges dated after
 * `originalEndDate`, and time entries on it whose work date is after `originalEndDate`.
 */
export async function loadLeftBehind(db: Db, originalId: string, originalEndDate: IsoDate): Promise<LeftBehindReport> {
  return {
    originalEndDate,
    openTickets: await listOpenTicketsOfContract(db, originalId),
    openProjects: await listOpenProjectsOfContract(db, originalId),
    chargesAfterEnd: await listChargesAfter(db, originalId, originalEndDate),
    timeEntriesAfterEnd: await listTimeEntriesAfter(db, originalId, originalEndDate),
  };
}
