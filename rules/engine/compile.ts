import type { Effect } from './events';
import { compileOperator, isTextOperator, type Test, type TextOperator } from './operators';
import { deepFreeze, evidenceOf, MAX_MATCHED } from './evidence';
import type { RuleIssue, DecisionFacts, FactName, FiredRule, MatchedCondition, RuleEvent } from './types';
import type { ConditionNode, SharedConditionDef, ValidatedRuleset } from './validate';

/**
 * Compiles a validated ruleset, once, into what `decide` runs per alert (json-rules-engine runs
 * every rule for every alert; at 1,000 rules that is the difference between tens and a hundred
 * thousand decisions a second):
 * - every (fact, path) the rules read becomes a slot, resolved once per alert;
 * - each condition becomes a closure over the slots; text searches are memoised per alert;
 * - rules are indexed by the equalities they cannot fire without (company code, category,
 *   source, device role, …: one key, or the most selective pair), and rules without one by the
 *   text they must contain, so an alert evaluates only its candidate rules;
 * - evidence (which conditions held) known in advance is built once and shared.
 * json-rules-engine stays the reference: explain.ts, and the differential test that holds both
 * to the same events in the same order.
 *
 * One piece (about 590 lines): the condition compiler, the candidate index and the event compiler
 * share the compiled rule's representation; a differential property test holds the whole against
 * json-rules-engine.
 */

export type Getter = (facts: DecisionFacts) => unknown;
/**
 * The values of every (fact, path) the ruleset reads, resolved once per decision: a condition
 * reads its slot instead of walking the facts again (most rules read the same few properties).
 */
export type Slots = unknown[];
export type Pred = (slots: Slots) => boolean;

/** The evaluated tree of a rule, kept to say which conditions held when it fired. */
export type TraceNode =
  | { kind: 'all' | 'any'; pred: Pred; children: TraceNode[] }
  | { kind: 'not'; pred: Pred; child: TraceNode }
  /** `slot` holds the fact value; `testSlot` what `test` takes (the lower-cased text, for text operators). */
  | {
      kind: 'leaf';
      pred: Pred;
      slot: number;
      testSlot: number;
      test: Test;
      fact: FactName;
      path?: string;
      operator: string;
      value: unknown;
      /** An undecorated text search: indexable, and memoised in memo slot `memo`. */
      text?: { op: TextOperator; needle: string; memo: number };
      /** The evidence when it held, if the value it saw is implied (`equal`). */
      fixedEvidence?: Readonly<MatchedCondition>;
      /** The evidence by the value it saw, if that is one of a few (`in`). */
      evidenceByValue?: Map<unknown, Readonly<MatchedCondition>>;
    };

export interface CompiledRule {
  /** Position in evaluation order: priority (higher first), then file name order, then order in the file. */
  rank: number;
  name: string;
  priority: number;
  file: string;
  event: RuleEvent;
  effect: Effect;
  pred: Pred;
  tree: TraceNode;
  /** When the tree is only "all"s and conditions, the conditions: all of them held if it fired. */
  allLeaves: Array<Extract<TraceNode, { kind: 'leaf' }>> | null;
  /** The whole FiredRule entry, when its evidence is known in advance (shared, frozen). */
  fixedFired: Readonly<FiredRule> | null;
}

/**
 * Rules under one key (`slot2` = -1: a fact value → ranks) or under a pair of keys (a value of
 * `slot`, then a value of `slot2` → ranks), when a rule has two equalities ("company ACME and
 * category backup"): the pair narrows the candidates to the rules that can really fire.
 */
export interface IndexGroup {
  slot: number;
  slot2: number;
  buckets: Map<unknown, number[]>;
  pairs: Map<unknown, Map<unknown, number[]>>;
}

const MAX_PAIR_COMBINATIONS = 64;

/**
 * Rules without an indexable equality that cannot fire unless some text search holds ("title
 * contains 'veeam'"): each distinct search runs once per decision (memoised, shared with the
 * conditions themselves) and, when it holds, makes its rules candidates. One RegExp of all the
 * needles (escaped literals: nothing to backtrack on) rules them all out at once for most alerts.
 */
