import type { Knex } from 'knex';
import { groupStep, type GroupCandidate } from '../../core/storms/group';
import { releaseEffect } from '../../core/storms/inhibit';
import { groupParentDedupKey, groupTitle, stormKey } from '../../core/storms/storm-key';
import { stormEffect, type StormEffect } from '../../core/storms/storm-effect';
import type { TicketEffect } from '../../core/tickets/receipt-effect';
import { insertTicketsOrCount, resolveTickets, addTicketNotes, type WorkAlert } from '../../db/queries/alert-batch';
import type { NewTicket } from '../../db/queries/alert-processing';
import {
  assignStormGroups,
  attachRelated,
  countRelated,
  findStormGroup,
  firingRelatedForKeys,
  groupCandidates,
  lockStormGroups,
  markRelatedReleased,
  openInhibitSources,
  openParents,
  parentsWithoutOpenChildren,
  refreshParents,
  registerInhibitSources,
  resolveRelated,
  setGroupParents,
  stormsOfResolved,
  type InhibitSourceRow,
  type StormGroupLock,
} from '../../db/queries/storms';
import { fieldValues, stormRulesOf, type CompiledGroupRule, type CompiledInhibitRule, type StormRules } from '../../rules/engine/storm-rules';
import type { Assignment, DecisionFacts } from '../../rules/engine/types';
import type { PipelineDeps } from './deps';
import { recordNewTickets, recordTicketChanges, type DeliveryRef } from '../psa/outbox';

/**
 * Alert storms in the worker (R-STORM-1, issue 18): inhibition and grouping around the ticket
 * state machine, for one job's receipts (one transaction). apply-receipts.ts calls it at four
 * points and otherwise works as before:
 *
 * 1. {@link StormBatch.begin} — which storm rules each receipt matches; locks the rows of the
 *    groups the job's firing alerts may join (in (rule, key) order, before any ticket: every
 *    worker locks receipts → devices → groups → tickets, so concurrent jobs wait, not deadlock).
 * 2. {@link StormBatch.lockRound} — before the round's tickets are locked: the firing related
 *    attachments of its keys (FOR UPDATE); {@link StormBatch.beginRound} — after: the open
 *    sources its targets may be muted by (FOR SHARE), the open parents of its groups (FOR
 *    UPDATE) and their candidates.
 * 3. Per receipt: {@link StormBatch.effectFor} (core/storms decides), then for a new ticket
 *    {@link StormBatch.attach} (muted) or {@link StormBatch.planGroup}.
 * 4. {@link StormBatch.finishRound} after the round's tickets are inserted (attachments, parents,
 *    children, sources), {@link StormBatch.afterResolves} after its resolutions (still-firing
 *    targets of a resolved source open their tickets; a parent whose last child resolved resolves).
 *
 * Storms never cross companies: the company is part of every equal and group key.
 *
 * One file over 300 lines on purpose: the four points share one batch's state (matched rules,
 * locked groups, planned parents) and their lock order; split, the order would be spread over files.
 */

export interface StormItem {
  id: string;
  alert: WorkAlert;
  facts: DecisionFacts;
  companyId: string | null;
}

interface SourceMatch {
  rule: CompiledInhibitRule;
  equalKey: string;
  matchesTarget: boolean;
}
interface TargetMatch {
  rule: CompiledInhibitRule;
  equalKey: string;
  matchesSource: boolean;
}
interface GroupMatch {
  rule: CompiledGroupRule;
  groupKey: string;
  values: Record<string, unknown>;
}
interface Matches {
  item: StormItem;
  sources: SourceMatch[];
  targets: TargetMatch[];
  group: GroupMatch | null;
}

/** A round's state of one group: what the database said, and what this round decided so far. */
interface GroupState {
  match: GroupMatch;
  lock: StormGroupLock;
  openParentId: string | null;
  /** The receipt whose alert opens the parent this round (its facts make the parent ticket). */
  opener: string | null;
  candidates: Array<GroupCandidate & { kind: 'db' | 'round' }>;
  /** Receipts (`round:<id>`) and tickets (`db:<id>`) that become children. */
  children: string[];
  /** Receipts of this round that stay candidates. */
  roundCandidates: string[];
}

