import type { Knex } from 'knex';
import type { CompanyScope } from '../../core/access/company-scope';
import { compareDates, todayIn, type IsoDate } from '../../core/dates';
import { HubError, notFound } from '../../core/errors';
import { businessMinutesBetween } from '../../core/slas/business-calendar';
import { shiftDueDatesForPause, type Priority } from '../../core/slas/due-dates';
import {
  assertReasonGiven,
  changedFields,
  needsTriageAfter,
  nextAssignment,
  recomputeDueDates,
  ticketDateOf,
  type AssignmentField,
  type TicketAssignment,
} from '../../core/tickets/triage';
import { writeAudit } from '../../db/queries/audit';
import { findContract } from '../../db/queries/contracts';
import { contractHasService, findDevice } from '../../db/queries/device-links';
import { companyVisible } from '../../db/queries/devices';
import { dateZonesOf } from '../../db/queries/companies';
import { loadSlaDefinition } from '../../db/queries/sla-definitions';
import {
  closeSlaPause,
  findOtherOpenTicket,
  insertTicketNote,
  listSlaPauses,
  lockTicket,
  moveTicketTimeEntries,
  openSlaPause,
  updateTicket,
  type TicketUpdate,
} from '../../db/queries/tickets';
import { withPgErrors } from '../../db/pg-errors';
import { OPEN_TICKET_STATUSES, type TicketRow, type TicketStatus } from '../../db/tables';
import { setDeviceContract } from '../devices/device-links';
import { companyMoveGaps, rankOf, recordTicketChanges, type DeliveryRef } from '../psa/outbox';
import { afterStormResolves } from '../alerts/storms';

/**
 * Working a ticket by hand (R-TKT-1, R-TKT-2; SPEC §9 `PATCH /api/v1/tickets/:id`): triage —
 * company, device, contract, service, priority, assignee, queue — with the SLA and due dates
 * following the contract, the booked labour following the contract (R-LINK-6), optionally the
 * device linked to the new contract (R-LINK-8); then a status change (SLA pauses) and a note,
 * recording the first response. One transaction under the ticket's row lock; every change audited
 * with who and why.
 *
 * One file over 300 lines on purpose: every field of a hand edit runs under the same row lock and
 * audit record, and their order (company before contract before SLA) matters.
 */

/** Statuses an operator may set; `new` is only where a ticket starts. */
export type SettableStatus = Exclude<TicketStatus, 'new'>;

export interface WorkTicketInput {
  ticketId: string;
  status?: SettableStatus | undefined;
  note?: string | undefined;
  /** The note is the first response to the customer (R-TKT-2). */
  noteIsResponse?: boolean | undefined;
  companyId?: string | undefined;
  deviceId?: string | null | undefined;
  contractId?: string | null | undefined;
  serviceId?: string | null | undefined;
  priority?: Priority | undefined;
  assignee?: string | null | undefined;
  queue?: string | null | undefined;
  /** Why; required when company, device, contract, service or priority change. */
  reason?: string | undefined;
  /** Also link the ticket's device to its (new) contract and service from this day (R-LINK-8). */
  linkDevice?: { from: IsoDate } | undefined;
}

export interface WorkTicketContext {
  scope: CompanyScope;
  actor: string;
  requestId?: string | null | undefined;
  /** When the change happens (SLA pause boundaries, first response). */
  now: Date;
  /**
   * The change came from this PSA connection (status back): it is recorded for the ticket's other
   * connections only, never echoed back to the PSA it came from.
   */
  fromPsaConnectionId?: string | undefined;
  /** The zone a ticket's date is counted in when neither its company nor its contract's SLA has one (HUB_RENEWAL_TIMEZONE). @defaultValue 'UTC' */
  fallbackZone?: string | undefined;
}

export interface WorkTicketResult {
  ticket: TicketRow;
  /** The assignment fields that changed. */
  changed: AssignmentField[];
  statusChanged: boolean;
  movedTimeEntries: number;
  /** PSA deliveries the change made pending (issue 16): the caller enqueues them once committed. */
  psa: DeliveryRef[];
}

