/**
 * R-LINK-6: the profitability report, assembled from plain values (contracts with their priced
 * lines, time entries already grouped by the contract and service they were booked on).
 * Revenue and labour conventions: see revenue.ts.
 */
import { compareDates, type IsoDate } from '../dates';
import { validationError } from '../errors';
import { formatMoney, formatUnits, type Decimal } from '../contracts/money';
import { labourTotal, lineRevenue, type DateRange, type LabourEntry, type PricedLine } from './revenue';

export interface ReportServiceLine extends PricedLine {
  serviceId: string;
  name: string;
}

export interface ReportBundleLine extends PricedLine {
  bundleId: string;
  name: string;
}

export interface ReportContract {
  id: string;
  name: string;
  companyId: string;
  companyName: string;
  startDate: IsoDate;
  endDate: IsoDate;
  services: readonly ReportServiceLine[];
  bundles: readonly ReportBundleLine[];
}

/** A time entry booked on a contract (and maybe a service), with the service's name for display. */
export interface ReportTimeEntry extends LabourEntry {
  contractId: string;
  serviceId: string | null;
  serviceName: string | null;
}

export interface ProfitabilityInput {
  period: DateRange;
  contracts: readonly ReportContract[];
  /** Entries whose work date is in the period, booked on one of `contracts`. */
  timeEntries: readonly ReportTimeEntry[];
  /** Entries in the period booked on no contract (tickets that were never assigned one). */
  uncontractedEntries: readonly LabourEntry[];
}

/** Figures of one line, contract or the whole report. Money: 2-decimal strings; hours: as few decimals as needed. */
export interface Figures {
  revenue: Decimal;
  cost: Decimal;
  margin: Decimal;
  hours: Decimal;
  unratedHours: Decimal;
}

export interface ServiceFigures extends Figures {
  /** null: labour booked on the contract without a service. */
  serviceId: string | null;
  name: string;
}

export interface BundleFigures {
  bundleId: string;
  name: string;
  revenue: Decimal;
}

export interface ContractFigures extends Figures {
  contractId: string;
  name: string;
  companyId: string;
  companyName: string;
  services: ServiceFigures[];
  bundles: BundleFigures[];
}

export interface ProfitabilityReport {
  from: IsoDate;
  to: IsoDate;
  contracts: ContractFigures[];
  /** Labour in the period on tickets without a contract: a cost no contract carries. */
  uncontracted: { hours: Decimal; unratedHours: Decimal; cost: Decimal };
  /** Sums of the contracts (uncontracted labour is not in them). */
  totals: Figures;
}

interface Acc {
  revenue: bigint;
  cost: bigint;
  hours: bigint;
  unratedHours: bigint;
}
const zero = (): Acc => ({ revenue: 0n, cost: 0n, hours: 0n, unratedHours: 0n });
const add = (a: Acc, b: Acc): void => {
  a.revenue += b.revenue;
  a.cost += b.cost;
  a.hours += b.hours;
  a.unratedHours += b.unratedHours;
};
const figures = (a: Acc): Figures => ({
  revenue: formatMoney(a.revenue),
  cost: formatMoney(a.cost),
  margin: formatMoney(a.revenue - a.cost),
  hours: formatUnits(a.hours),
  unratedHours: formatUnits(a.unratedHours),
});

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name, 'en');

/**
 * Builds the report: per contract, one row per service that earns revenue or carries labour in
 * the period (a service with labour but not on the contract, e.g. one reached through a bundle,
 * shows with revenue 0; labour without a service shows as serviceId null), one row per bundle
 * (revenue only: labour is booked on services), and totals. Every line is rounded to cents
 * before it is added up (revenue.ts), so contracts and totals are sums of what is shown.
 */