/** What a round did that the PSA outbox needs (issue 18 item 3): parents it opened, tickets it put under a parent. */
export interface StormRoundResult {
  parents: Array<{ ticketId: string; opener: string; ticket: NewTicket }>;
  children: Array<{ ticketId: string; parentId: string }>;
}

export type StormOutcomeCallback = (receiptId: string, outcome: 'inhibited', ticketId: string) => void;

const groupId = (rule: string, key: string): string => `${rule}\u0000${key}`;

export class StormBatch {
  private readonly matches = new Map<string, Matches>();
  private groups = new Map<string, StormGroupLock>();
  // Per round:
  private related = new Map<string, { id: string; ticketId: string }>();
  private sources: InhibitSourceRow[] = [];
  private roundGroups = new Map<string, GroupState>();
  private counts: Array<{ id: string; at: Date }> = [];
  private resolves: Array<{ id: string; at: Date }> = [];
  private inhibited = new Map<string, { source: InhibitSourceRow; rule: CompiledInhibitRule; ticket: NewTicket; at: Date }>();
  /** Receipt id → number of tickets it put under a parent (for hub_alerts_grouped_total). */
  readonly grouped = new Map<string, number>();

  private constructor(private readonly rules: StormRules) {}

  /** Null when the live ruleset has no enabled storm rule: the worker then does exactly what it did before. */
  static async begin(deps: Pick<PipelineDeps, 'rules'>, trx: Knex.Transaction, items: readonly StormItem[]): Promise<StormBatch | null> {
    const ruleset = deps.rules.current?.() ?? null;
    if (!ruleset) return null;
    const rules = stormRulesOf(ruleset);
    if (rules.inhibit.length === 0 && rules.group.length === 0) return null;
    const batch = new StormBatch(rules);
    const toLock: Array<{ rule: string; groupKey: string; keyValues: Record<string, unknown> }> = [];
    for (const item of items) {
      const m = batch.match(item);
      batch.matches.set(item.id, m);
      if (m.group && item.alert.state === 'firing') toLock.push({ rule: m.group.rule.def.name, groupKey: m.group.groupKey, keyValues: m.group.values });
    }
    batch.groups = await lockStormGroups(trx, toLock);
    return batch;
  }

  /** Which storm rules an alert matches, and with which values: pure over its facts. */
  private match(item: StormItem): Matches {
    return matchStormRules(this.rules, item);
  }

  /** Receipts whose alerts may mute others go first in a round, so the same job's targets find them. */
  isSource(receiptId: string): boolean {
    return (this.matches.get(receiptId)?.sources.length ?? 0) > 0;
  }

  /**
   * Before the round's tickets are locked: the firing attachments of its keys, locked. This order
   * matters: a source's resolution locks its ticket, then its attachments, then opens their
   * tickets; an alert's resolve that waited here for it reads the tickets only afterwards, so it
   * sees (and resolves) the ticket the release just opened.
   */
  async lockRound(trx: Knex.Transaction, receiptIds: readonly string[]): Promise<void> {
    this.related = new Map();
    this.sources = [];
    this.roundGroups = new Map();
    this.counts = [];
    this.resolves = [];
    this.inhibited = new Map();
    const ms = receiptIds.map((id) => this.matches.get(id)).filter((m): m is Matches => m !== undefined);
    this.related = await firingRelatedForKeys(
      trx,
      ms.map((m) => m.item.alert.dedup_key),
      { lock: true },
    );
  }

