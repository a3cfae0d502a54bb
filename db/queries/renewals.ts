import type { Knex } from 'knex';
import { addDays, type IsoDate } from '../../core/dates';
import { HubError, notFound } from '../../core/errors';
import {
  assertDefaultChoiceMade,
  proposeRenewal,
  type ContractLine,
  type DefaultContractRef,
  type RenewalOriginal,
  type RenewalOverrides,
  type RenewalProposal,
} from '../../core/contracts/renewal';
import type { Db } from '../connection';
import { OPEN_TICKET_STATUSES, type ContractRow, type RenewalApplicationRow } from '../tables';
import { writeAudit } from './audit';
import { withContractErrors } from './contract-errors';
import { findContract, insertContract, lockContract, type ContractWithRenewalRow } from './contracts';
import { listDefaultContracts } from './default-contracts';
import { insertContractLines, listContractLines, listLineAdjustments, type LineKind } from './contract-lines';
import { listBillingRules } from './billing-rules';
import { insertContractNote } from './contract-notes';
import { listServiceMappings } from './service-mappings';

/**
 * Renewing a service contract (SPEC §4): loading the original for the pure proposal
 * (core/contracts/renewal.ts), the R-REN-14 report of what stays behind, applying a renewal in
 * one transaction, and the scheduled application of its date-dependent effects (R-REN-15).
 *
 * Everything that scales with the contract's size (services, bundles, billing rules, mappings,
 * device links) is written set-based: a fixed number of statements whatever the contract holds.
 */

/** renewal_applications with the column added by 20261123050500_renewal_application_effects. */
export interface RenewalApplication extends RenewalApplicationRow {
  deactivate_original: boolean;
}

export interface RenewalContext {
  /** Company scope of the caller (null = every company); another company's contract is NOT_FOUND. */
  companyIds: string[] | null;
  actor: string;
  requestId?: string | null;
  /** Today's date in the hub's zone: decides whether date-dependent effects apply now (R-REN-15). */
  today: IsoDate;
}

// ---------------------------------------------------------------------------------------------
// Loading the original
// ---------------------------------------------------------------------------------------------

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

/** Finds the id of the contract that renews `contractId`, if any (R-REN-2). */
export async function findRenewalOf(db: Db, contractId: string): Promise<string | null> {
  const row = (await db('contracts').select('id').where('renewal_of_id', contractId).first()) as { id: string } | undefined;
  return row ? String(row.id) : null;
}

