import type { Knex } from 'knex';
import { computeDueDates } from '../../core/slas/due-dates';
import { outcomeOf, ticketEffect, type ReceiptOutcome, type TicketStateInput } from '../../core/tickets/receipt-effect';
import { priorityFor, ticketDescription, ticketNotes } from '../../core/tickets/ticket-text';
import {
  addTicketNotes,
  countOccurrences,
  finishReceipts,
  insertTicketsOrCount,
  lockReceipts,
  lockDedupKeys,
  insertRuleLinks,
  lockTicketsForKeys,
  resolveTickets,
  type ReceiptFinish,
  type WorkReceipt,
} from '../../db/queries/alert-batch';
import { holdReceipt, reopenTicket, resolvedSince, type NewTicket } from '../../db/queries/alert-processing';
import type { AlertRow } from '../../db/tables';
import { metrics } from '../../lib/metrics';
import type { Decision } from '../../rules/engine/types';
import { resolveAssignment, type RefMemo } from './assign-contract';
import { buildFactsBatch, type BuiltFacts } from './build-facts';
import type { PipelineDeps, ReceiptResult } from './deps';
import { afterStormResolves, StormBatch } from './storms';
import { recordNewTickets, recordTicketChanges, type DeliveryRef } from '../psa/outbox';
import type { DeliveryChange } from '../../db/queries/psa-deliveries';

// The types of this module's signatures, for its callers.
export type { PipelineDeps, ReceiptOutcome, ReceiptResult } from './deps';

/**
 * Applying alert receipts to tickets (R-ALR-3, R-ALR-4), set-based: the receipts are locked and
 * loaded in one statement, the facts of all of them built with one statement per step
 * (build-facts.ts), each receipt decided with the live ruleset, its effect on the tickets of its
 * dedup key decided by core/tickets' state machine, and the ticket writes (create / count /
 * resolve / annotate) go out as one statement per kind (db/queries/alert-batch.ts). Receipts of one
 * dedup key are applied in arrival order, one per round, so a batch has exactly the effect of
 * applying its receipts one after the other (test/integration/pipeline/batch-equivalence.test.ts).
 * The receipts are marked processed in the same transaction as the ticket writes, so a job that
 * runs twice (BullMQ is at-least-once), a crash after the insert, or two workers on one receipt
 * all have the effect of once.
 *
 * One file over 300 lines on purpose: it is one transaction's use case — lock, facts, decide, write
 * — and the round loop ties them; the decisions themselves live in core/tickets and core/storms.
 */

/**
 * Applies one alert receipt in its own transaction, or in a savepoint of `outer` (then the caller
 * counts the metrics once it committed). See {@link processReceipts}.
 */
export async function processReceipt(
  deps: PipelineDeps,
  receiptId: string,
  outer?: Knex.Transaction,
): Promise<{ outcome: ReceiptOutcome; ticketId: string | null; alertId: string | null }> {
  const [r] = await (outer ?? deps.db).transaction((trx) => processReceipts(deps, [receiptId], trx));
  if (!outer) countOutcomes([r!]);
  return { outcome: r!.outcome, ticketId: r!.ticketId, alertId: r!.alertId };
}

/** Counts applied receipts in the metrics; call once their transaction committed. */
export function countOutcomes(results: readonly ReceiptResult[]): void {
  for (const r of results) {
    if (r.outcome === 'missing' || r.outcome === 'already_processed') continue;
    metrics.alertOutcomes.inc({ outcome: r.outcome });
    if (r.outcome === 'ticket_created' && r.source) metrics.ticketsCreated.inc({ source: r.source });
    for (const name of r.rulesFired ?? []) metrics.decisions.inc({ rule: name });
    if (r.outcome === 'inhibited') metrics.alertsInhibited.inc();
    if (r.grouped) metrics.alertsGrouped.inc(r.grouped);
  }
}

interface Work {
  rc: WorkReceipt;
  built: BuiltFacts;
  decision: Decision;
  /** The decision with the facts it was made on: stored on the alert (and the ticket). */
  record: Record<string, unknown>;
}

