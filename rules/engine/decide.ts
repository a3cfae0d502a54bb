import * as compiled from './compile';
import type { CompiledRule, CompiledRuleset, Slots, TextGroup, TraceNode } from './compile';
import type { Effect } from './events';
import * as ev from './evidence';
import type { ContractChoice, Decision, DecisionFacts, FiredRule, MatchedCondition, Priority } from './types';

// Module-local copies: under tsx (how `npm start` runs) every use of an imported binding is a
// getter call, which the hot path does not need.
const { MAX_SCAN_TEXT } = compiled;
const { MAX_MATCHED, evidenceOf } = ev;

/**
 * The one decision function: the worker, the dry run, the replay and the tests all call this
 * (a preview that runs other code than production is how previews lie). Synchronous, no
 * json-rules-engine run() — so no shared Engine status between concurrent decisions.
 *
 * Semantics (json-rules-engine's, made deterministic):
 * - rules run by priority, higher first; a priority level runs completely;
 * - a `stop` event skips every lower-priority rule (rules of its own priority still run);
 * - for each assignment field, the first event in that order that sets it wins;
 * - `suppress` makes the outcome `suppress` (the first reason wins).
 */

/** What a leaf that held saw: shared when known in advance, built otherwise. */
function evidence(node: Extract<TraceNode, { kind: 'leaf' }>, slots: Slots): MatchedCondition {
  if (node.fixedEvidence) return node.fixedEvidence;
  const factValue = slots[node.slot];
  return node.evidenceByValue?.get(factValue) ?? evidenceOf(node, factValue);
}

/** The leaf conditions that made a fired rule fire (the evidence kept on the ticket). */
function collectMatched(node: TraceNode, slots: Slots, negated: boolean, out: MatchedCondition[]): void {
  if (out.length >= MAX_MATCHED) return;
  switch (node.kind) {
    case 'leaf': {
      // pred, not test: a text search has already run (memoised).
      if (node.pred(slots) === negated) return;
      out.push(negated ? evidenceOf(node, slots[node.slot], true) : evidence(node, slots));
      return;
    }
    case 'not':
      collectMatched(node.child, slots, !negated, out);
      return;
    case 'all':
    case 'any': {
      // Which children carry the result: all of them for a held "all" / a failed "any";
      // the first that holds (fails) for an "any" ("all") under the given polarity.
      const every = (node.kind === 'all') !== negated;
      for (const child of node.children) {
        if (every) collectMatched(child, slots, negated, out);
        else if (child.pred(slots) !== negated) {
          collectMatched(child, slots, negated, out);
          return;
        }
      }
    }
  }
}

// Every field present from the start: one hidden class, monomorphic accesses.
interface Merge {
  contractSet: boolean;
  contract: ContractChoice;
  service: string | null;
  sla: string | null;
  priority: Priority | null;
  queue: string | null;
  suppress: string | undefined;
  holdOffSeconds: number | undefined;
  reopenWindowMinutes: number | undefined;
  staleAfterMinutes: number | undefined;
  resolveAction: 'resolve' | 'annotate' | undefined;
}

function apply(m: Merge, e: Effect): void {
  if (e.contract !== undefined && !m.contractSet) {
    m.contractSet = true;
    m.contract = e.contract;
  }
  if (e.service !== undefined && m.service === null) m.service = e.service;
  if (e.sla !== undefined && m.sla === null) m.sla = e.sla;
  if (e.priority !== undefined && m.priority === null) m.priority = e.priority;
  if (e.queue !== undefined && m.queue === null) m.queue = e.queue;
  if (e.suppress !== undefined && m.suppress === undefined) m.suppress = e.suppress;
  if (e.holdOffSeconds !== undefined && m.holdOffSeconds === undefined) m.holdOffSeconds = e.holdOffSeconds;
  if (e.reopenWindowMinutes !== undefined && m.reopenWindowMinutes === undefined) m.reopenWindowMinutes = e.reopenWindowMinutes;
  if (e.staleAfterMinutes !== undefined && m.staleAfterMinutes === undefined) m.staleAfterMinutes = e.staleAfterMinutes;
  if (e.resolveAction !== undefined && m.resolveAction === undefined) m.resolveAction = e.resolveAction;
}