/** The original as the pure proposal needs it: fields, lines with adjustments, rules, mappings. */
export async function loadRenewalOriginal(db: Db, row: ContractRow): Promise<RenewalOriginal> {
  // Sequential on purpose: inside a transaction the queries share one connection anyway.
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

async function companyDefaults(db: Db, row: ContractRow): Promise<DefaultContractRef[]> {
  return (await listDefaultContracts(db, row.company_id, row.id)).map((c) => ({
    id: String(c.id),
    name: c.name,
    startDate: c.start_date,
    endDate: c.end_date,
  }));
}

// ---------------------------------------------------------------------------------------------
// R-REN-14: what is not transferred
// ---------------------------------------------------------------------------------------------

/** Items listed per category in the report; counts are always complete. */
export const LEFT_BEHIND_ITEMS = 100;

export interface LeftBehindList<T> {
  count: number;
  items: T[];
}

export interface LeftBehindReport {
  /** The original's end date the report is measured against (its new end when it ends early). */
  originalEndDate: IsoDate;
  openTickets: LeftBehindList<{ id: string; title: string; status: string }>;
  openProjects: LeftBehindList<{ id: string; name: string }>;
  chargesAfterEnd: LeftBehindList<{ id: string; chargeDate: IsoDate; description: string; amount: string }>;
  timeEntriesAfterEnd: LeftBehindList<{ id: string; workDate: IsoDate; hours: string; ticketId: string | null; projectId: string | null }>;
}

async function counted<T>(db: Db, sql: string, bindings: Record<string, unknown>): Promise<{ count: number; rows: T[] }> {
  const r = await db.raw<{ rows: Array<T & { total: string }> }>(`${sql} LIMIT ${LEFT_BEHIND_ITEMS}`, bindings as Knex.ValueDict);
  return { count: Number(r.rows[0]?.total ?? 0), rows: r.rows };
}

/**
 * R-REN-14: open tickets and projects of the original (they stay on it), its charges dated after
 * `originalEndDate`, and time entries on it whose work date is after `originalEndDate` (which
 * happens when the renewal is back-dated).
 */
export async function listLeftBehind(db: Db, originalId: string, originalEndDate: IsoDate): Promise<LeftBehindReport> {
  const b = { c: originalId, end: originalEndDate, open: [...OPEN_TICKET_STATUSES] };
  const tickets = await counted<{ id: string; title: string; status: string }>(
    db,
    `SELECT id::text, title, status, count(*) OVER () AS total FROM tickets WHERE contract_id = :c AND status = ANY(:open) ORDER BY id`,
    b,
  );
  const projects = await counted<{ id: string; name: string }>(
    db,
    `SELECT id::text, name, count(*) OVER () AS total FROM projects WHERE contract_id = :c AND status = 'open' ORDER BY id`,
    b,
  );
  const charges = await counted<{ id: string; charge_date: IsoDate; description: string; amount: string }>(
    db,
    `SELECT id::text, charge_date, description, amount::text, count(*) OVER () AS total FROM contract_charges
     WHERE contract_id = :c AND charge_date > :end::date ORDER BY charge_date, id`,
    b,
  );
  const entries = await counted<{ id: string; work_date: IsoDate; hours: string; ticket_id: string | null; project_id: string | null }>(
    db,
    `SELECT id::text, work_date, hours::text, ticket_id::text, project_id::text, count(*) OVER () AS total FROM time_entries
     WHERE contract_id = :c AND work_date > :end::date ORDER BY work_date, id`,
    b,
  );
  return {
    originalEndDate,
    openTickets: { count: tickets.count, items: tickets.rows.map((t) => ({ id: t.id, title: t.title, status: t.status })) },
    openProjects: { count: projects.count, items: projects.rows.map((p) => ({ id: p.id, name: p.name })) },
    chargesAfterEnd: {
      count: charges.count,
      items: charges.rows.map((c) => ({ id: c.id, chargeDate: c.charge_date, description: c.description, amount: c.amount })),
    },
    timeEntriesAfterEnd: {
      count: entries.count,
      items: entries.rows.map((e) => ({ id: e.id, workDate: e.work_date, hours: e.hours, ticketId: e.ticket_id, projectId: e.project_id })),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Preview and renewal
// ---------------------------------------------------------------------------------------------

export interface RenewalPreview {
  original: ContractWithRenewalRow;
  proposal: RenewalProposal;
  leftBehind: LeftBehindReport;
}

/** R-REN-15: the wizard's proposal with every default filled in, and what R-REN-14 leaves behind. Writes nothing. */
export async function previewRenewal(db: Db, contractId: string, overrides: RenewalOverrides, ctx: RenewalContext): Promise<RenewalPreview> {
  const original = await findContract(db, contractId, ctx.companyIds);
  if (!original) throw notFound('contract', contractId);
  const proposal = proposeRenewal(await loadRenewalOriginal(db, original), overrides, ctx.today, await companyDefaults(db, original));
  return { original, proposal, leftBehind: await listLeftBehind(db, original.id, proposal.original.newEndDate) };
}

export interface RenewalOutcome extends RenewalPreview {
  renewal: ContractWithRenewalRow;
  application: RenewalApplication;
  deviceLinks: { moved: number; rescheduled: number };
}

/**
 * Renews the contract (R-REN-1..14) in one transaction, with the original locked FOR UPDATE:
 * a second, concurrent renewal waits for the first and then finds it renewed
 * (CONTRACT_ALREADY_RENEWED); UNIQUE (renewal_of_id) decides if anything slips through.
 * Effects that depend on the start date (R-REN-5 deactivation) are applied now when the renewal
 * starts today or earlier, else left to the renewal worker (R-REN-15). Dated facts — the
 * original's new end date and the device links — are written at once: they are dated anyway.
 */
export async function renewContract(knex: Knex, contractId: string, overrides: RenewalOverrides, ctx: RenewalContext): Promise<RenewalOutcome> {
  return withContractErrors(() =>
    knex.transaction(async (trx) => {
      const locked = await lockContract(trx, contractId);
      if (!locked || (ctx.companyIds && !ctx.companyIds.includes(String(locked.company_id)))) throw notFound('contract', contractId);
      const proposal = proposeRenewal(await loadRenewalOriginal(trx, locked), overrides, ctx.today, await companyDefaults(trx, locked));
      assertDefaultChoiceMade(proposal);
      const p = proposal.contract;
      const originalId = String(locked.id);

      // R-REN-5: the end date moves first, so the renewal (maybe the default too) never overlaps it.
      await trx('contracts')
        .where('id', originalId)
        .update({ end_date: proposal.original.newEndDate, renewed_at: trx.fn.now(), updated_at: trx.fn.now() });

      // R-REN-12: the admin chose the renewal as the default; the others give the flag up.
      if (proposal.defaultServiceDesk.clearDefaultOf.length > 0) {
        await trx('contracts')
          .whereIn('id', proposal.defaultServiceDesk.clearDefaultOf)
          .where('company_id', locked.company_id)
          .update({ is_default_service_desk: false, updated_at: trx.fn.now() });
        await writeAudit(trx, {
          actor: ctx.actor,
          action: 'contract.default.cleared',
          entityType: 'contract',
          entityId: proposal.defaultServiceDesk.clearDefaultOf.join(','),
          companyId: locked.company_id,
          after: { reason: `renewal of contract ${originalId} chosen as default service-desk contract` },
          requestId: ctx.requestId ?? null,
        });
      }

      // R-REN-3: every field copied but name, dates; the code is unique, so it is not copied.
      const renewal = await insertContract(trx, {
        companyId: p.companyId,
        name: p.name,
        description: p.description,
        type: p.type,
        periodType: p.periodType,
        startDate: p.startDate,
        endDate: p.endDate,
        slaId: p.slaId,
        isDefaultServiceDesk: p.isDefaultServiceDesk,
        integratedBilling: p.integratedBilling,
        purchaseOrder: p.purchaseOrder,
        contactName: p.contactName,
        autoRenew: p.autoRenew,
        autoRenewDaysBefore: p.autoRenewDaysBefore,
        renewalOfId: originalId,
      });
      const renewalId = String(renewal.id);

      // R-REN-7/8: units as of the start, prices as proposed.
      const toLines = (lines: RenewalProposal['services']) =>
        lines.map((l) => ({ itemId: l.itemId, units: l.units, unitPrice: l.unitPrice, unitCost: l.unitCost }));
      await insertContractLines(trx, 'service', renewalId, toLines(proposal.services));
      await insertContractLines(trx, 'bundle', renewalId, toLines(proposal.bundles));

      // R-REN-11: billing rules copied inactive, from the start date, without end.
      await trx.raw(
        `INSERT INTO billing_rules (contract_id, name, description, service_id, amount, frequency, active, start_date, end_date)
         SELECT :renewal, name, description, service_id, amount, frequency, false, :start::date, NULL
         FROM billing_rules WHERE contract_id = :original ORDER BY id`,
        { renewal: renewalId, original: originalId, start: p.startDate },
      );

      // R-REN-13: the service mapping follows only with integrated billing.
      if (proposal.serviceMappingsCopied) {
        await trx.raw(
          `INSERT INTO service_mappings (contract_id, module_billing_type, service_id)
           SELECT :renewal, module_billing_type, service_id FROM service_mappings WHERE contract_id = :original ORDER BY id`,
          { renewal: renewalId, original: originalId },
        );
      }

      const deviceLinks = await moveDeviceLinks(trx, {
        originalId,
        renewalId,
        startDate: p.startDate,
        originalEndDate: proposal.original.currentEndDate,
      });

      // R-REN-9.
      await insertContractNote(trx, originalId, {
        kind: 'renewal',
        body: `Renewed by contract ${renewalId} ${p.name}`,
        author: ctx.actor,
      });

      // R-REN-15: the application row makes the date-dependent effects happen exactly once.
      const appliesNow = !proposal.schedule.scheduled;
      const [application] = (await trx('renewal_applications')
        .insert({
          renewal_contract_id: renewalId,
          original_contract_id: originalId,
          effective_date: proposal.schedule.effectiveDate,
          deactivate_original: proposal.original.endsEarly,
          applied_at: appliesNow ? trx.fn.now() : null,
          applied_by: appliesNow ? ctx.actor : null,
        })
        .returning('*')) as RenewalApplication[];
      if (appliesNow && proposal.original.endsEarly) await deactivateOriginal(trx, originalId);

      const leftBehind = await listLeftBehind(trx, originalId, proposal.original.newEndDate);
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'contract.renew',
        entityType: 'contract',
        entityId: renewalId,
        companyId: locked.company_id,
        before: { original: locked },
        after: {
          renewalId,
          proposal,
          deviceLinks,
          leftBehind: {
            openTickets: leftBehind.openTickets.count,
            openProjects: leftBehind.openProjects.count,
            chargesAfterEnd: leftBehind.chargesAfterEnd.count,
            timeEntriesAfterEnd: leftBehind.timeEntriesAfterEnd.count,
          },
        },
        requestId: ctx.requestId ?? null,
      });

      const originalAfter = await findContract(trx, originalId, null);
      const renewalAfter = await findContract(trx, renewalId, null);
      if (!originalAfter || !renewalAfter || !application) throw new HubError('INTERNAL', 'renewal rows vanished inside their transaction');
      return { original: originalAfter, renewal: renewalAfter, proposal, leftBehind, application, deviceLinks };
    }),
  );
}

/**
 * R-REN-10: the original's devices are linked to the renewal from its start date; their links to
 * the original end the day before. Links that start on or after the start date (scheduled ones)
 * simply move to the renewal. A link that was to end before the original's end keeps that end
 * on the renewal; one running to (or past) the original's end becomes open-ended.
 * Two statements for any number of devices.
 */
async function moveDeviceLinks(
  trx: Knex.Transaction,
  a: { originalId: string; renewalId: string; startDate: IsoDate; originalEndDate: IsoDate },
): Promise<{ moved: number; rescheduled: number }> {
  const rescheduled = await trx('device_contract_links')
    .where('contract_id', a.originalId)
    .where('valid_from', '>=', a.startDate)
    .update({ contract_id: a.renewalId });

  const cut = await trx.raw<{ rows: Array<{ device_id: string; service_id: string | null; old_to: IsoDate | null }> }>(
    `UPDATE device_contract_links l SET valid_to = :dayBefore::date
     FROM (SELECT id, valid_to AS old_to FROM device_contract_links
           WHERE contract_id = :original AND valid_from < :start::date AND (valid_to IS NULL OR valid_to >= :start::date)) s
     WHERE l.id = s.id
     RETURNING l.device_id::text, l.service_id::text, s.old_to`,
    { dayBefore: addDays(a.startDate, -1), original: a.originalId, start: a.startDate },
  );
  if (cut.rows.length > 0) {
    await trx.raw(
      `INSERT INTO device_contract_links (device_id, contract_id, service_id, valid_from, valid_to)
       SELECT x.device_id, :renewal, x.service_id, :start::date,
              CASE WHEN x.old_to IS NULL OR x.old_to >= :originalEnd::date THEN NULL ELSE x.old_to END
       FROM jsonb_to_recordset(:rows::jsonb) AS x(device_id bigint, service_id bigint, old_to date)`,
      { renewal: a.renewalId, start: a.startDate, originalEnd: a.originalEndDate, rows: JSON.stringify(cut.rows) },
    );
  }
  return { moved: cut.rows.length, rescheduled };
}

async function deactivateOriginal(db: Db, originalId: string): Promise<void> {
  await db('contracts').where({ id: originalId, status: 'active' }).update({ status: 'inactive', updated_at: db.fn.now() });
}

// ---------------------------------------------------------------------------------------------
// Scheduled application (R-REN-15)
// ---------------------------------------------------------------------------------------------

/** Applications whose date has come and that are not applied yet, oldest first. */
export async function listDueApplications(db: Db, today: IsoDate, limit = 1000): Promise<RenewalApplication[]> {
  return (await db('renewal_applications')
    .whereNull('applied_at')
    .where('effective_date', '<=', today)
    .orderBy([{ column: 'effective_date' }, { column: 'id' }])
    .limit(limit)) as RenewalApplication[];
}

export async function findApplicationByRenewal(db: Db, renewalContractId: string): Promise<RenewalApplication | undefined> {
  if (!/^\d+$/.test(renewalContractId)) return undefined;
  return (await db('renewal_applications').where('renewal_contract_id', renewalContractId).first()) as RenewalApplication | undefined;
}

export type ApplyResult = 'applied' | 'skipped';

/**
 * Applies one due application's date-dependent effects exactly once: the row is taken with
 * FOR UPDATE SKIP LOCKED and only while applied_at is NULL, and the effects and applied_at are
 * written in the same transaction. A concurrent run skips it (the other one is applying it); a
 * run that crashed rolled back and leaves it for the next run.
 */
export async function applyRenewalApplication(
  knex: Knex,
  applicationId: string,
  ctx: { today: IsoDate; actor: string },
): Promise<ApplyResult> {
  return knex.transaction(async (trx) => {
    const app = (await trx('renewal_applications')
      .where('id', applicationId)
      .whereNull('applied_at')
      .where('effective_date', '<=', ctx.today)
      .forUpdate()
      .skipLocked()
      .first()) as RenewalApplication | undefined;
    if (!app) return 'skipped';
    if (app.deactivate_original) await deactivateOriginal(trx, String(app.original_contract_id));
    await trx('renewal_applications').where('id', app.id).update({ applied_at: trx.fn.now(), applied_by: ctx.actor });
    const original = (await trx('contracts').select('company_id').where('id', app.original_contract_id).first()) as { company_id: string } | undefined;
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'contract.renewal.apply',
      entityType: 'contract',
      entityId: String(app.renewal_contract_id),
      companyId: original?.company_id ?? null,
      after: { originalId: String(app.original_contract_id), effectiveDate: app.effective_date, deactivatedOriginal: app.deactivate_original },
    });
    return 'applied';
  });
}

/**
 * Contracts due for auto-renewal on `today`: auto_renew set, recurring service, active, not yet
 * renewed, and their end date at most auto_renew_days_before days away (or passed).
 */
export async function listAutoRenewCandidates(db: Db, today: IsoDate, limit = 500): Promise<string[]> {
  const r = await db.raw<{ rows: Array<{ id: string }> }>(
    `SELECT c.id::text FROM contracts c
     WHERE c.auto_renew AND c.type = 'recurring_service' AND c.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM contracts r WHERE r.renewal_of_id = c.id)
       AND c.end_date - COALESCE(c.auto_renew_days_before, 0) <= :today::date
     ORDER BY c.end_date, c.id
     LIMIT :limit`,
    { today, limit },
  );
  return r.rows.map((x) => x.id);
}