/**
 * Applies a job's receipts in the caller's transaction. Returns one result per receipt id, in the
 * order they were applied (ids not found last, as `missing`; receipts applied before as
 * `already_processed`).
 */
export async function processReceipts(
  deps: PipelineDeps,
  receiptIds: readonly string[],
  trx: Knex.Transaction,
  /** Collects the PSA deliveries this transaction recorded (issue 16), to enqueue once it committed. */
  psaOutbox: DeliveryRef[] = [],
): Promise<ReceiptResult[]> {
  const locked = await lockReceipts(trx, receiptIds);
  const results = new Map<string, ReceiptResult>();
  const pending: WorkReceipt[] = [];
  for (const rc of locked) {
    if (rc.processed_at) results.set(rc.id, { receiptId: rc.id, outcome: 'already_processed', ticketId: rc.ticket_id, alertId: rc.alert_id });
    else pending.push(rc);
  }
  if (pending.length > 0) {
    const now = deps.now();
    const built = await buildFactsBatch(
      trx,
      deps.slas,
      pending.map((rc) => ({ alert: rc.alert, source: rc.source_name })),
      { discover: true, fallbackZone: deps.fallbackZone },
    );
    const decisions = built.map((b) => deps.rules.decide(b.facts));
    const refs: RefMemo = new Map();
    const linked = await linkByRules(deps, trx, pending, built, decisions, refs);
    const rounds: Work[][] = [];
    const seen = new Map<string, number>();
    pending.forEach((rc, i) => {
      const b = built[i]!;
      const decision = decisions[i]!;
      const record = {
        ...decision,
        facts: { date: b.date, company: b.facts.company, device: b.facts.device, deviceContract: b.facts.deviceContract, defaultContract: b.facts.defaultContract },
        ...(linked.has(i) ? { linked: linked.get(i) } : {}),
      };
      const round = seen.get(rc.alert.dedup_key) ?? 0;
      seen.set(rc.alert.dedup_key, round + 1);
      (rounds[round] ??= []).push({ rc, built: b, decision, record });
    });
    // Every key of the job is in its first round: one lock statement for the job (issue 15 item 7).
    await lockDedupKeys(
      trx,
      pending.map((rc) => rc.alert.dedup_key),
    );
    // R-STORM-1: locks the storm groups of the job before any ticket (app/alerts/storms.ts).
    const storms = await StormBatch.begin(
      deps,
      trx,
      rounds.flat().map((w) => ({ id: w.rc.id, alert: w.rc.alert, facts: w.built.facts, companyId: w.built.company?.id ?? null })),
    );
    for (const round of rounds) {
      if (!storms) {
        await applyRound(deps, trx, round, now, results, refs, null, psaOutbox);
        continue;
      }
      // Alerts that may mute others first, so the same job's targets find their tickets.
      const first = round.filter((w) => storms.isSource(w.rc.id));
      const rest = round.filter((w) => !storms.isSource(w.rc.id));
      for (const part of [first, rest]) if (part.length > 0) await applyRound(deps, trx, part, now, results, refs, storms, psaOutbox);
    }
  }
  const out: ReceiptResult[] = [];
  for (const rc of locked) out.push(results.get(rc.id)!);
  const found = new Set(locked.map((rc) => rc.id));
  for (const id of receiptIds) if (!found.has(id)) out.push({ receiptId: id, outcome: 'missing', ticketId: null, alertId: null });
  return out;
}

/**
 * R-LINK-7 (issue 15 item 3): a rules `link` event links the alert's device — when it has no link
 * in force on the alert's date — to the contract (and service) it names, found like an `assign`
 * reference (the company's contract running on that date), from that date on, naming the rule. The
 * receipts concerned are then decided again on facts that show the new link, so this very alert's
 * ticket gets the contract. Replaces `built` and `decisions` entries in place; returns per receipt
 * index what was linked.
 */