/** Assignment fields a PSA ticket carries (connectors' updateTicket); assignee is not mapped to any PSA. */
const PSA_FIELDS: readonly AssignmentField[] = ['companyId', 'deviceId', 'contractId', 'serviceId', 'priority', 'queue'];

const unprocessable = (field: string, message: string): HubError => new HubError('UNPROCESSABLE', `${field}: ${message}`, [{ field, message }]);

const assignmentOf = (t: TicketRow): TicketAssignment => ({
  companyId: t.company_id === null ? null : String(t.company_id),
  deviceId: t.device_id === null ? null : String(t.device_id),
  contractId: t.contract_id === null ? null : String(t.contract_id),
  serviceId: t.service_id === null ? null : String(t.service_id),
  priority: t.priority,
  assignee: t.assignee,
  queue: t.queue,
});

const TRIAGE_WORDS: Record<AssignmentField, string> = {
  companyId: 'company',
  deviceId: 'device',
  contractId: 'contract',
  serviceId: 'service',
  priority: 'priority',
  assignee: 'assignee',
  queue: 'queue',
};

const ASSIGNMENT_KEYS: readonly AssignmentField[] = ['companyId', 'deviceId', 'contractId', 'serviceId', 'priority', 'assignee', 'queue'];

export async function workTicket(knex: Knex, input: WorkTicketInput, ctx: WorkTicketContext): Promise<WorkTicketResult> {
  return knex.transaction(async (trx) => {
    let t = await lockTicket(trx, input.ticketId, ctx.scope);
    if (!t) throw notFound('ticket', input.ticketId);
    const before = t;
    const requested: Partial<TicketAssignment> = {};
    for (const k of ASSIGNMENT_KEYS) if (input[k] !== undefined) (requested as Record<string, unknown>)[k] = input[k];

    let changed: AssignmentField[] = [];
    let movedTimeEntries = 0;
    if (Object.keys(requested).length > 0 || input.linkDevice) {
      const r = await triage(trx, t, requested, input, ctx);
      t = r.ticket;
      changed = r.changed;
      movedTimeEntries = r.movedTimeEntries;
    }

    const note = input.note?.trim() ? input.note.trim() : null;
    let statusChanged = false;
    // PSA deliveries the storm effects of a resolution made pending (a parent resolved, a target released).
    const stormPsa: DeliveryRef[] = [];
    if (input.status !== undefined && input.status !== t.status) {
      const wasOpen = OPEN_TICKET_STATUSES.includes(t.status);
      t = await changeStatus(trx, t, input.status, note, ctx);
      statusChanged = true;
      // R-STORM-1: a ticket resolved or closed by hand (or by its PSA) is resolved as far as storms
      // go: a source releases the targets it muted that still fire, and a parent whose last open
      // child this was resolves — as when the alert's own resolution resolves it.
      if (wasOpen && !OPEN_TICKET_STATUSES.includes(t.status)) stormPsa.push(...(await afterStormResolves(trx, [t.id], ctx.now)).psa);
    } else if (note) {
      await insertTicketNote(trx, { ticketId: t.id, kind: input.noteIsResponse ? 'response' : 'note', body: note, author: ctx.actor });
    }
    if (input.noteIsResponse && note && t.first_response_at === null) {
      t = await updateTicket(trx, t.id, { first_response_at: ctx.now });
      await writeAudit(trx, {
        actor: ctx.actor,
        action: 'ticket.response',
        entityType: 'ticket',
        entityId: t.id,
        companyId: t.company_id,
        before: { firstResponseAt: null },
        after: { firstResponseAt: ctx.now },
        requestId: ctx.requestId ?? null,
      });
    }
    // Issue 16: what the PSAs that have this ticket must be told, in this same transaction.
    const notes: Array<{ title: string; body: string }> = [];
    const psaChanged = changed.filter((f) => PSA_FIELDS.includes(f));
    if (psaChanged.length > 0) {
      const reason = input.reason?.trim() ? `: ${input.reason.trim()}` : '';
      // A move to a company a PSA has no id for cannot reach that PSA: the note says so (issue 16, psafix).
      const gaps = changed.includes('companyId') ? await companyMoveGaps(trx, String(t.id), t.company_id === null ? null : String(t.company_id)) : [];
      notes.push({ title: 'Triage', body: [`${psaChanged.map((f) => TRIAGE_WORDS[f]).join(', ')} changed by ${ctx.actor}${reason}`, ...gaps].join('\n') });
    }
    if (statusChanged && !ctx.fromPsaConnectionId) notes.push({ title: 'Status', body: `${before.status} → ${t.status} by ${ctx.actor}${note ? `: ${note}` : ''}` });
    else if (note) notes.push({ title: input.noteIsResponse ? 'Response' : 'Note', body: `${note} (${ctx.actor})` });
    const psa =
      psaChanged.length > 0 || statusChanged || notes.length > 0
        ? await recordTicketChanges(
            trx,
            [{ ticketId: String(t.id), notes, changed: psaChanged.length > 0 || statusChanged, ...(changed.includes('priority') ? { rank: rankOf(t.priority) } : {}) }],
            { exceptConnectionId: ctx.fromPsaConnectionId },
          )
        : [];
    return { ticket: t, changed, statusChanged, movedTimeEntries, psa: [...psa, ...stormPsa] };
  });
}

