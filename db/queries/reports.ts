import type { IsoDate } from '../../core/dates';
import type { LineAdjustment } from '../../core/contracts/renewal';
import type { ProfitabilityInput, ReportContract, ReportTimeEntry } from '../../core/reports/profitability';
import type { LabourEntry } from '../../core/reports/revenue';
import type { Db } from '../connection';
import type { CompanyScope } from '../company-scope';

/**
 * R-LINK-6: what the profitability report (core/reports) computes from. Every contract that runs
 * in the period, or carries labour in it, of the visible companies, regardless of its status: a
 * renewed original earned until the day its end date was moved to, and its dates say so.
 * Time entries are summed per contract, service and cost rate in SQL (exact numeric), which the
 * report's arithmetic treats exactly like the single entries.
 */
export interface ProfitabilityQuery {
  from: IsoDate;
  to: IsoDate;
  companyId?: string | undefined;
  /** Companies the caller may see (an empty list: none). */
  scope: CompanyScope;
}

interface ContractRowLite {
  id: string;
  name: string;
  company_id: string;
  company_name: string;
  start_date: IsoDate;
  end_date: IsoDate;
}

interface LineRowLite {
  line_id: string;
  contract_id: string;
  item_id: string;
  name: string;
  units: string;
  unit_price: string;
}

interface AdjustmentRowLite {
  line_id: string;
  id: string;
  effective_date: IsoDate;
  units: string | null;
  unit_price: string | null;
}

function companyFilter(f: ProfitabilityQuery, column: string): { sql: string; bindings: Record<string, unknown> } {
  const parts: string[] = [];
  const bindings: Record<string, unknown> = {};
  if (f.companyId) {
    parts.push(`${column} = :companyId`);
    bindings.companyId = f.companyId;
  }
  if (!f.scope.all) {
    parts.push(`${column} = ANY(:scope::bigint[])`);
    bindings.scope = [...f.scope.companyIds];
  }
  return { sql: parts.length ? ` AND ${parts.join(' AND ')}` : '', bindings };
}

async function loadLines(db: Db, kind: 'service' | 'bundle', contractIds: string[]): Promise<Map<string, Array<LineRowLite & { adjustments: LineAdjustment[] }>>> {
  const t =
    kind === 'service'
      ? { line: 'contract_services', item: 'service_id', catalogue: 'services', adj: 'contract_service_adjustments', fk: 'contract_service_id' }
      : { line: 'contract_bundles', item: 'bundle_id', catalogue: 'service_bundles', adj: 'contract_bundle_adjustments', fk: 'contract_bundle_id' };
  const lines = (
    await db.raw<{ rows: LineRowLite[] }>(
      `SELECT l.id::text AS line_id, l.contract_id::text, l.${t.item}::text AS item_id, c.name, l.units::text, l.unit_price::text
         FROM ${t.line} l JOIN ${t.catalogue} c ON c.id = l.${t.item}
        WHERE l.contract_id = ANY(?::bigint[])`,
      [contractIds],
    )
  ).rows;
  const adjustments = (
    await db.raw<{ rows: AdjustmentRowLite[] }>(
      `SELECT ${t.fk}::text AS line_id, id::text, effective_date, units::text, unit_price::text
         FROM ${t.adj} WHERE ${t.fk} = ANY(?::bigint[]) ORDER BY effective_date, id`,
      [lines.map((l) => l.line_id)],
    )
  ).rows;
  const adjByLine = new Map<string, LineAdjustment[]>();
  for (const a of adjustments) {
    const list = adjByLine.get(a.line_id) ?? [];
    list.push({ effectiveDate: a.effective_date, units: a.units, unitPrice: a.unit_price, seq: Number(a.id) });
    adjByLine.set(a.line_id, list);
  }
  const out = new Map<string, Array<LineRowLite & { adjustments: LineAdjustment[] }>>();
  for (const l of lines) {
    const list = out.get(l.contract_id) ?? [];
    list.push({ ...l, adjustments: adjByLine.get(l.line_id) ?? [] });
    out.set(l.contract_id, list);
  }
  return out;
}

