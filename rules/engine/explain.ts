import type { RuleResult } from 'json-rules-engine';
import type { CompiledRuleset } from './compile';
import { decide } from './decide';
import { joinPointer } from './json-text';
import { buildReferenceEngine, runReference } from './reference-engine';
import type { Decision, DecisionFacts } from './types';
import type { ConditionNode } from './validate';

/**
 * R-RUL-4: "what would happen to this alert, and why". The decision is `decide`'s — the very
 * function the worker runs; the trace comes from a fresh json-rules-engine Engine (one per call,
 * never shared), which also cross-checks the compiled evaluation.
 */

export interface TraceCondition {
  file: string;
  /** Pointer into `file`: inside the rule, or inside the shared condition it references. */
  pointer: string;
  /** The shared condition this leaf belongs to, if any. */
  via?: string;
  fact: string;
  path?: string;
  operator: string;
  value: unknown;
  /** The value the fact (at the path) had; absent when the condition was not evaluated. */
  factValue?: unknown;
  /** null: not evaluated (an earlier condition already decided, or the rule was skipped). */
  result: boolean | null;
}

export interface TraceRule {
  rule: string;
  file: string;
  pointer: string;
  priority: number;
  fired: boolean;
  /** The rule did not run: a higher-priority rule's `stop` ended the run. */
  skipped?: 'stopped';
  /** Why it did not fire: the first condition whose result decided against it. */
  failedCondition?: TraceCondition & { negated?: boolean };
  conditions: TraceCondition[];
  event: { type: string; params?: Record<string, unknown> };
}

export interface Explanation {
  decision: Decision;
  trace: TraceRule[];
  /** json-rules-engine fired the same rules as the compiled evaluation (false means a bug: report it). */
  referenceAgrees: boolean;
}

type Raw = Record<string, unknown>;
const asRaw = (v: unknown): Raw | undefined => (v !== null && typeof v === 'object' ? (v as Raw) : undefined);

interface Walked {
  result: boolean | null;
  leaves: TraceCondition[];
  failed?: TraceCondition & { negated?: boolean };
}

/**
 * Walks the validated condition tree beside json-rules-engine's evaluated copy of it (same
 * shape, except that an evaluated reference has been replaced by the shared condition).
 */
function walk(node: ConditionNode, evaluated: Raw | undefined, ruleset: CompiledRuleset, via: string | undefined): Walked {
  switch (node.kind) {
    case 'leaf': {
      const ran = evaluated !== undefined && typeof evaluated.result === 'boolean';
      const leaf: TraceCondition = {
        file: node.file,
        pointer: node.pointer,
        ...(via === undefined ? {} : { via }),
        fact: node.fact,
        ...(node.path === undefined ? {} : { path: node.path }),
        operator: node.operator,
        value: node.value,
        ...(ran ? { factValue: evaluated.factResult } : {}),
        result: ran ? (evaluated.result as boolean) : null,
      };
      return { result: leaf.result, leaves: [leaf], ...(leaf.result === false ? { failed: leaf } : {}) };
    }
    case 'ref': {
      const def = ruleset.source.conditions.get(node.name);
      if (!def) return { result: null, leaves: [] };
      // Not realised (short-circuited): json-rules-engine left the reference in place.
      const realised = evaluated && !Object.hasOwn(evaluated, 'condition') ? evaluated : undefined;
      return walk(def.condition, realised, ruleset, node.name);
    }
    case 'not': {
      const inner = walk(node.child, asRaw(evaluated?.not), ruleset, via);
      const result = inner.result === null ? null : !inner.result;
      const firstTrue = inner.leaves.find((l) => l.result === true);
      return { result, leaves: inner.leaves, ...(result === false && firstTrue ? { failed: { ...firstTrue, negated: true } } : {}) };
    }
    case 'all':
    case 'any': {
      const list = Array.isArray(evaluated?.[node.kind]) ? (evaluated?.[node.kind] as unknown[]) : [];
      const parts = node.children.map((child, i) => walk(child, asRaw(list[i]), ruleset, via));
      const leaves = parts.flatMap((p) => p.leaves);
      let result: boolean | null;
      if (node.kind === 'all') {
        result = parts.some((p) => p.result === false) ? false : parts.every((p) => p.result === true) ? true : null;
      } else {
        result = parts.length === 0 || parts.some((p) => p.result === true) ? true : parts.every((p) => p.result === false) ? false : null;
      }
      const failed = result === false ? parts.find((p) => p.result === false)?.failed : undefined;
      return { result, leaves, ...(failed ? { failed } : {}) };
    }
  }
}

export async function explain(ruleset: CompiledRuleset, facts: DecisionFacts): Promise<Explanation> {
  const decision = decide(ruleset, facts);
  const engine = buildReferenceEngine(ruleset.source);
  const ref = await runReference(engine, ruleset.source, facts);
  const evaluated = new Map<string, RuleResult>();
  for (const r of [...ref.result.results, ...ref.result.failureResults]) evaluated.set(String(r.name), r);

  const ordered = [...ruleset.source.rules].sort((a, b) => b.priority - a.priority || a.order - b.order);
  const trace: TraceRule[] = ordered.map((rule) => {
    const result = evaluated.get(rule.name);
    const walked = walk(rule.conditions, asRaw(result?.conditions), ruleset, undefined);
    const entry: TraceRule = {
      rule: rule.name,
      file: rule.file,
      pointer: joinPointer(rule.pointer, 'conditions'),
      priority: rule.priority,
      fired: result?.result === true,
      conditions: walked.leaves,
      event: rule.event,
    };
    if (!result) entry.skipped = 'stopped';
    else if (result.result !== true && walked.failed) entry.failedCondition = walked.failed;
    return entry;
  });

  const compiled = decision.rulesFired.map((r) => r.name);
  const reference = ref.fired.map((r) => r.name);
  const referenceAgrees = compiled.length === reference.length && compiled.every((n, i) => n === reference[i]);
  return { decision, trace, referenceAgrees };
}