export interface TextGroup {
  testSlot: number;
  prefilter: RegExp | null;
  entries: Array<{ memo: number; test: Test; rules: number[] }>;
  /**
   * For "containsText": one scan finds every needle the text contains. A global RegExp of the
   * needles, longest first, is run from every position where a match starts + 1; a needle found
   * also implies the needles inside it (`inside`). Null: too many needles, test each.
   */
  scanner: { re: RegExp; entryOf: Map<string, number>; inside: number[][] } | null;
}

/**
 * Texts longer than this are searched needle by needle (String.prototype.includes) rather than
 * by one alternation, whose worst case grows with text length × all needles' lengths.
 */
export const MAX_SCAN_TEXT = 4096;
const MAX_SCAN_NEEDLES = 1000;

export interface DecisionPlan {
  /** One getter per fact slot. */
  getters: Getter[];
  /** Slots after the fact slots: results of text conditions, computed at most once per decision. */
  memoSlots: number;
  /** First memo slot (= getters.length). */
  memoOffset: number;
  rules: CompiledRule[];
  groups: IndexGroup[];
  textGroups: TextGroup[];
  /** Ranks of rules without an indexable equality: always candidates. */
  unindexed: number[];
}

export interface RulesetMeta {
  version: number;
  contentHash: string;
  activatedAt?: string | null;
  activatedBy?: string | null;
  warnings?: RuleIssue[];
}

export interface CompiledRuleset {
  readonly version: number;
  readonly contentHash: string;
  readonly activatedAt: string | null;
  readonly activatedBy: string | null;
  readonly ruleCount: number;
  readonly warnings: readonly RuleIssue[];
  readonly source: ValidatedRuleset;
  readonly plan: DecisionPlan;
}

/** Same semantics as pathResolver + json-rules-engine's almanac: a path applies only to an object. */
export function compileGetter(fact: FactName, segments: readonly string[]): Getter {
  const own = (v: unknown, key: string): unknown =>
    v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  const [a, b] = segments;
  if (a === undefined) return (f) => f[fact];
  if (b === undefined) {
    return (f) => {
      const v = f[fact];
      return v === null || typeof v !== 'object' ? v : own(v, a);
    };
  }
  if (segments.length === 2) {
    return (f) => {
      const v = f[fact];
      return v === null || typeof v !== 'object' ? v : own(own(v, a), b);
    };
  }
  return (f) => {
    const v = f[fact];
    if (v === null || typeof v !== 'object') return v;
    let cur: unknown = v;
    for (const s of segments) cur = own(cur, s);
    return cur;
  };
}

function allOf(preds: Pred[]): Pred {
  const [p0, p1, p2] = preds;
  if (p0 === undefined) return () => true;
  if (p1 === undefined) return p0;
  if (p2 === undefined) return (f) => p0(f) && p1(f);
  if (preds.length === 3) return (f) => p0(f) && p1(f) && p2(f);
  return (f) => {
    for (const p of preds) if (!p(f)) return false;
    return true;
  };
}

function anyOf(preds: Pred[]): Pred {
  const [p0, p1] = preds;
  // json-rules-engine: an empty "any" is true (validation refuses it in files; kept faithful anyway).
  if (p0 === undefined) return () => true;
  if (p1 === undefined) return p0;
  if (preds.length === 2) return (f) => p0(f) || p1(f);
  return (f) => {
    for (const p of preds) if (p(f)) return true;
    return false;
  };
}

const lowerText = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

/** Specialised closures for the common operators: one call per condition instead of two. */
function leafPred(slot: number, n: Extract<ConditionNode, { kind: 'leaf' }>, test: Test): Pred {
  if (n.op.decorators.length === 0) {
    const value = n.value;
    switch (n.op.base) {
      case 'equal':
        return (v) => v[slot] === value;
      case 'notEqual':
        return (v) => v[slot] !== value;
      case 'in':
      case 'notIn':
        if (Array.isArray(value) && value.length <= 8) {
          const list: readonly unknown[] = value;
          return n.op.base === 'in' ? (v) => list.indexOf(v[slot]) > -1 : (v) => list.indexOf(v[slot]) === -1;
        }
        break;
      default:
        break;
    }
  }
  return (v) => test(v[slot]);
}