export async function loadProfitabilityInput(db: Db, f: ProfitabilityQuery): Promise<ProfitabilityInput> {
  const company = companyFilter(f, 'c.company_id');
  const contracts = (
    await db.raw<{ rows: ContractRowLite[] }>(
      `SELECT c.id::text, c.name, c.company_id::text, co.name AS company_name, c.start_date, c.end_date
         FROM contracts c JOIN companies co ON co.id = c.company_id
        WHERE (daterange(c.start_date, c.end_date, '[]') && daterange(:from::date, :to::date, '[]')
               OR EXISTS (SELECT 1 FROM time_entries te WHERE te.contract_id = c.id AND te.work_date BETWEEN :from::date AND :to::date))
              ${company.sql}
        ORDER BY c.id`,
      { from: f.from, to: f.to, ...company.bindings },
    )
  ).rows;
  const ids = contracts.map((c) => c.id);
  const [services, bundles] = await Promise.all([loadLines(db, 'service', ids), loadLines(db, 'bundle', ids)]);

  const entries = (
    await db.raw<{ rows: Array<{ contract_id: string; service_id: string | null; service_name: string | null; cost_rate: string | null; hours: string }> }>(
      `SELECT te.contract_id::text, te.service_id::text, s.name AS service_name, te.cost_rate::text, sum(te.hours)::text AS hours
         FROM time_entries te LEFT JOIN services s ON s.id = te.service_id
        WHERE te.contract_id = ANY(:ids::bigint[]) AND te.work_date BETWEEN :from::date AND :to::date
        GROUP BY te.contract_id, te.service_id, s.name, te.cost_rate`,
      { ids, from: f.from, to: f.to },
    )
  ).rows;

  // Labour on no contract belongs to the company of its ticket (or project); unscoped callers
  // without a company filter also see entries that have neither.
  const uncCompany = companyFilter(f, 'coalesce(t.company_id, p.company_id)');
  const uncontracted = (
    await db.raw<{ rows: Array<{ cost_rate: string | null; hours: string }> }>(
      `SELECT te.cost_rate::text, sum(te.hours)::text AS hours
         FROM time_entries te
         LEFT JOIN tickets t ON t.id = te.ticket_id
         LEFT JOIN projects p ON p.id = te.project_id
        WHERE te.contract_id IS NULL AND te.work_date BETWEEN :from::date AND :to::date ${uncCompany.sql}
        GROUP BY te.cost_rate`,
      { from: f.from, to: f.to, ...uncCompany.bindings },
    )
  ).rows;

  const reportContracts: ReportContract[] = contracts.map((c) => ({
    id: c.id,
    name: c.name,
    companyId: c.company_id,
    companyName: c.company_name,
    startDate: c.start_date,
    endDate: c.end_date,
    services: (services.get(c.id) ?? []).map((l) => ({ serviceId: l.item_id, name: l.name, units: l.units, unitPrice: l.unit_price, adjustments: l.adjustments })),
    bundles: (bundles.get(c.id) ?? []).map((l) => ({ bundleId: l.item_id, name: l.name, units: l.units, unitPrice: l.unit_price, adjustments: l.adjustments })),
  }));
  const timeEntries: ReportTimeEntry[] = entries.map((e) => ({
    contractId: e.contract_id,
    serviceId: e.service_id,
    serviceName: e.service_name,
    hours: e.hours,
    costRate: e.cost_rate,
  }));
  const uncontractedEntries: LabourEntry[] = uncontracted.map((e) => ({ hours: e.hours, costRate: e.cost_rate }));
  return { period: { from: f.from, to: f.to }, contracts: reportContracts, timeEntries, uncontractedEntries };
}