export function buildProfitability(input: ProfitabilityInput): ProfitabilityReport {
  const { period } = input;
  if (compareDates(period.from, period.to) > 0) throw validationError('to', `must not be before from (${period.from})`);

  const entriesByContract = new Map<string, ReportTimeEntry[]>();
  for (const e of input.timeEntries) {
    const list = entriesByContract.get(e.contractId) ?? [];
    list.push(e);
    entriesByContract.set(e.contractId, list);
  }

  const totals = zero();
  const contracts: ContractFigures[] = [];
  for (const c of input.contracts) {
    const term = { from: c.startDate, to: c.endDate };
    const contractAcc = zero();
    const services = new Map<string, { serviceId: string | null; name: string; acc: Acc }>();
    const keyOf = (id: string | null) => id ?? '';
    for (const s of c.services) {
      const acc = zero();
      acc.revenue = lineRevenue(s, period, term);
      services.set(keyOf(s.serviceId), { serviceId: s.serviceId, name: s.name, acc });
    }
    const byService = new Map<string, ReportTimeEntry[]>();
    for (const e of entriesByContract.get(c.id) ?? []) {
      const list = byService.get(keyOf(e.serviceId)) ?? [];
      list.push(e);
      byService.set(keyOf(e.serviceId), list);
    }
    for (const [key, entries] of byService) {
      const labour = labourTotal(entries);
      const first = entries[0];
      const row = services.get(key) ?? {
        serviceId: first?.serviceId ?? null,
        name: first?.serviceName ?? '(no service)',
        acc: zero(),
      };
      row.acc.cost += labour.cost;
      row.acc.hours += labour.hours;
      row.acc.unratedHours += labour.unratedHours;
      services.set(key, row);
    }
    const serviceRows: ServiceFigures[] = [];
    for (const row of services.values()) {
      add(contractAcc, row.acc);
      serviceRows.push({ serviceId: row.serviceId, name: row.name, ...figures(row.acc) });
    }
    const bundleRows: BundleFigures[] = c.bundles.map((b) => {
      const revenue = lineRevenue(b, period, term);
      contractAcc.revenue += revenue;
      return { bundleId: b.bundleId, name: b.name, revenue: formatMoney(revenue) };
    });
    add(totals, contractAcc);
    contracts.push({
      contractId: c.id,
      name: c.name,
      companyId: c.companyId,
      companyName: c.companyName,
      ...figures(contractAcc),
      // Labour without a service last, the rest by name.
      services: serviceRows.sort((a, b) => (a.serviceId === null ? 1 : b.serviceId === null ? -1 : byName(a, b))),
      bundles: bundleRows.sort(byName),
    });
  }
  contracts.sort((a, b) => a.companyName.localeCompare(b.companyName, 'en') || byName(a, b) || Number(a.contractId) - Number(b.contractId));

  const unc = labourTotal(input.uncontractedEntries);
  return {
    from: period.from,
    to: period.to,
    contracts,
    uncontracted: { hours: formatUnits(unc.hours), unratedHours: formatUnits(unc.unratedHours), cost: formatMoney(unc.cost) },
    totals: figures(totals),
  };
}

export const PROFITABILITY_CSV_COLUMNS = [
  'contractId',
  'contractName',
  'companyId',
  'companyName',
  'lineType',
  'itemId',
  'itemName',
  'revenue',
  'hours',
  'unratedHours',
  'cost',
  'margin',
] as const;

/**
 * RFC 4180 quoting, and text that a spreadsheet would run as a formula (=, +, -, @, tab, CR at
 * the start) is prefixed with a quote: names come from users.
 */
export function csvField(value: string, isText = true): string {
  const safe = isText && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The report as CSV: a header, then one row per contract × service and contract × bundle (CRLF line ends). */
export function profitabilityCsv(report: ProfitabilityReport): string {
  const lines = [PROFITABILITY_CSV_COLUMNS.join(',')];
  const row = (text: string[], numbers: string[]) => lines.push([...text.map((t) => csvField(t)), ...numbers.map((n) => csvField(n, false))].join(','));
  for (const c of report.contracts) {
    for (const s of c.services) {
      row([c.contractId, c.name, c.companyId, c.companyName, 'service', s.serviceId ?? '', s.name], [s.revenue, s.hours, s.unratedHours, s.cost, s.margin]);
    }
    for (const b of c.bundles) {
      row([c.contractId, c.name, c.companyId, c.companyName, 'bundle', b.bundleId, b.name], [b.revenue, '0', '0', '0.00', b.revenue]);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