async function linkByRules(
  deps: PipelineDeps,
  trx: Knex.Transaction,
  pending: readonly WorkReceipt[],
  built: BuiltFacts[],
  decisions: Decision[],
  refs: RefMemo,
): Promise<Map<number, { contractId: string; serviceId: string | null; rule: string; from: string }>> {
  const out = new Map<number, { contractId: string; serviceId: string | null; rule: string; from: string }>();
  for (let i = 0; i < pending.length; i++) {
    const link = decisions[i]!.link;
    const b = built[i]!;
    if (!link || !b.device || !b.company || b.deviceContract) continue;
    const contract = await resolveAssignment(trx, { ...decisions[i]!, assignment: { ...decisions[i]!.assignment, contract: { ref: link.contract }, service: link.service, sla: null } }, { company: b.company, deviceContract: undefined, defaultContract: undefined, date: b.date }, refs);
    if (!contract.contract) continue;
    out.set(i, { contractId: String(contract.contract.contract_id), serviceId: link.service ? contract.serviceId : null, rule: link.rule, from: b.date });
  }
  if (out.size === 0) return out;
  await insertRuleLinks(
    trx,
    [...out.entries()].map(([i, l]) => ({ deviceId: String(built[i]!.device!.id), contractId: l.contractId, serviceId: l.serviceId, from: l.from, rule: l.rule })),
  );
  const again = [...out.keys()];
  const rebuilt = await buildFactsBatch(
    trx,
    deps.slas,
    again.map((i) => ({ alert: pending[i]!.alert, source: pending[i]!.source_name })),
    { discover: false, fallbackZone: deps.fallbackZone },
  );
  again.forEach((i, k) => {
    built[i] = rebuilt[k]!;
    decisions[i] = deps.rules.decide(rebuilt[k]!.facts);
  });
  return out;
}

/**
 * One receipt per dedup key: the tickets of the keys are locked, each receipt's effect decided by
 * core/tickets (answering the questions it asks — a maintenance window, a resolve since — as it
 * asks them, since one of them writes), and the writes batched.
 */