/** Every (fact, path) the ruleset reads, resolved once. */
export function readSlots(ruleset: CompiledRuleset, facts: DecisionFacts): Slots {
  const { getters, memoSlots } = ruleset.plan;
  const n = getters.length;
  // Memo slots stay holes (read as undefined: not computed yet).
  const slots = new Array<unknown>(n + memoSlots);
  for (let i = 0; i < n; i++) slots[i] = (getters[i] as (f: DecisionFacts) => unknown)(facts);
  return slots;
}

/**
 * The candidate rules: the always-candidates (rules without an indexable equality) and the index
 * buckets these facts hit. Each list is sorted by rank, and they are disjoint.
 */
function candidateLists(ruleset: CompiledRuleset, slots: Slots): Array<readonly number[]> {
  const { groups, textGroups, unindexed, memoOffset } = ruleset.plan;
  const lists: Array<readonly number[]> = [unindexed];
  for (const g of groups) {
    const bucket = g.slot2 === -1 ? g.buckets.get(slots[g.slot]) : g.pairs.get(slots[g.slot])?.get(slots[g.slot2]);
    if (bucket) lists.push(bucket);
  }
  for (const g of textGroups) {
    const text = slots[g.testSlot];
    if (typeof text !== 'string') continue;
    const short = text.length <= MAX_SCAN_TEXT;
    if (short && g.scanner !== null) {
      scan(g, g.scanner, text, slots, memoOffset, lists);
      continue;
    }
    if (short && g.prefilter !== null && !g.prefilter.test(text)) continue;
    for (const e of g.entries) {
      const at = memoOffset + e.memo;
      let hit = slots[at] as boolean | undefined;
      if (hit === undefined) {
        hit = e.test(text);
        slots[at] = hit;
      }
      if (hit) lists.push(e.rules);
    }
  }
  return lists;
}

/** Marks (memo slot = true) and lists every needle of the group that `text` contains. */
function scan(g: TextGroup, scanner: NonNullable<TextGroup['scanner']>, text: string, slots: Slots, memoOffset: number, lists: Array<readonly number[]>): void {
  const { re, entryOf, inside } = scanner;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const index = entryOf.get(m[0]);
    if (index !== undefined) {
      hitNeedle(g, index, slots, memoOffset, lists);
      const within = inside[index];
      if (within) for (let k = 0; k < within.length; k++) hitNeedle(g, within[k] as number, slots, memoOffset, lists);
    }
    re.lastIndex = m.index + 1;
  }
}

// A plain function, not a closure made per decision (tsx wraps every closure in a naming call).
function hitNeedle(g: TextGroup, index: number, slots: Slots, memoOffset: number, lists: Array<readonly number[]>): void {
  const e = g.entries[index];
  if (!e) return;
  const at = memoOffset + e.memo;
  if (slots[at] === true) return;
  slots[at] = true;
  lists.push(e.rules);
}

/** The candidate rules for these facts, in evaluation order (ranks ascending). */
export function candidates(ruleset: CompiledRuleset, facts: DecisionFacts): number[] {
  return [...new Set(candidateLists(ruleset, readSlots(ruleset, facts)).flat())].sort((a, b) => a - b);
}

/**
 * Rules that fire for these facts, in order, honouring `stop`. Conditions have no side effects,
 * so the candidates are evaluated list by list (no merge) and only the few that fired are put in
 * order; a `stop` then cuts every fired rule of lower priority than the first stop — exactly the
 * rules json-rules-engine would not have run.
 */