/** `memo` is relative to the first memo slot, which is only known when compilation ends. */
function memoPred(slot: number, memo: number, base: { offset: number }, test: Test): Pred {
  return (v) => {
    const at = base.offset + memo;
    const known = v[at];
    if (known !== undefined) return known as boolean;
    const result = test(v[slot]);
    v[at] = result;
    return result;
  };
}

class Compiler {
  private shared = new Map<string, TraceNode>();
  private slotByKey = new Map<string, number>();
  private memoByKey = new Map<string, number>();
  readonly getters: Getter[] = [];
  /** Set once every fact slot is known (memo slots come after them). */
  readonly memoBase = { offset: 0 };
  constructor(private readonly defs: Map<string, SharedConditionDef>) {}

  get memoCount(): number {
    return this.memoByKey.size;
  }

  /**
   * Text searches are the costly conditions, and many rules repeat the same one ("title
   * contains 'backup'"): each distinct search gets a memo slot (numbered after the fact slots
   * once those are all known, see compileRuleset) and runs at most once per decision.
   */
  memo(testSlot: number, n: Extract<ConditionNode, { kind: 'leaf' }>): number {
    const key = `${testSlot}\u0000${n.operator}\u0000${JSON.stringify(n.value)}`;
    let memo = this.memoByKey.get(key);
    if (memo === undefined) {
      memo = this.memoByKey.size;
      this.memoByKey.set(key, memo);
    }
    return memo;
  }

  slot(fact: FactName, segments: readonly string[], lowered = false): number {
    const key = `${fact}\u0000${segments.join('.')}${lowered ? '\u0000lower' : ''}`;
    let slot = this.slotByKey.get(key);
    if (slot === undefined) {
      const get = compileGetter(fact, segments);
      slot = this.getters.length;
      this.getters.push(lowered ? (f) => lowerText(get(f)) : get);
      this.slotByKey.set(key, slot);
    }
    return slot;
  }

  node(n: ConditionNode): TraceNode {
    switch (n.kind) {
      case 'all':
      case 'any': {
        const children = n.children.map((c) => this.node(c));
        const preds = children.map((c) => c.pred);
        return { kind: n.kind, pred: n.kind === 'all' ? allOf(preds) : anyOf(preds), children };
      }
      case 'not': {
        const child = this.node(n.child);
        const p = child.pred;
        return { kind: 'not', pred: (f) => !p(f), child };
      }
      case 'ref': {
        const cached = this.shared.get(n.name);
        if (cached) return cached;
        const def = this.defs.get(n.name);
        if (!def) throw new Error(`shared condition "${n.name}" is not defined (validation should have refused this)`);
        const compiled = this.node(def.condition);
        this.shared.set(n.name, compiled);
        return compiled;
      }
      case 'leaf': {
        const slot = this.slot(n.fact, n.segments);
        const text = isTextOperator(n.op);
        const testSlot = text ? this.slot(n.fact, n.segments, true) : slot;
        const test = compileOperator(n.op, n.value);
        const memo = text ? this.memo(testSlot, n) : -1;
        const leaf: TraceNode = {
          kind: 'leaf',
          pred: text ? memoPred(testSlot, memo, this.memoBase, test) : leafPred(testSlot, n, test),
          slot,
          testSlot,
          test,
          fact: n.fact,
          operator: n.operator,
          value: n.value,
        };
        if (n.path !== undefined) leaf.path = n.path;
        if (text && n.op.decorators.length === 0 && typeof n.value === 'string') {
          leaf.text = { op: n.op.base as TextOperator, needle: n.value.toLowerCase(), memo };
        }
        if (n.op.decorators.length === 0 && n.op.base === 'equal') leaf.fixedEvidence = deepFreeze(evidenceOf(leaf, n.value));
        if (n.op.decorators.length === 0 && n.op.base === 'in' && Array.isArray(n.value) && n.value.length <= 64) {
          leaf.evidenceByValue = new Map(n.value.map((v: unknown) => [v, deepFreeze(evidenceOf(leaf, v))]));
        }
        return leaf;
      }
    }
  }
}