async function applyRound(
  deps: PipelineDeps,
  trx: Knex.Transaction,
  items: readonly Work[],
  now: Date,
  results: Map<string, ReceiptResult>,
  refs: RefMemo,
  storms: StormBatch | null,
  psaOutbox: DeliveryRef[],
): Promise<void> {
  await storms?.lockRound(
    trx,
    items.map((w) => w.rc.id),
  );
  const keys = items.map((w) => w.rc.alert.dedup_key);
  // After the round before it finished its receipts: a resolve applied there counts here.
  const tickets = await lockTicketsForKeys(trx, keys);
  await storms?.beginRound(
    trx,
    items.map((w) => w.rc.id),
  );
  const finishes: ReceiptFinish[] = [];
  const inserts: Array<{ w: Work; ticket: NewTicket }> = [];
  const occurrences: Array<{ ticketId: string; at: Date }> = [];
  const resolves: Array<{ ticketId: string; at: Date; note: string }> = [];
  const notes: Array<{ ticketId: string; kind: string; body: string }> = [];
  const reopened = new Set<string>();

  const result = (w: Work, outcome: ReceiptOutcome, ticketId: string | null): void => {
    results.set(w.rc.id, {
      receiptId: w.rc.id,
      outcome,
      ticketId,
      alertId: w.rc.alert.id,
      source: w.rc.source_name,
      rulesFired: w.decision.rulesFired.map((f) => f.name),
    });
  };
  /**
   * `onTicket`: the alert opened `ticketId`, whose row holds this very decision (plus the contract
   * `chosen`): the alert keeps none of its own — a reader takes the ticket's (db/queries/alert-list.ts,
   * `alertDecisionSql`). The ~1.4 kB document is then stored, and written to the WAL, once per new ticket
   * instead of twice (issue 19: its cost per alert and as the data grows).
   */
  const finish = (w: Work, outcome: ReceiptOutcome, ticketId: string | null, alertStatus: AlertRow['status'] = 'processed', onTicket = false): void => {
    finishes.push({
      receiptId: w.rc.id,
      alertId: w.rc.alert.id,
      outcome,
      ticketId,
      alertStatus,
      decision: onTicket ? null : w.record,
      rulesetVersion: w.decision.rulesetVersion,
    });
    result(w, outcome, ticketId);
  };

  for (const w of items) {
    const { rc, decision } = w;
    const { company, device } = w.built;
    const alert = rc.alert;
    const { open, last, resolvedThrough } = tickets.get(alert.dedup_key) ?? {};

    const state: TicketStateInput = {
      receipt: { state: alert.state, receivedAt: rc.received_at, occurredAt: alert.occurred_at },
      open: open ? { id: open.id, resolveAction: open.resolve_action, firstOccurredAt: open.episode_started_at ?? open.first_occurred_at } : null,
      last: last
        ? {
            id: last.id,
            status: last.status,
            resolvedAutomatically: last.resolved_automatically,
            resolvedAt: last.resolved_at,
            reopenWindowMinutes: last.reopen_window_minutes,
            lastOccurredAt: last.last_occurred_at,
          }
        : null,
      decision,
      resolvedThrough: resolvedThrough ?? null,
      now,
      canHold: deps.scheduleHoldOff !== undefined,
      // No maintenance check in this process: the answer is known without asking.
      ...(deps.maintenanceWindow ? {} : { maintenanceWindow: null }),
    };
    let step = ticketEffect(state);
    while (step.kind === 'ask') {
      if (step.question === 'maintenanceWindow') {
        const hook = deps.maintenanceWindow;
        state.maintenanceWindow = hook ? await hook(trx, { alert, receiptId: rc.id, companyId: company?.id ?? null, deviceId: device?.id ?? null, at: alert.occurred_at }) : null;
      } else {
        state.resolvedSinceReceipt = await resolvedSince(trx, alert.dedup_key, rc.received_at);
      }
      step = ticketEffect(state);
    }
    const effect = step;
    const outcome = outcomeOf(effect);

    // R-STORM-1: an alert muted by a firing source, or one already attached to one.
    const storm = storms ? storms.effectFor(rc.id, effect) : null;
    if (storm && (storm.kind === 'count-related' || storm.kind === 'resolve-related')) {
      finish(w, storm.kind === 'count-related' ? 'inhibited' : 'related_resolved', storm.ticketId);
      continue;
    }
    if (storm?.kind === 'inhibit') {
      storms!.attach(rc.id, storm, await newTicket(deps, trx, w, now, refs));
      continue;
    }

    switch (effect.kind) {
      case 'nothing-to-resolve':
      case 'release':
        finish(w, outcome, null);
        break;
      case 'stale':
        // Names the ticket it was told apart from (the alert list shows where it belonged); changes nothing.
        finish(w, outcome, effect.ticketId);
        break;
      case 'annotate': {
        const note = ticketNotes.resolveAnnotated(alert.occurred_at);
        notes.push({ ticketId: effect.ticketId, ...note });
        finish(w, outcome, effect.ticketId);
        break;
      }
      case 'resolve':
        resolves.push({ ticketId: effect.ticketId, at: now, note: ticketNotes.autoResolved(rc.source_name, alert.occurred_at) });
        finish(w, outcome, effect.ticketId);
        break;
      case 'count':
        occurrences.push({ ticketId: effect.ticketId, at: alert.occurred_at });
        finish(w, outcome, effect.ticketId);
        break;
      case 'reopen': {
        // One statement per reopen: flapping is rare, and the note needs the new flap count.
        const t = await reopenTicket(trx, effect.ticketId, alert.occurred_at);
        notes.push({ ticketId: t.id, ...ticketNotes.flapped(effect.windowMinutes, t.flaps) });
        reopened.add(t.id);
        finish(w, outcome, t.id);
        break;
      }
      case 'suppress':
        finish(w, outcome, null, 'suppressed');
        break;
      case 'hold': {
        const schedule = deps.scheduleHoldOff;
        // ticketEffect holds only when told the process can (canHold above).
        if (!schedule) throw new Error('hold-off without a scheduler');
        // Not finished: the receipt comes back as a delayed job and is applied then.
        await holdReceipt(trx, rc.id, alert.id, effect.until);
        await schedule(rc.id, effect.until.getTime() - now.getTime());
        result(w, outcome, null);
        break;
      }
      case 'create': {
        const ticket = await newTicket(deps, trx, w, now, refs);
        storms?.planGroup(rc.id, ticket);
        inserts.push({ w, ticket });
        break;
      }
    }
  }

  const created = await insertTicketsOrCount(
    trx,
    inserts.map((i) => i.ticket),
  );
  const newTickets: Parameters<typeof recordNewTickets>[1][number][] = [];
  const stormNotes: DeliveryChange[] = [];
  const countedByInsert: Array<{ ticketId: string; at: Date }> = [];
  for (const { w, ticket } of inserts) {
    const c = created.get(ticket.dedup_key);
    if (!c) throw new Error(`ticket insert returned no row for dedup key ${ticket.dedup_key}`);
    // Not created: a concurrent worker opened the key's ticket first, and the insert counted on it.
    finish(w, c.created ? 'ticket_created' : 'occurrence', c.id, 'processed', c.created);
    if (c.created) newTickets.push({ ticketId: c.id, companyId: ticket.company_id, companyName: w.built.company?.name ?? null, priority: ticket.priority, deliver: w.decision.deliver });
    // Counted on the open ticket by the insert itself; for the PSA it is a repeat like any other.
    else countedByInsert.push({ ticketId: c.id, at: w.rc.alert.occurred_at });
  }
  if (storms) {
    const byId = new Map(items.map((w) => [w.rc.id, w]));
    const work = (id: string): Work => {
      const w = byId.get(id);
      if (!w) throw new Error(`storm: receipt ${id} is not in this round`);
      return w;
    };
    const round = await storms.finishRound(
      trx,
      created,
      (id, assignment) => {
        const w = work(id);
        return newTicket(deps, trx, { ...w, decision: { ...w.decision, assignment: { ...w.decision.assignment, ...assignment } } }, now, refs);
      },
      (id, outcome, ticketId) => finish(work(id), outcome, ticketId),
    );
    for (const [id, n] of storms.grouped) {
      const r = results.get(id);
      if (r) r.grouped = n;
    }
    // Issue 18 item 3: a PSA gets one ticket for the parent, the children as (coalesced) notes on it.
    // A ticket that became a child in the round that created it is not delivered on its own; one
    // delivered before (a candidate adopted later) keeps its PSA ticket.
    for (const p of round.parents) {
      const opener = work(p.opener);
      newTickets.push({ ticketId: p.ticketId, companyId: p.ticket.company_id, companyName: opener.built.company?.name ?? null, priority: p.ticket.priority, deliver: opener.decision.deliver });
    }
    if (round.children.length > 0) {
      const childIds = new Set(round.children.map((c) => c.ticketId));
      for (let i = newTickets.length - 1; i >= 0; i--) if (childIds.has(newTickets[i]!.ticketId)) newTickets.splice(i, 1);
      stormNotes.push(...(await childNotes(trx, round.children)));
    }
  }
  await countOccurrences(trx, occurrences);
  await resolveTickets(trx, resolves);
  // R-STORM-1: a resolved source releases its muted alerts; a parent resolves with its last child.
  const afterResolves = await afterStormResolves(
    trx,
    resolves.map((r) => r.ticketId),
    now,
  );
  psaOutbox.push(...afterResolves.psa);
  await addTicketNotes(trx, notes);
  // Issue 16: the PSA outbox, in this same transaction (R-PSA-1, R-PSA-2).
  psaOutbox.push(...(await recordNewTickets(trx, newTickets)));
  psaOutbox.push(...(await recordTicketChanges(trx, [...psaChanges([...occurrences, ...countedByInsert], resolves, notes, reopened), ...stormNotes])));
  await finishReceipts(trx, finishes);
}