/** R-TKT-1: validate the new assignment, recompute SLA and due dates, move labour, audit. */
async function triage(
  trx: Knex.Transaction,
  t: TicketRow,
  requested: Partial<TicketAssignment>,
  input: WorkTicketInput,
  ctx: WorkTicketContext,
): Promise<{ ticket: TicketRow; changed: AssignmentField[]; movedTimeEntries: number }> {
  const before = assignmentOf(t);
  const contractChanging = requested.contractId !== undefined && requested.contractId !== before.contractId;
  const keepService =
    contractChanging && requested.serviceId === undefined && before.serviceId !== null && requested.contractId !== null && requested.contractId !== undefined
      ? await contractHasService(trx, requested.contractId, before.serviceId)
      : false;
  const next = nextAssignment(before, requested, keepService);
  const changed = changedFields(before, next);
  assertReasonGiven(changed, input.reason);

  // The ticket's date as the alert path counts it: in the (new) company's zone, else in the zone
  // of the SLA of the (new) contract, else HUB_RENEWAL_TIMEZONE (issue 15 item 5).
  const date = ticketDateOf(t.first_occurred_at, { ...(await dateZonesOf(trx, { companyId: next.companyId, contractId: next.contractId })), fallback: ctx.fallbackZone });
  if (changed.includes('companyId') && next.companyId !== null && !(await companyVisible(trx, next.companyId, ctx.scope))) {
    throw unprocessable('companyId', `company ${next.companyId} does not exist`);
  }
  if ((next.deviceId !== null || next.contractId !== null) && next.companyId === null) {
    throw unprocessable('companyId', 'the ticket has no company; name the company with the device or contract');
  }
  if (next.deviceId !== null && (changed.includes('deviceId') || changed.includes('companyId'))) {
    const device = await findDevice(trx, next.deviceId, ctx.scope);
    if (!device) throw unprocessable('deviceId', `device ${next.deviceId} does not exist`);
    if (String(device.company_id) !== next.companyId) {
      throw unprocessable('deviceId', `device ${device.id} belongs to ${device.company_id === null ? 'no company' : `company ${device.company_id}`}, not to company ${next.companyId}`);
    }
  }
  let contractSlaId: string | null = null;
  if (next.contractId !== null) {
    const contract = await findContract(trx, next.contractId, ctx.scope);
    if (!contract) throw unprocessable('contractId', `contract ${next.contractId} does not exist`);
    if (changed.includes('contractId') || changed.includes('companyId')) {
      if (String(contract.company_id) !== next.companyId) {
        throw unprocessable('contractId', `contract ${contract.id} belongs to company ${contract.company_id}, not to company ${next.companyId}`);
      }
      if (compareDates(contract.start_date, date) > 0 || compareDates(contract.end_date, date) < 0) {
        throw unprocessable('contractId', `contract ${contract.id} runs ${contract.start_date} to ${contract.end_date}; it is not effective on the ticket's date ${date}`);
      }
    }
    contractSlaId = contract.sla_id === null ? null : String(contract.sla_id);
  }
  if (next.serviceId !== null) {
    if (next.contractId === null) throw unprocessable('serviceId', 'a service needs a contract');
    if ((changed.includes('serviceId') || changed.includes('contractId')) && !(await contractHasService(trx, next.contractId, next.serviceId))) {
      throw unprocessable('serviceId', `service ${next.serviceId} is not on contract ${next.contractId}`);
    }
  }

  const patch: TicketUpdate = {
    company_id: next.companyId,
    device_id: next.deviceId,
    contract_id: next.contractId,
    service_id: next.serviceId,
    priority: next.priority,
    assignee: next.assignee,
    queue: next.queue,
    needs_triage: needsTriageAfter(next.contractId, { needsTriage: t.needs_triage, contractId: before.contractId }),
  };
  // The SLA follows the contract; due dates follow SLA and priority, counted from the ticket's
  // creation with the time it already spent paused (R-TKT-1).
  const slaChanges = changed.includes('contractId') || changed.includes('priority');
  if (slaChanges) {
    const slaId = changed.includes('contractId') ? contractSlaId : t.sla_id === null ? null : String(t.sla_id);
    const sla = slaId === null ? undefined : await loadSlaDefinition(trx, slaId);
    const pauses = await listSlaPauses(trx, t.id);
    const due = recomputeDueDates(sla, next.priority, t.created_at, pauses.map((p) => ({ pausedAt: p.paused_at, resumedAt: p.resumed_at })));
    patch.sla_id = slaId;
    patch.first_response_due_at = due.firstResponseDueAt;
    patch.resolution_plan_due_at = due.resolutionPlanDueAt;
    patch.resolution_due_at = due.resolutionDueAt;
  }
  const updated = changed.length > 0 || patch.needs_triage !== t.needs_triage ? await updateTicket(trx, t.id, patch) : t;

  let movedTimeEntries = 0;
  if (changed.includes('contractId') || changed.includes('serviceId')) {
    movedTimeEntries = await moveTicketTimeEntries(trx, t.id, next.contractId, next.serviceId);
  }

  let link: unknown = null;
  if (input.linkDevice) {
    if (next.deviceId === null) throw unprocessable('linkDevice', 'the ticket has no device to link');
    if (next.contractId === null) throw unprocessable('linkDevice', 'the ticket has no contract to link its device to');
    const r = await setDeviceContract(
      trx,
      { deviceId: next.deviceId, contractId: next.contractId, serviceId: next.serviceId, from: input.linkDevice.from },
      { scope: ctx.scope, actor: ctx.actor, requestId: ctx.requestId ?? null, today: todayIn(ctx.fallbackZone ?? 'UTC', ctx.now) },
    );
    link = r.link;
  }

  if (changed.length > 0) {
    const view = (r: TicketRow) => ({
      ...assignmentOf(r),
      slaId: r.sla_id === null ? null : String(r.sla_id),
      needsTriage: r.needs_triage,
      firstResponseDueAt: r.first_response_due_at,
      resolutionPlanDueAt: r.resolution_plan_due_at,
      resolutionDueAt: r.resolution_due_at,
    });
    const reason = input.reason?.trim() ? input.reason.trim() : null;
    await writeAudit(trx, {
      actor: ctx.actor,
      action: 'ticket.triage',
      entityType: 'ticket',
      entityId: t.id,
      companyId: updated.company_id,
      before: view(t),
      after: { ...view(updated), reason, changed, movedTimeEntries, deviceLink: link },
      requestId: ctx.requestId ?? null,
    });
    const fields = changed.map((f) => `${f} ${before[f] ?? '—'} → ${next[f] ?? '—'}`).join('; ');
    await insertTicketNote(trx, { ticketId: t.id, kind: 'triage', body: reason ? `${fields}: ${reason}` : fields, author: ctx.actor });
  }
  return { ticket: updated, changed, movedTimeEntries };
}

