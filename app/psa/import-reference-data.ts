import type { Knex } from 'knex';
import { ALL_COMPANIES } from '../../core/access/company-scope';
import { HubError, isHubError } from '../../core/errors';
import type { IsoDate } from '../../core/dates';
import { countAction, emptySummary, planRecord, psaDate, psaId, psaMoney, type ImportAction, type ImportKind, type ImportMatch, type ImportSummary } from '../../core/psa/import-plan';
import type { ConnectorDeps, PsaPage, PsaRecord, PsaSession } from '../../connectors/types';
import { writeAudit } from '../../db/queries/audit';
import { insertCompany, updateCompany } from '../../db/queries/companies';
import { insertContractLines, listContractLines } from '../../db/queries/contract-lines';
import { insertContract, updateContract } from '../../db/queries/contracts';
import { insertDevice, updateDevice } from '../../db/queries/devices';
import { idsByPsaRef, psaRefsOf, setPsaRefs, type PsaRefTable } from '../../db/queries/psa-refs';
import { insertService, updateService } from '../../db/queries/services';
import type { PeriodType } from '../../db/tables';
import { setDeviceContract } from '../devices/device-links';
import { connectionConfig } from './connection-secrets';
import { connectorDepsOf, findConnection, type PsaCallBudgetOf } from './connections';
import { resumeSkippedForRefs } from './resume-skipped';

/**
 * `hub psa import <connection>` and `POST /api/v1/psa-connections/:name/import` (R-PSA-4, issue 16
 * item 5): companies, SLAs, services, contracts (with their service lines and SLA) and
 * configuration items read from the PSA, page by page; each record matched to a hub record by its
 * `psaRefs[<connection>]`, else by its natural key (a record the admin made by hand gets the ref),
 * and created, updated (only what differs), left unchanged or refused with a reason
 * (core/psa/import-plan). Each configuration item is linked to its contract (R-LINK-1). Every
 * write is one transaction; a dry run makes the same plan and rolls it back. Running it twice
 * changes nothing the second time. A run that wrote is audited (`import`, with its counts) in that
 * transaction, by whoever ran it: the API's token or `cli:<os user>` — the two twins leave the same row.
 *
 * The PSA records are the connector's normalized ones (`PsaRecord.fields`, documented in
 * `PsaRecord` in connectors/types.ts): contract `companyId`, `startDate`, `endDate`, `slaId`, `periodType`,
 * `services: [{ serviceId, units, unitPrice }]`, `configurationItemIds`; service `unitPrice`;
 * configuration item `companyId`, `contractId`.
 *
 * One file over 300 lines on purpose: the five kinds are imported in dependency order in one run
 * (companies before contracts before configuration items) with one report.
 */
export interface ImportProgress {
  kind: ImportKind;
  /** Records of that kind read from the PSA so far. */
  read: number;
  phase: 'read' | 'write';
}