/** "Child ticket #12 joined: Device offline (sw-01)" on the parent, one per child (folded into one PSA note per run). */
async function childNotes(trx: Knex.Transaction, children: ReadonlyArray<{ ticketId: string; parentId: string }>): Promise<DeliveryChange[]> {
  const titles = new Map(
    ((await trx('tickets').whereIn('id', children.map((c) => c.ticketId)).select('id', 'title')) as Array<{ id: string; title: string }>).map((r) => [String(r.id), r.title]),
  );
  return children.map((c) => ({ ticketId: c.parentId, notes: [{ title: 'Child ticket', body: `Child ticket #${c.ticketId} joined: ${titles.get(c.ticketId) ?? ''}` }] }));
}

/** The ticket changes of a round as PSA delivery changes: repeats counted, notes, resolutions and reopenings as state changes. */
function psaChanges(
  occurrences: ReadonlyArray<{ ticketId: string; at: Date }>,
  resolves: ReadonlyArray<{ ticketId: string; note: string }>,
  notes: ReadonlyArray<{ ticketId: string; kind: string; body: string }>,
  reopened: ReadonlySet<string>,
): DeliveryChange[] {
  const out: DeliveryChange[] = [];
  for (const o of occurrences) out.push({ ticketId: o.ticketId, occurrences: 1, since: o.at });
  for (const r of resolves) out.push({ ticketId: r.ticketId, notes: [{ title: 'Resolved', body: r.note }], changed: true });
  for (const n of notes) out.push({ ticketId: n.ticketId, notes: [{ title: noteTitle(n.kind), body: n.body }], changed: reopened.has(n.ticketId) });
  return out;
}