  /** After the round's tickets are locked: what its decisions depend on (see the module comment). */
  async beginRound(trx: Knex.Transaction, receiptIds: readonly string[]): Promise<void> {
    const ms = receiptIds.map((id) => this.matches.get(id)).filter((m): m is Matches => m !== undefined);
    const pairs = ms.filter((m) => m.item.alert.state === 'firing').flatMap((m) => m.targets.map((t) => ({ rule: t.rule.def.name, equalKey: t.equalKey })));
    this.sources = await openInhibitSources(trx, pairs, { lock: true });

    const states = new Map<string, GroupState>();
    for (const m of ms) {
      if (!m.group || m.item.alert.state !== 'firing') continue;
      const lock = this.groups.get(groupId(m.group.rule.def.name, m.group.groupKey));
      if (!lock || states.has(lock.id)) continue;
      states.set(lock.id, { match: m.group, lock, openParentId: null, opener: null, candidates: [], children: [], roundCandidates: [] });
    }
    if (states.size === 0) return;
    const parents = [...states.values()].map((s) => s.lock.parentTicketId).filter((p): p is string => p !== null);
    const open = await openParents(trx, parents, { lock: true });
    const candidates = await groupCandidates(trx, [...states.keys()]);
    for (const [id, s] of states) {
      s.openParentId = s.lock.parentTicketId !== null && open.has(s.lock.parentTicketId) ? s.lock.parentTicketId : null;
      s.candidates = (candidates.get(id) ?? []).map((c) => ({ ref: `db:${c.ticketId}`, firstOccurredAt: c.firstOccurredAt, kind: 'db' as const }));
      this.roundGroups.set(id, s);
    }
  }

  /** What storms make of the state machine's answer for this receipt (core/storms/storm-effect.ts). */
  effectFor(receiptId: string, base: TicketEffect): StormEffect {
    const m = this.matches.get(receiptId);
    if (!m) return { kind: 'none' };
    const related = this.related.get(m.item.alert.dedup_key) ?? null;
    const targetRules = new Set(m.targets.map((t) => t.rule.def.name));
    const effect = stormEffect({
      base,
      related,
      targets: m.targets.map((t) => ({ rule: t.rule.def.name, dedupKey: m.item.alert.dedup_key, matchesSource: t.matchesSource })),
      sources: this.sources
        .filter((s) => targetRules.has(s.rule) && m.targets.some((t) => t.rule.def.name === s.rule && t.equalKey === s.equalKey))
        .map((s) => ({ ticketId: s.ticketId, rule: s.rule, dedupKey: s.dedupKey, matchesTarget: s.matchesTarget })),
    });
    const at = m.item.alert.occurred_at;
    if (effect.kind === 'count-related') this.counts.push({ id: effect.relatedId, at });
    if (effect.kind === 'resolve-related') this.resolves.push({ id: effect.relatedId, at });
    return effect;
  }

  /** The receipt is muted by `source`: attached to its ticket in finishRound; `ticket` is what it opens if the source resolves first. */
  attach(receiptId: string, effect: Extract<StormEffect, { kind: 'inhibit' }>, ticket: NewTicket): void {
    const m = this.matches.get(receiptId);
    const target = m?.targets.find((t) => t.rule.def.name === effect.source.rule);
    const row = this.sources.find((s) => s.ticketId === effect.source.ticketId && s.rule === effect.source.rule);
    if (!m || !target || !row) throw new Error(`storm: receipt ${receiptId} muted by an unknown source`);
    this.inhibited.set(receiptId, { source: row, rule: target.rule, ticket, at: m.item.alert.occurred_at });
  }

  /** A receipt about to open a ticket: joins its group's parent, opens the parent, or stays a candidate (core/storms/group.ts). */
  planGroup(receiptId: string, ticket: NewTicket): void {
    const m = this.matches.get(receiptId);
    if (!m?.group) return;
    const lock = this.groups.get(groupId(m.group.rule.def.name, m.group.groupKey));
    const s = lock ? this.roundGroups.get(lock.id) : undefined;
    if (!s) return;
    const rule = m.group.rule.def;
    const adopted = new Set(s.children);
    const step = groupStep({
      moreThan: rule.moreThan,
      withinSeconds: rule.withinSeconds,
      openParentId: s.openParentId ?? (s.opener !== null ? 'new' : null),
      occurredAt: ticket.first_occurred_at,
      candidates: s.candidates.filter((c) => !adopted.has(c.ref)),
    });
    const ref = `round:${receiptId}`;
    if (step.kind === 'candidate') {
      s.candidates.push({ ref, firstOccurredAt: ticket.first_occurred_at, kind: 'round' });
      s.roundCandidates.push(receiptId);
      return;
    }
    if (step.kind === 'open-parent') {
      s.opener = receiptId;
      for (const c of step.adopt) s.children.push(c.ref);
    }
    s.children.push(ref);
  }