export interface ImportOptions {
  dryRun?: boolean;
  actor: string;
  requestId?: string | null;
  today: IsoDate;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportDeps {
  db: Knex;
  secretKeys: readonly string[];
  connectorDeps: Omit<ConnectorDeps, 'connectionName'>;
  /** The connection's call budget (its pages count against the PSA's limit like the deliveries' calls); absent = none. */
  psaCallBudget?: PsaCallBudgetOf | undefined;
}

export interface ImportReport extends ImportSummary {
  connection: string;
  dryRun: boolean;
  /** Links of configuration items to contracts that could not be made (R-LINK-1), with the reason. */
  linkErrors: Array<{ externalId: string; reason: string }>;
  /**
   * Deliveries skipped because a company had no PSA id for this connection, sent now that the import
   * linked the company (app/psa/resume-skipped.ts; the delivery sweep enqueues them within
   * HUB_PSA_SWEEP_MS). In a dry run: how many would be.
   */
  deliveriesResumed: number;
}

const LISTS: Array<[ImportKind, keyof PsaSession]> = [
  ['company', 'listCompanies'],
  ['sla', 'listSlas'],
  ['service', 'listServices'],
  ['contract', 'listContracts'],
  ['device', 'listConfigurationItems'],
];

class DryRunRollback extends Error {}

export async function importReferenceData(deps: ImportDeps, name: string, opts: ImportOptions): Promise<ImportReport> {
  const row = await findConnection(deps.db, name);
  const { connector, config } = connectionConfig(row, deps.secretKeys);
  const session = connector.open(config, connectorDepsOf(row, deps.connectorDeps, deps.psaCallBudget));
  try {
    const missing = LISTS.filter(([, op]) => typeof session[op] !== 'function').map(([kind]) => kind);
    if (missing.length === LISTS.length) throw new HubError('UNPROCESSABLE', `connection ${name}: a ${row.type} connection has no reference data to import`);
    // Read everything first: the PSA's pages are not held open across a long transaction.
    const records = new Map<ImportKind, PsaRecord[]>();
    for (const [kind, op] of LISTS) {
      const list = session[op] as ((cursor: string | null) => Promise<PsaPage<PsaRecord>>) | undefined;
      const all: PsaRecord[] = [];
      if (list) {
        let cursor: string | null = null;
        do {
          const page: PsaPage<PsaRecord> = await list.call(session, cursor);
          all.push(...page.items);
          cursor = page.next;
          opts.onProgress?.({ kind, read: all.length, phase: 'read' });
        } while (cursor !== null);
      }
      records.set(kind, all);
    }
    const report: ImportReport = { ...emptySummary(), connection: name, dryRun: opts.dryRun === true, linkErrors: [], deliveriesResumed: 0 };
    try {
      await deps.db.transaction(async (trx) => {
        const w = new Writer(trx, name, opts, report);
        for (const [kind] of LISTS) {
          for (const r of records.get(kind) ?? []) await w.apply(kind, r);
          opts.onProgress?.({ kind, read: records.get(kind)?.length ?? 0, phase: 'write' });
        }
        if (opts.dryRun) throw new DryRunRollback();
        await writeAudit(trx, {
          actor: opts.actor,
          requestId: opts.requestId ?? null,
          action: 'import',
          entityType: 'psa_connection',
          entityId: name,
          after: { counts: report.counts, refused: report.refused.length, linkErrors: report.linkErrors.length, deliveriesResumed: report.deliveriesResumed },
        });
      });
    } catch (e) {
      if (!(e instanceof DryRunRollback)) throw e;
    }
    return report;
  } finally {
    await session.close?.();
  }
}

const PERIODS: Record<string, PeriodType> = {
  monthly: 'monthly',
  quarterly: 'quarterly',
  semiannual: 'semi_annual',
  semi_annual: 'semi_annual',
  semiannually: 'semi_annual',
  yearly: 'yearly',
  annually: 'yearly',
  annual: 'yearly',
};
const periodOf = (v: unknown): PeriodType => PERIODS[String(v ?? '').toLowerCase().replace(/[\s-]/g, '')] ?? 'monthly';

interface ContractWanted {
  name: string;
  companyId: string;
  startDate: string;
  endDate: string;
  slaId: string | null;
}

/** The writes of one import run, inside its transaction; remembers PSA id → hub id per kind. */
class Writer {
  private readonly hubIds: Record<ImportKind, Map<string, string>> = { company: new Map(), sla: new Map(), service: new Map(), contract: new Map(), device: new Map() };
  /** Configuration item → contract, from the contracts' `configurationItemIds` (ConnectWise). */
  private readonly contractOfDevice = new Map<string, string>();

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly connection: string,
    private readonly opts: ImportOptions,
    private readonly report: ImportReport,
  ) {}

  async apply(kind: ImportKind, r: PsaRecord): Promise<void> {
    const name = typeof r.name === 'string' ? r.name.trim().slice(0, 200) : '';
    let action: ImportAction<unknown>;
    if (name === '') action = { kind: 'refused', reason: 'the PSA record has no name' };
    else if (kind === 'company') action = await this.company(r, name);
    else if (kind === 'sla') action = await this.sla(r, name);
    else if (kind === 'service') action = await this.service(r, name);
    else if (kind === 'contract') action = await this.contract(r, name);
    else action = await this.device(r, name);
    countAction(this.report, kind, action, { externalId: r.externalId, name });
  }