// ---- the index: equalities a rule cannot fire without ----

type Constraints = Map<string, Set<unknown>>;
const keyOf = (fact: FactName, path: string | undefined): string => `${fact}\u0000${path ?? ''}`;

function constraintsOf(n: ConditionNode, defs: Map<string, SharedConditionDef>, memo: Map<string, Constraints>): Constraints {
  switch (n.kind) {
    case 'leaf': {
      if (n.op.decorators.length > 0) return new Map();
      if (n.op.base === 'equal') return new Map([[keyOf(n.fact, n.path), new Set([n.value])]]);
      if (n.op.base === 'in' && Array.isArray(n.value)) return new Map([[keyOf(n.fact, n.path), new Set(n.value)]]);
      return new Map();
    }
    case 'all': {
      const out: Constraints = new Map();
      for (const child of n.children) {
        for (const [k, values] of constraintsOf(child, defs, memo)) {
          const prev = out.get(k);
          // Both must hold: the value is in the intersection (empty: the rule can never fire).
          out.set(k, prev ? new Set([...prev].filter((v) => values.has(v))) : values);
        }
      }
      return out;
    }
    case 'any': {
      if (n.children.length === 0) return new Map();
      const each = n.children.map((c) => constraintsOf(c, defs, memo));
      const out: Constraints = new Map();
      const [head, ...tail] = each;
      for (const [k, values] of head ?? []) {
        if (tail.every((m) => m.has(k))) out.set(k, new Set([...values, ...tail.flatMap((m) => [...(m.get(k) ?? [])])]));
      }
      return out;
    }
    case 'not':
      return new Map();
    case 'ref': {
      const cached = memo.get(n.name);
      if (cached) return cached;
      const def = defs.get(n.name);
      const out = def ? constraintsOf(def.condition, defs, memo) : new Map<string, Set<unknown>>();
      memo.set(n.name, out);
      return out;
    }
  }
}

/** Every effect with the same fields in the same order: the merge reads them monomorphically. */
function uniformEffect(e: Effect): Effect {
  return Object.freeze({
    contract: e.contract,
    service: e.service,
    sla: e.sla,
    priority: e.priority,
    queue: e.queue,
    holdOffSeconds: e.holdOffSeconds,
    reopenWindowMinutes: e.reopenWindowMinutes,
    staleAfterMinutes: e.staleAfterMinutes,
    resolveAction: e.resolveAction,
    suppress: e.suppress,
    stop: e.stop,
    link: e.link,
  }) as Effect;
}

function allLeavesOf(node: TraceNode): Array<Extract<TraceNode, { kind: 'leaf' }>> | null {
  if (node.kind === 'leaf') return [node];
  if (node.kind !== 'all') return null;
  const out: Array<Extract<TraceNode, { kind: 'leaf' }>> = [];
  for (const child of node.children) {
    const leaves = allLeavesOf(child);
    if (!leaves) return null;
    out.push(...leaves);
  }
  return out;
}

// ---- the text index: searches a rule cannot fire without ----

interface TextAtom {
  testSlot: number;
  op: TextOperator;
  needle: string;
  memo: number;
  test: Test;
}

/** Some atom must hold for `node` to hold (null: no such guarantee). */
function textRequirement(node: TraceNode): TextAtom[] | null {
  switch (node.kind) {
    case 'leaf':
      return node.text ? [{ testSlot: node.testSlot, op: node.text.op, needle: node.text.needle, memo: node.text.memo, test: node.test }] : null;
    case 'all': {
      let best: TextAtom[] | null = null;
      for (const child of node.children) {
        const req = textRequirement(child);
        if (req && (!best || req.length < best.length)) best = req;
      }
      return best;
    }
    case 'any': {
      if (node.children.length === 0) return null;
      const out: TextAtom[] = [];
      for (const child of node.children) {
        const req = textRequirement(child);
        if (!req) return null;
        out.push(...req);
      }
      return out;
    }
    case 'not':
      return null;
  }
}

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const MAX_PREFILTER_NEEDLES = 500;