  /**
   * The round's storm writes, after its tickets were inserted (`created`: per dedup key the ticket
   * and whether this round created it). `parentTicket` builds a parent from the opener's facts
   * with the group rule's assignment.
   */
  async finishRound(
    trx: Knex.Transaction,
    created: ReadonlyMap<string, { id: string; created: boolean }>,
    parentTicket: (receiptId: string, assignment: Partial<Assignment>) => Promise<NewTicket>,
    finish: StormOutcomeCallback,
  ): Promise<StormRoundResult> {
    const result: StormRoundResult = { parents: [], children: [] };
    await countRelated(trx, this.counts);
    await resolveRelated(trx, this.resolves);

    // Muted alerts: attached to their sources' tickets (or counted on an attachment made meanwhile).
    const inhibited = [...this.inhibited.entries()];
    const on = await attachRelated(
      trx,
      inhibited.map(([, x]) => ({
        ticketId: x.source.ticketId,
        rule: x.source.rule,
        dedupKey: x.ticket.dedup_key,
        alertId: this.alertIdOf(x.ticket.dedup_key),
        title: x.ticket.title,
        whenSourceResolves: x.rule.def.whenSourceResolves,
        at: x.at,
        pendingTicket: x.ticket,
      })),
    );
    for (const [receiptId, x] of inhibited) finish(receiptId, 'inhibited', on.get(x.ticket.dedup_key) ?? x.source.ticketId);

    // Groups: parents first, then their children and candidates.
    const ticketOf = (receiptId: string): string | null => {
      const m = this.matches.get(receiptId);
      const c = m ? created.get(m.item.alert.dedup_key) : undefined;
      return c?.created ? c.id : null;
    };
    const newParents: Array<{ state: GroupState; ticket: NewTicket }> = [];
    for (const s of this.roundGroups.values()) {
      if (s.opener === null) continue;
      const rule = s.match.rule.def;
      const base = await parentTicket(s.opener, {
        contract: rule.contract === 'none' ? null : rule.contract === 'default' || rule.contract === 'device' ? rule.contract : { ref: rule.contract },
        service: rule.service,
        sla: rule.sla,
        ...(rule.priority ? { priority: rule.priority } : {}),
        ...(rule.queue ? { queue: rule.queue } : {}),
      });
      newParents.push({ state: s, ticket: this.asParent(base, s) });
    }
    const parentRows = await insertTicketsOrCount(
      trx,
      newParents.map((p) => p.ticket),
    );
    const parentIds: Array<{ groupId: string; parentId: string }> = [];
    for (const p of newParents) {
      const row = parentRows.get(p.ticket.dedup_key);
      if (!row) throw new Error(`parent insert returned no row for ${p.ticket.dedup_key}`);
      p.state.openParentId = row.id;
      if (row.created) result.parents.push({ ticketId: row.id, opener: p.state.opener!, ticket: p.ticket });
      parentIds.push({ groupId: p.state.lock.id, parentId: row.id });
      // Later rounds of this job see the parent without asking again.
      p.state.lock.parentTicketId = row.id;
    }
    await setGroupParents(trx, parentIds);

    const assign: Array<{ ticketId: string; groupId: string; parentId: string | null }> = [];
    const byTicket = new Map<string, string>();
    const refresh: Array<{ parentId: string; titleTemplate: string; at: Date }> = [];
    for (const s of this.roundGroups.values()) {
      const gid = s.lock.id;
      for (const receiptId of s.roundCandidates) {
        const t = ticketOf(receiptId);
        if (t) assign.push({ ticketId: t, groupId: gid, parentId: null });
      }
      if (s.children.length === 0 || s.openParentId === null) continue;
      const credit = s.opener ?? s.children.find((c) => c.startsWith('round:'))?.slice(6) ?? null;
      for (const ref of s.children) {
        const t = ref.startsWith('db:') ? ref.slice(3) : ticketOf(ref.slice(6));
        if (!t) continue;
        assign.push({ ticketId: t, groupId: gid, parentId: s.openParentId });
        const receipt = ref.startsWith('round:') ? ref.slice(6) : credit;
        if (receipt) byTicket.set(t, receipt);
      }
      const latest = s.candidates.reduce<Date | null>((a, c) => (a === null || c.firstOccurredAt > a ? c.firstOccurredAt : a), null);
      refresh.push({ parentId: s.openParentId, titleTemplate: groupTitle(s.match.rule.def.title, s.match.values, null), at: latest ?? new Date(0) });
    }
    const children = await assignStormGroups(trx, assign);
    const parentOf = new Map(assign.filter((a) => a.parentId !== null).map((a) => [a.ticketId, a.parentId!]));
    for (const t of children) {
      const parentId = parentOf.get(t);
      if (parentId) result.children.push({ ticketId: t, parentId });
    }
    for (const t of children) {
      const receipt = byTicket.get(t);
      if (receipt) this.grouped.set(receipt, (this.grouped.get(receipt) ?? 0) + 1);
    }
    await refreshParents(trx, refresh);

    // Tickets opened by alerts that match a source side: they may mute later targets.
    const sources: Array<{ ticketId: string; rule: string; equalKey: string; matchesTarget: boolean }> = [];
    for (const m of this.matches.values()) {
      if (m.sources.length === 0 || m.item.alert.state !== 'firing') continue;
      const t = created.get(m.item.alert.dedup_key);
      if (!t?.created) continue;
      for (const s of m.sources) sources.push({ ticketId: t.id, rule: s.rule.def.name, equalKey: s.equalKey, matchesTarget: s.matchesTarget });
    }
    await registerInhibitSources(trx, sources);
    return result;
  }