  /** The hub id of a PSA id of a kind: from this run, else by ref in the database. */
  private async hubId(kind: ImportKind, table: PsaRefTable, psaRef: unknown): Promise<string | null> {
    const ref = psaId(psaRef);
    if (ref === null) return null;
    const known = this.hubIds[kind].get(ref);
    if (known) return known;
    const [id] = await idsByPsaRef(this.trx, table, this.connection, ref);
    return id ?? null;
  }

  private async byRef(table: PsaRefTable, ref: string): Promise<string | null> {
    const [id] = await idsByPsaRef(this.trx, table, this.connection, ref);
    return id ?? null;
  }

  /** A natural-key match only among records without a ref for this connection (a ref is never stolen). */
  private async byKey(table: PsaRefTable, where: (q: Knex.QueryBuilder) => void): Promise<string | null> {
    const q = this.trx(table).select('id').whereRaw('NOT (psa_refs \\? ?)', [this.connection]).orderBy('id').first();
    where(q);
    const row = (await q) as { id: string } | undefined;
    return row ? String(row.id) : null;
  }

  private async linkRef(table: PsaRefTable, id: string, ref: string): Promise<void> {
    const refs = (await psaRefsOf(this.trx, table, [id])).get(id) ?? {};
    if (refs[this.connection] === ref) return;
    const after = { ...refs, [this.connection]: ref };
    await setPsaRefs(this.trx, table, id, after);
    if (table === 'companies')
      this.report.deliveriesResumed += (await resumeSkippedForRefs(this.trx, id, refs, after, { actor: this.opts.actor, requestId: this.opts.requestId ?? null })).length;
  }

  private async match<P>(table: PsaRefTable, ref: string, key: (q: Knex.QueryBuilder) => void, values: (id: string) => Promise<P>): Promise<ImportMatch<P> | null> {
    const byRef = await this.byRef(table, ref);
    const id = byRef ?? (await this.byKey(table, key));
    return id === null ? null : { id, values: await values(id), byRef: byRef !== null };
  }

  private async company(r: PsaRecord, name: string): Promise<ImportAction<unknown>> {
    const m = await this.match('companies', r.externalId, (q) => q.whereRaw('lower(name) = lower(?)', [name]), async (id) => {
      const row = (await this.trx('companies').where({ id }).first('name')) as { name: string };
      return { name: row.name };
    });
    const action = planRecord({ name }, m);
    if (action.kind === 'create') {
      const c = await insertCompany(this.trx, { name });
      await this.linkRef('companies', c.id, r.externalId);
      this.hubIds.company.set(r.externalId, c.id);
    } else if (action.kind === 'update') {
      if (action.patch.name !== undefined) await updateCompany(this.trx, action.id, { name: action.patch.name });
      await this.linkRef('companies', action.id, r.externalId);
      this.hubIds.company.set(r.externalId, action.id);
    } else if (action.kind === 'unchanged') this.hubIds.company.set(r.externalId, action.id);
    return action;
  }

  /** SLAs are matched (ref, else name) and linked; one the hub lacks is refused: its calendar and targets are the hub's to define. */
  private async sla(r: PsaRecord, name: string): Promise<ImportAction<unknown>> {
    const m = await this.match('slas', r.externalId, (q) => q.whereRaw('lower(name) = lower(?)', [name]), async () => ({ name }));
    if (m === null) return { kind: 'refused', reason: `no SLA named "${name}" in the hub: create it (calendar and targets), then import again` };
    const action = planRecord({ name }, m);
    if (action.kind === 'update') await this.linkRef('slas', action.id, r.externalId);
    if (action.kind !== 'refused' && action.kind !== 'create') this.hubIds.sla.set(r.externalId, action.id);
    return action;
  }