function buildTextGroups(rules: CompiledRule[], unindexed: number[]): { textGroups: TextGroup[]; rest: number[] } {
  const groups = new Map<string, { testSlot: number; op: TextOperator; entries: Map<string, { memo: number; test: Test; rules: number[] }> }>();
  const rest: number[] = [];
  for (const rank of unindexed) {
    const rule = rules[rank];
    const req = rule ? textRequirement(rule.tree) : null;
    if (!req) {
      rest.push(rank);
      continue;
    }
    for (const atom of req) {
      const key = `${atom.testSlot}\u0000${atom.op}`;
      let g = groups.get(key);
      if (!g) {
        g = { testSlot: atom.testSlot, op: atom.op, entries: new Map() };
        groups.set(key, g);
      }
      const entry = g.entries.get(atom.needle) ?? { memo: atom.memo, test: atom.test, rules: [] };
      if (entry.rules.at(-1) !== rank) entry.rules.push(rank);
      g.entries.set(atom.needle, entry);
    }
  }
  const textGroups = [...groups.values()].map((g): TextGroup => {
    const needles = [...g.entries.keys()];
    const alternation = needles.map(escapeRegExp).join('|');
    const prefilter =
      needles.length > MAX_PREFILTER_NEEDLES ? null : new RegExp(g.op === 'startsWith' ? `^(?:${alternation})` : g.op === 'endsWith' ? `(?:${alternation})$` : alternation);
    let scanner: TextGroup['scanner'] = null;
    if (g.op === 'containsText' && needles.length <= MAX_SCAN_NEEDLES) {
      const longestFirst = [...needles].sort((a, b) => b.length - a.length);
      scanner = {
        re: new RegExp(longestFirst.map(escapeRegExp).join('|'), 'g'),
        entryOf: new Map(needles.map((n, i) => [n, i])),
        inside: needles.map((outer) => needles.flatMap((inner, j) => (inner !== outer && outer.includes(inner) ? [j] : []))),
      };
    }
    return { testSlot: g.testSlot, prefilter, entries: [...g.entries.values()], scanner };
  });
  return { textGroups, rest };
}