  private alertIdOf(dedupKey: string): string {
    for (const m of this.matches.values()) if (m.item.alert.dedup_key === dedupKey) return m.item.alert.id;
    throw new Error(`storm: no alert for ${dedupKey}`);
  }

  private asParent(base: NewTicket, s: GroupState): NewTicket {
    const rule = s.match.rule.def;
    const by = Object.entries(s.match.values)
      .map(([k, v]) => `${k} = ${v === null ? 'unknown' : String(v)}`)
      .join(', ');
    return {
      ...base,
      device_id: null,
      dedup_key: groupParentDedupKey(rule.name, s.match.groupKey),
      title: groupTitle(rule.title, s.match.values, null),
      description: `Parent incident of group rule "${rule.name}": more than ${rule.moreThan} alerts with ${by} within ${rule.withinSeconds} s. Its children are listed on it; it resolves when the last of them does.`,
      stale_after_minutes: null,
      reopen_window_minutes: null,
      resolve_action: 'resolve',
      decision: { storm: { group: rule.name, file: rule.file, by: s.match.values }, ...(isObject(base.decision) ? { chosen: base.decision.chosen } : {}) },
    };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Which storm rules an alert matches (pure over its facts); the company is part of every key. */
export function matchStormRules(rules: StormRules, item: StormItem): Matches {
  const sources: SourceMatch[] = [];
  const targets: TargetMatch[] = [];
  for (const rule of rules.inhibit) {
    const isSource = rule.source(item.facts);
    const isTarget = rule.target(item.facts);
    if (!isSource && !isTarget) continue;
    const { values } = fieldValues(rule.def.equal, rule.equal, item.facts);
    const equalKey = stormKey([item.companyId, ...values]);
    if (isSource) sources.push({ rule, equalKey, matchesTarget: isTarget });
    if (isTarget) targets.push({ rule, equalKey, matchesSource: isSource });
  }
  let group: GroupMatch | null = null;
  for (const rule of rules.group) {
    if (!rule.match(item.facts)) continue;
    const { values, byPath } = fieldValues(rule.def.by, rule.by, item.facts);
    group = { rule, groupKey: stormKey([item.companyId, ...values]), values: byPath };
    break;
  }
  return { item, sources, targets, group };
}

/**
 * After the round's resolutions: the still-firing targets of each resolved source open their own
 * tickets (or stay attached, per rule), and parents whose last open child resolved resolve.
 * Returns the receipts-independent counts for the log.
 */
export async function afterStormResolves(
  trx: Knex.Transaction,
  resolvedTicketIds: readonly string[],
  at: Date,
): Promise<{ released: number; parentsResolved: number; psa: DeliveryRef[] }> {
  if (resolvedTicketIds.length === 0) return { released: 0, parentsResolved: 0, psa: [] };
  const { related: firing, parents } = await stormsOfResolved(trx, resolvedTicketIds);
  const toOpen = firing.filter((r) => releaseEffect(r.whenSourceResolves).kind === 'open-ticket' && r.pendingTicket !== null);
  const opened = await insertTicketsOrCount(
    trx,
    toOpen.map((r) => ({ ...r.pendingTicket!, first_occurred_at: r.firstOccurredAt, last_occurred_at: r.lastOccurredAt })),
  );
  const released: Array<{ id: string; ticketId: string }> = [];
  const notes: Array<{ ticketId: string; kind: string; body: string }> = [];
  const newTickets: Array<{ ticketId: string; companyId: string | null; companyName: null; priority: NewTicket['priority']; deliver: undefined }> = [];
  for (const r of toOpen) {
    const t = opened.get(r.dedupKey);
    if (!t) continue;
    released.push({ id: r.id, ticketId: t.id });
    if (t.created) newTickets.push({ ticketId: t.id, companyId: r.pendingTicket!.company_id, companyName: null, priority: r.pendingTicket!.priority, deliver: undefined });
    notes.push({ ticketId: t.id, kind: 'storm', body: `Opened when ticket #${r.ticketId} resolved: this alert was inhibited by it (rule "${r.rule}") since ${r.firstOccurredAt.toISOString()} and still fires.` });
  }
  await markRelatedReleased(trx, released);
  await addTicketNotes(trx, notes);

  const locked = await openParents(trx, parents, { lock: true });
  const empty = await parentsWithoutOpenChildren(trx, [...locked]);
  const parentNote = 'Resolved automatically: the last of its child tickets resolved.';
  await resolveTickets(
    trx,
    empty.map((id) => ({ ticketId: id, at, note: parentNote })),
  );
  // Issue 16: the PSAs hear of both, in this same transaction — a released target's new ticket is
  // delivered like any new ticket, a parent's resolution closes its PSA ticket.
  const psa = [
    ...(await recordNewTickets(trx, newTickets)),
    ...(await recordTicketChanges(trx, empty.map((id) => ({ ticketId: id, notes: [{ title: 'Resolved', body: parentNote }], changed: true })))),
  ];
  return { released: released.length, parentsResolved: empty.length, psa };
}

/** What the dry run says about storms (R-RUL-4 with R-STORM-1): the worker's own matching and decisions, read only. */
export interface StormPreview {
  /** The firing source ticket that would mute this alert. */
  inhibitedBy: { ticketId: string; rule: string } | null;
  /** The alert is already attached to a source's ticket as a related alert. */
  relatedTo: { ticketId: string } | null;
  group: {
    rule: string;
    by: Record<string, unknown>;
    openParentTicketId: string | null;
    /** Open tickets of the group without a parent within the window (the alert not counted). */
    candidatesInWindow: number;
    moreThan: number;
    withinSeconds: number;
    /** What joining does: a child of the open parent, opening the parent now, or an ordinary ticket. */
    step: 'join' | 'open-parent' | 'candidate';
  } | null;
  /** The same in words, for the trace: "would be inhibited by ticket #…", "would join group …". */
  says: string[];
}

export async function previewStorms(
  trx: Knex.Transaction,
  ruleset: { readonly source: Parameters<typeof stormRulesOf>[0]['source'] },
  item: StormItem,
  base: TicketEffect,
): Promise<StormPreview> {
  const preview: StormPreview = { inhibitedBy: null, relatedTo: null, group: null, says: [] };
  const rules = stormRulesOf(ruleset);
  if (rules.inhibit.length === 0 && rules.group.length === 0) return preview;
  const m = matchStormRules(rules, item);
  const related = (await firingRelatedForKeys(trx, [item.alert.dedup_key], { lock: false })).get(item.alert.dedup_key) ?? null;
  const sources = await openInhibitSources(
    trx,
    m.targets.map((t) => ({ rule: t.rule.def.name, equalKey: t.equalKey })),
    { lock: false },
  );
  const effect = stormEffect({
    base,
    related,
    targets: m.targets.map((t) => ({ rule: t.rule.def.name, dedupKey: item.alert.dedup_key, matchesSource: t.matchesSource })),
    sources: sources
      .filter((s) => m.targets.some((t) => t.rule.def.name === s.rule && t.equalKey === s.equalKey))
      .map((s) => ({ ticketId: s.ticketId, rule: s.rule, dedupKey: s.dedupKey, matchesTarget: s.matchesTarget })),
  });
  if (effect.kind === 'inhibit') {
    preview.inhibitedBy = { ticketId: effect.source.ticketId, rule: effect.source.rule };
    preview.says.push(`would be inhibited by ticket #${effect.source.ticketId} (inhibit rule "${effect.source.rule}"): attached to it as a related alert, no ticket of its own`);
    return preview;
  }
  if (effect.kind === 'count-related' || effect.kind === 'resolve-related') {
    preview.relatedTo = { ticketId: effect.ticketId };
    preview.says.push(
      effect.kind === 'count-related'
        ? `already a related alert of ticket #${effect.ticketId}: would be counted there`
        : `a related alert of ticket #${effect.ticketId}: would be marked resolved there`,
    );
    return preview;
  }
  if (base.kind === 'create' && m.group) {
    const def = m.group.rule.def;
    const row = await findStormGroup(trx, def.name, m.group.groupKey);
    const open = row?.parentTicketId ? await openParents(trx, [row.parentTicketId], { lock: false }) : new Set<string>();
    const openParentTicketId = row?.parentTicketId && open.has(row.parentTicketId) ? row.parentTicketId : null;
    const candidates = row ? ((await groupCandidates(trx, [row.id])).get(row.id) ?? []) : [];
    const list = candidates.map((c) => ({ ref: c.ticketId, firstOccurredAt: c.firstOccurredAt }));
    const step = groupStep({ moreThan: def.moreThan, withinSeconds: def.withinSeconds, openParentId: openParentTicketId, occurredAt: item.alert.occurred_at, candidates: list });
    const inWin = list.filter((c) => Math.abs(c.firstOccurredAt.getTime() - item.alert.occurred_at.getTime()) <= def.withinSeconds * 1000).length;
    preview.group = { rule: def.name, by: m.group.values, openParentTicketId, candidatesInWindow: inWin, moreThan: def.moreThan, withinSeconds: def.withinSeconds, step: step.kind };
    const label = `group "${def.name}" (${Object.entries(m.group.values)
      .map(([k, v]) => `${k} = ${v === null ? 'unknown' : String(v)}`)
      .join(', ')})`;
    preview.says.push(
      step.kind === 'join'
        ? `would join ${label} as a child of parent ticket #${openParentTicketId}`
        : step.kind === 'open-parent'
          ? `would join ${label} and open its parent incident: ${inWin + 1} alerts within ${def.withinSeconds} s is more than ${def.moreThan}`
          : `would join ${label} as candidate ${inWin + 1} of more than ${def.moreThan} within ${def.withinSeconds} s (an ordinary ticket until the parent opens)`,
    );
  }
  return preview;
}