  private async service(r: PsaRecord, name: string): Promise<ImportAction<unknown>> {
    const unitPrice = psaMoney(r.fields.unitPrice);
    const m = await this.match('services', r.externalId, (q) => q.whereRaw('lower(name) = lower(?)', [name]), async (id) => {
      const row = (await this.trx('services').where({ id }).first('name', 'unit_price')) as { name: string; unit_price: string };
      return { name: row.name, unitPrice: unitPrice === null ? undefined : row.unit_price };
    });
    if (m === null && unitPrice === null) return { kind: 'refused', reason: 'the PSA gives no unit price' };
    const wanted = { name, unitPrice: unitPrice === null ? undefined : unitPrice };
    // Prices compare as numbers (120 = 120.0000).
    if (m && wanted.unitPrice !== undefined && m.values.unitPrice !== undefined && Number(m.values.unitPrice) === Number(wanted.unitPrice)) wanted.unitPrice = m.values.unitPrice;
    const action = planRecord(wanted, m);
    if (action.kind === 'create') {
      const s = await insertService(this.trx, { name, unitPrice: unitPrice!, unitCost: psaMoney(r.fields.unitCost) });
      await this.linkRef('services', s.id, r.externalId);
      this.hubIds.service.set(r.externalId, s.id);
    } else if (action.kind === 'update') {
      const patch: { name?: string; unitPrice?: string } = {};
      if (action.patch.name !== undefined) patch.name = action.patch.name;
      if (action.patch.unitPrice !== undefined) patch.unitPrice = action.patch.unitPrice;
      if (Object.keys(patch).length > 0) await updateService(this.trx, action.id, patch);
      await this.linkRef('services', action.id, r.externalId);
      this.hubIds.service.set(r.externalId, action.id);
    } else if (action.kind === 'unchanged') this.hubIds.service.set(r.externalId, action.id);
    return action;
  }

  private async contract(r: PsaRecord, name: string): Promise<ImportAction<unknown>> {
    const f = r.fields;
    const companyId = await this.hubId('company', 'companies', f.companyId);
    if (companyId === null) return { kind: 'refused', reason: `its company ${String(f.companyId)} is not in the hub (not imported)` };
    const startDate = psaDate(f.startDate);
    const endDate = psaDate(f.endDate);
    if (startDate === null) return { kind: 'refused', reason: 'the PSA gives no start date' };
    if (endDate === null) return { kind: 'refused', reason: 'the PSA gives no end date (the hub needs one: set it in the PSA)' };
    if (endDate < startDate) return { kind: 'refused', reason: `end date ${endDate} is before start date ${startDate}` };
    const slaId = f.slaId === null || f.slaId === undefined ? null : await this.hubId('sla', 'slas', f.slaId);
    const wanted: ContractWanted = { name, companyId, startDate, endDate, slaId };
    const m = await this.match<ContractWanted>('contracts', r.externalId, (q) => q.where('company_id', companyId).whereRaw('lower(name) = lower(?)', [name]), async (id) => {
      const row = (await this.trx('contracts').where({ id }).first()) as { name: string; company_id: string; start_date: string; end_date: string; sla_id: string | null };
      return { name: row.name, companyId: String(row.company_id), startDate: row.start_date, endDate: row.end_date, slaId: row.sla_id === null ? null : String(row.sla_id) };
    });
    let action = planRecord(wanted, m);
    if (m && action.kind === 'update' && action.patch.companyId !== undefined) return { kind: 'refused', reason: `it belongs to company ${companyId} in the PSA but to ${m.values.companyId} in the hub` };
    let contractId: string;
    if (action.kind === 'create') {
      const c = await insertContract(this.trx, { companyId, name, type: 'recurring_service', periodType: periodOf(f.periodType), startDate, endDate, slaId });
      contractId = c.id;
    } else if (action.kind === 'update') {
      const p = action.patch;
      const patch: Record<string, unknown> = {};
      if (p.name !== undefined) patch.name = p.name;
      if (p.startDate !== undefined) patch.start_date = p.startDate;
      if (p.endDate !== undefined) patch.end_date = p.endDate;
      if (p.slaId !== undefined) patch.sla_id = p.slaId;
      if (Object.keys(patch).length > 0) await updateContract(this.trx, action.id, patch);
      contractId = action.id;
    } else if (action.kind === 'unchanged') contractId = action.id;
    else return action;
    await this.linkRef('contracts', contractId, r.externalId);
    this.hubIds.contract.set(r.externalId, contractId);
    // Service lines the hub lacks are added (R-LINK-3 needs the contract's services); existing lines are the hub's.
    const lines = Array.isArray(f.services) ? (f.services as Array<Record<string, unknown>>) : [];
    const existing = new Set((await listContractLines(this.trx, 'service', contractId)).map((l) => String(l.item_id)));
    const add: Array<{ itemId: string; units: string; unitPrice: string; unitCost: null }> = [];
    for (const line of lines) {
      const serviceId = await this.hubId('service', 'services', line.serviceId);
      const units = psaMoney(line.units) ?? '1';
      const unitPrice = psaMoney(line.unitPrice);
      if (serviceId === null || unitPrice === null || existing.has(serviceId) || add.some((a) => a.itemId === serviceId)) continue;
      add.push({ itemId: serviceId, units, unitPrice, unitCost: null });
    }
    if (add.length > 0) {
      await insertContractLines(this.trx, 'service', contractId, add);
      if (action.kind === 'unchanged') action = { kind: 'update', id: contractId, patch: {}, linkRef: false };
    }
    for (const ci of Array.isArray(f.configurationItemIds) ? f.configurationItemIds : []) {
      const ref = psaId(ci);
      if (ref !== null) this.contractOfDevice.set(ref, contractId);
    }
    return action;
  }