/**
 * A status change (SPEC §8):
 * - leaving `new` for the first time is the first response (R-TKT-2);
 * - entering `waiting_customer` stops the SLA clock (a ticket_sla_pauses row, sla_paused_at);
 * - leaving it restarts the clock: the open due dates move later by the business minutes of the
 *   pause in the ticket's SLA calendar (`shiftDueDatesForPause`; missed ones stay missed);
 * - `resolved` sets resolved_at (by hand: resolved_automatically false); `closed` sets closed_at;
 * - a resolved ticket may be taken back to work (resolved_at cleared) unless another open ticket
 *   now carries its dedup key (409 naming it);
 * - a closed ticket is never reopened (409): a new alert opens a new ticket.
 */
async function changeStatus(trx: Knex.Transaction, t: TicketRow, status: SettableStatus, note: string | null, ctx: WorkTicketContext): Promise<TicketRow> {
  if (t.status === 'closed') {
    throw new HubError('CONFLICT', `status: ticket ${t.id} is closed and cannot be reopened; a new alert opens a new ticket`, [
      { field: 'status', message: 'closed tickets are not reopened' },
    ]);
  }
  const patch: TicketUpdate = { status };
  let pausedBusinessMinutes: number | null = null;
  if (t.status === 'new' && t.first_response_at === null) patch.first_response_at = ctx.now;

  if (t.status === 'waiting_customer') {
    const pause = await closeSlaPause(trx, t.id, ctx.now);
    const pausedAt = pause?.paused_at ?? t.sla_paused_at;
    const resumedAt = pause?.resumed_at ?? ctx.now;
    patch.sla_paused_at = null;
    if (pausedAt && t.sla_id) {
      const sla = await loadSlaDefinition(trx, String(t.sla_id));
      if (sla) {
        const due = { firstResponseDueAt: t.first_response_due_at, resolutionPlanDueAt: t.resolution_plan_due_at, resolutionDueAt: t.resolution_due_at };
        const shifted = shiftDueDatesForPause(sla.calendar, due, pausedAt, resumedAt);
        pausedBusinessMinutes = businessMinutesBetween(sla.calendar, pausedAt, resumedAt);
        patch.first_response_due_at = shifted.firstResponseDueAt;
        patch.resolution_plan_due_at = shifted.resolutionPlanDueAt;
        patch.resolution_due_at = shifted.resolutionDueAt;
      }
    }
  }
  if (status === 'waiting_customer') {
    await openSlaPause(trx, t.id, ctx.now);
    patch.sla_paused_at = ctx.now;
  }
  if (status === 'resolved') {
    patch.resolved_at = ctx.now;
    patch.resolved_automatically = false;
  }
  if (status === 'closed') patch.closed_at = ctx.now;
  if (t.status === 'resolved' && OPEN_TICKET_STATUSES.includes(status)) {
    const other = await findOtherOpenTicket(trx, t.dedup_key, t.id);
    if (other) {
      throw new HubError('CONFLICT', `status: ticket ${other.id} is already open for the same alert; work on that one`, [
        { field: 'status', message: `ticket ${other.id} is open for the same dedup key` },
      ]);
    }
    patch.resolved_at = null;
    patch.resolved_automatically = false;
  }

  const updated = await withPgErrors({ tickets_one_open_per_dedup_key: 'status' }, () => updateTicket(trx, t.id, patch));
  await insertTicketNote(trx, { ticketId: t.id, kind: 'status', body: note ? `${t.status} → ${status}: ${note}` : `${t.status} → ${status}`, author: ctx.actor });
  const view = (r: TicketRow) => ({
    status: r.status,
    slaPausedAt: r.sla_paused_at,
    resolvedAt: r.resolved_at,
    closedAt: r.closed_at,
    firstResponseAt: r.first_response_at,
    firstResponseDueAt: r.first_response_due_at,
    resolutionPlanDueAt: r.resolution_plan_due_at,
    resolutionDueAt: r.resolution_due_at,
  });
  await writeAudit(trx, {
    actor: ctx.actor,
    action: 'ticket.status',
    entityType: 'ticket',
    entityId: t.id,
    companyId: t.company_id,
    before: view(t),
    after: { ...view(updated), pausedBusinessMinutes },
    requestId: ctx.requestId ?? null,
  });
  return updated;
}