const noteTitle = (kind: string): string => (kind === 'flap' ? 'Fired again' : kind === 'alert-resolved' ? 'Resolved at the source' : 'Note');

/** The row of a new ticket: contract, service and SLA as assigned, priority, due dates in the SLA's business hours, the decision. */
async function newTicket(deps: PipelineDeps, trx: Knex.Transaction, w: Work, now: Date, refs: RefMemo): Promise<NewTicket> {
  const { decision } = w;
  const { company, device, deviceContract, defaultContract, date } = w.built;
  const alert = w.rc.alert;
  const chosen = await resolveAssignment(trx, decision, { company, deviceContract, defaultContract, date }, refs);
  const priority = priorityFor(alert.severity, decision.assignment.priority);
  const slaDef = chosen.slaId ? await deps.slas.get(trx, chosen.slaId) : undefined;
  const due = slaDef ? computeDueDates(slaDef, priority, now) : null;
  return {
    company_id: company?.id ?? null,
    device_id: device?.id ?? null,
    contract_id: chosen.contract?.contract_id ?? null,
    service_id: chosen.serviceId,
    sla_id: chosen.slaId,
    source: w.rc.source_name,
    dedup_key: alert.dedup_key,
    priority,
    queue: decision.assignment.queue,
    title: alert.title,
    description: ticketDescription(alert, w.rc.source_name),
    needs_triage: decision.needsTriage || !chosen.contract,
    first_occurred_at: alert.occurred_at,
    last_occurred_at: alert.occurred_at,
    first_response_due_at: due?.firstResponseDueAt ?? null,
    resolution_plan_due_at: due?.resolutionPlanDueAt ?? null,
    resolution_due_at: due?.resolutionDueAt ?? null,
    stale_after_minutes: decision.staleAfterMinutes ?? null,
    reopen_window_minutes: decision.reopenWindowMinutes ?? null,
    resolve_action: decision.resolveAction ?? 'resolve',
    decision: { ...w.record, chosen: { contractId: chosen.contract?.contract_id ?? null, via: chosen.via, serviceId: chosen.serviceId, slaId: chosen.slaId, notes: chosen.notes } },
    ruleset_version: decision.rulesetVersion,
  };
}