export function compileRuleset(source: ValidatedRuleset, meta: RulesetMeta): CompiledRuleset {
  const compiler = new Compiler(source.conditions);
  // Stable sort: equal priorities keep file order. json-rules-engine runs a priority level's
  // rules concurrently and their events arrive in promise-resolution order; the hub fixes that
  // order to the order of definition, so ties are reproducible.
  const ordered = [...source.rules].sort((x, y) => y.priority - x.priority || x.order - y.order);
  const rules: CompiledRule[] = ordered.map((def, rank) => {
    const tree = compiler.node(def.conditions);
    const allLeaves = allLeavesOf(tree);
    // Decisions share these objects: frozen, so no consumer can change another decision's record.
    const event = deepFreeze(structuredClone(def.event));
    const fixedFired =
      allLeaves && allLeaves.length <= MAX_MATCHED && allLeaves.every((l) => l.fixedEvidence)
        ? deepFreeze({ name: def.name, priority: def.priority, file: def.file, event, matched: allLeaves.map((l) => l.fixedEvidence as MatchedCondition) })
        : null;
    return { rank, name: def.name, priority: def.priority, file: def.file, event, effect: uniformEffect(def.effect), pred: tree.pred, tree, allLeaves, fixedFired };
  });

  const groups = new Map<string, IndexGroup>();
  const unindexed: number[] = [];
  const memo = new Map<string, Constraints>();
  const perRule = ordered.map((def) => constraintsOf(def.conditions, source.conditions, memo));
  // Selectivity without data: a key the ruleset compares with many different values (company
  // code) splits alerts finer than one with few (device role), so a rule goes under the key
  // where its values cover the smallest share of the values in use.
  const distinct = new Map<string, Set<unknown>>();
  for (const constraints of perRule) {
    for (const [key, values] of constraints) {
      const seen = distinct.get(key) ?? new Set<unknown>();
      for (const v of values) seen.add(v);
      distinct.set(key, seen);
    }
  }
  const share = (key: string, values: Set<unknown>) => values.size / Math.max(1, distinct.get(key)?.size ?? 1);
  const slotOfKey = (key: string): number => {
    const [fact, path] = key.split('\u0000') as [FactName, string];
    return compiler.slot(fact, path ? path.slice(2).split('.') : []);
  };
  const push = <K>(map: Map<K, number[]>, k: K, rank: number) => {
    const bucket = map.get(k);
    if (bucket) bucket.push(rank);
    else map.set(k, [rank]);
  };
  ordered.forEach((_def, rank) => {
    const entries = [...(perRule[rank] ?? [])];
    let best: [string, Set<unknown>] | null = null;
    for (const entry of entries) if (!best || share(...entry) < share(...best)) best = entry;
    if (!best) {
      unindexed.push(rank);
      return;
    }
    // The most selective pair of keys, when the rule has two and their combinations are few.
    let pair: [[string, Set<unknown>], [string, Set<unknown>]] | null = null;
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const [a, b] = [entries[i], entries[j]].sort((x, y) => ((x?.[0] ?? '') < (y?.[0] ?? '') ? -1 : 1)) as [[string, Set<unknown>], [string, Set<unknown>]];
        if (a[1].size * b[1].size > MAX_PAIR_COMBINATIONS) continue;
        if (!pair || share(...a) * share(...b) < share(...pair[0]) * share(...pair[1])) pair = [a, b];
      }
    }
    const key = pair ? `${pair[0][0]}\u0001${pair[1][0]}` : best[0];
    let group = groups.get(key);
    if (!group) {
      group = pair
        ? { slot: slotOfKey(pair[0][0]), slot2: slotOfKey(pair[1][0]), buckets: new Map(), pairs: new Map() }
        : { slot: slotOfKey(best[0]), slot2: -1, buckets: new Map(), pairs: new Map() };
      groups.set(key, group);
    }
    if (pair) {
      for (const v1 of pair[0][1]) {
        let inner = group.pairs.get(v1);
        if (!inner) {
          inner = new Map();
          group.pairs.set(v1, inner);
        }
        for (const v2 of pair[1][1]) push(inner, v2, rank);
      }
    } else {
      for (const v of best[1]) push(group.buckets, v, rank);
    }
  });

  compiler.memoBase.offset = compiler.getters.length;
  const { textGroups, rest } = buildTextGroups(rules, unindexed);
  return {
    version: meta.version,
    contentHash: meta.contentHash,
    activatedAt: meta.activatedAt ?? null,
    activatedBy: meta.activatedBy ?? null,
    ruleCount: rules.length,
    warnings: meta.warnings ?? [],
    source,
    plan: {
      getters: compiler.getters,
      memoSlots: compiler.memoCount,
      memoOffset: compiler.memoBase.offset,
      rules,
      groups: [...groups.values()],
      textGroups,
      unindexed: rest,
    },
  };
}

/** The same compiled ruleset under the version it got when it was recorded (no recompilation). */
export function withMeta(ruleset: CompiledRuleset, meta: Partial<RulesetMeta>): CompiledRuleset {
  return {
    ...ruleset,
    version: meta.version ?? ruleset.version,
    contentHash: meta.contentHash ?? ruleset.contentHash,
    activatedAt: meta.activatedAt === undefined ? ruleset.activatedAt : meta.activatedAt,
    activatedBy: meta.activatedBy === undefined ? ruleset.activatedBy : meta.activatedBy,
    warnings: meta.warnings ?? ruleset.warnings,
  };
}