  private async device(r: PsaRecord, name: string): Promise<ImportAction<unknown>> {
    const f = r.fields;
    const companyId = await this.hubId('company', 'companies', f.companyId);
    if (companyId === null) return { kind: 'refused', reason: `its company ${String(f.companyId)} is not in the hub (not imported)` };
    const hostname = name.slice(0, 255);
    const m = await this.match('devices', r.externalId, (q) => q.where('company_id', companyId).whereRaw('lower(hostname) = lower(?)', [hostname]), async (id) => {
      const row = (await this.trx('devices').where({ id }).first('hostname', 'company_id')) as { hostname: string; company_id: string | null };
      return { hostname: row.hostname, companyId: row.company_id === null ? null : String(row.company_id) };
    });
    let action = planRecord<{ hostname: string; companyId: string | null }>({ hostname, companyId }, m);
    let deviceId: string;
    if (action.kind === 'create') deviceId = (await insertDevice(this.trx, { companyId, hostname })).id;
    else if (action.kind === 'update') {
      const patch: { hostname?: string; companyId?: string } = {};
      if (action.patch.hostname !== undefined) patch.hostname = action.patch.hostname;
      if (action.patch.companyId) patch.companyId = action.patch.companyId;
      if (Object.keys(patch).length > 0) await updateDevice(this.trx, action.id, patch);
      deviceId = action.id;
    } else if (action.kind === 'unchanged') deviceId = action.id;
    else return action;
    await this.linkRef('devices', deviceId, r.externalId);
    this.hubIds.device.set(r.externalId, deviceId);
    // R-LINK-1: the configuration item's contract, from the item (Autotask contractID) or the contract's list (ConnectWise).
    const contractId = (await this.hubId('contract', 'contracts', f.contractId)) ?? this.contractOfDevice.get(r.externalId) ?? null;
    if (contractId !== null) {
      const contract = (await this.trx('contracts').where({ id: contractId }).first('start_date')) as { start_date: string };
      const from = contract.start_date > this.opts.today ? contract.start_date : this.opts.today;
      try {
        const res = await setDeviceContract(this.trx, { deviceId, contractId, serviceId: null, from }, { scope: ALL_COMPANIES, actor: this.opts.actor, requestId: this.opts.requestId ?? null, today: this.opts.today });
        if (res.changed && action.kind === 'unchanged') action = { kind: 'update', id: deviceId, patch: {}, linkRef: false };
      } catch (e) {
        if (!isHubError(e)) throw e;
        this.report.linkErrors.push({ externalId: r.externalId, reason: e.message });
      }
    }
    return action;
  }
}