export function firedRules(ruleset: CompiledRuleset, facts: DecisionFacts, slots: Slots = readSlots(ruleset, facts)): CompiledRule[] {
  const { rules } = ruleset.plan;
  const fired: CompiledRule[] = [];
  let anyStop = false;
  for (const list of candidateLists(ruleset, slots)) {
    for (let i = 0; i < list.length; i++) {
      const rule = rules[list[i] as number] as CompiledRule;
      if (rule.pred(slots)) {
        fired.push(rule);
        if (rule.effect.stop) anyStop = true;
      }
    }
  }
  if (fired.length > 1) {
    // Insertion sort: a handful of rules, mostly in order already (lists are sorted).
    for (let i = 1; i < fired.length; i++) {
      const r = fired[i] as CompiledRule;
      let j = i - 1;
      while (j >= 0 && (fired[j] as CompiledRule).rank > r.rank) {
        fired[j + 1] = fired[j] as CompiledRule;
        j--;
      }
      fired[j + 1] = r;
    }
    // A rule reached through two text searches that both held fired twice: keep one.
    for (let i = fired.length - 1; i > 0; i--) if (fired[i] === fired[i - 1]) fired.splice(i, 1);
  }
  if (!anyStop) return fired;
  const stop = fired.find((r) => r.effect.stop);
  return stop ? fired.filter((r) => r.priority >= stop.priority) : fired;
}

function resolvesToContract(choice: ContractChoice, facts: DecisionFacts): boolean {
  if (choice === null) return false;
  if (choice === 'device') return facts.deviceContract !== null;
  if (choice === 'default') return facts.defaultContract !== null;
  return true;
}

export function decide(ruleset: CompiledRuleset, facts: DecisionFacts): Decision {
  const slots = readSlots(ruleset, facts);
  const fired = firedRules(ruleset, facts, slots);
  const m: Merge = {
    contractSet: false,
    contract: null,
    service: null,
    sla: null,
    priority: null,
    queue: null,
    suppress: undefined,
    holdOffSeconds: undefined,
    reopenWindowMinutes: undefined,
    staleAfterMinutes: undefined,
    resolveAction: undefined,
  };
  const rulesFired: FiredRule[] = [];
  let link: Decision['link'];
  for (const rule of fired) {
    apply(m, rule.effect);
    if (rule.effect.link && link === undefined) link = { contract: rule.effect.link.contract, service: rule.effect.link.service ?? null, rule: rule.name };
    if (rule.fixedFired) {
      rulesFired.push(rule.fixedFired);
      continue;
    }
    const matched: MatchedCondition[] = [];
    const leaves = rule.allLeaves;
    if (leaves && leaves.length <= MAX_MATCHED) for (let i = 0; i < leaves.length; i++) matched.push(evidence(leaves[i] as (typeof leaves)[number], slots));
    else collectMatched(rule.tree, slots, false, matched);
    rulesFired.push({ name: rule.name, priority: rule.priority, file: rule.file, event: rule.event, matched });
  }
  const decision: Decision = {
    outcome: m.suppress === undefined ? 'ticket' : 'suppress',
    assignment: { contract: m.contract, service: m.service, sla: m.sla, priority: m.priority, queue: m.queue },
    needsTriage: !resolvesToContract(m.contract, facts),
    rulesFired,
    rulesetVersion: ruleset.version,
    contentHash: ruleset.contentHash,
  };
  if (m.suppress !== undefined) decision.suppressReason = m.suppress;
  if (m.holdOffSeconds !== undefined) decision.holdOffSeconds = m.holdOffSeconds;
  if (m.reopenWindowMinutes !== undefined) decision.reopenWindowMinutes = m.reopenWindowMinutes;
  if (m.staleAfterMinutes !== undefined) decision.staleAfterMinutes = m.staleAfterMinutes;
  if (m.resolveAction !== undefined) decision.resolveAction = m.resolveAction;
  if (link !== undefined) decision.link = link;
  return decision;
}
