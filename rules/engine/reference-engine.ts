import { Engine, type EngineResult, type RuleResult, type TopLevelCondition } from 'json-rules-engine';
import { registerHubOperators } from './operators';
import { pathResolver } from './path-resolver';
import type { DecisionFacts, RuleEvent } from './types';
import type { ValidatedRuleset } from './validate';

/**
 * Plain json-rules-engine over a validated ruleset: the reference the compiled decision is held
 * to (explain, the differential test, the benchmark). Built with our pathResolver, always — its
 * default resolver is jsonpath-plus (R-RUL-5).
 *
 * An Engine keeps one `status` for all its runs, so two concurrent run() calls on one Engine
 * silently skip lower-priority rules (json-rules-engine 7.3.1). Build one per run, or await each
 * run before the next; never share one between concurrent callers.
 */
export function buildReferenceEngine(source: ValidatedRuleset): Engine {
  const engine = new Engine([], { pathResolver, allowUndefinedFacts: false, allowUndefinedConditions: false });
  registerHubOperators(engine);
  // json-rules-engine mutates condition objects (priority parsing, realised references): give it copies.
  for (const def of source.files) {
    for (const [name, condition] of Object.entries(def.content.conditions ?? {})) {
      engine.setCondition(name, structuredClone(condition) as TopLevelCondition);
    }
  }
  const byName = new Map(source.rules.map((r) => [r.name, r]));
  for (const def of source.files) {
    for (const raw of def.content.rules) {
      const rule = raw as { name: string; priority?: number; conditions: TopLevelCondition; event: RuleEvent };
      if (!byName.has(rule.name)) continue;
      engine.addRule({
        name: rule.name,
        ...(rule.priority === undefined ? {} : { priority: rule.priority }),
        conditions: structuredClone(rule.conditions),
        event: structuredClone(rule.event),
      });
    }
  }
  // `stop`: exactly json-rules-engine's own mechanism — the rest of this priority level completes.
  engine.on('stop', () => {
    engine.stop();
  });
  return engine;
}

export interface ReferenceRun {
  result: EngineResult;
  /** Fired rules as json-rules-engine emitted them (promise-resolution order within a priority). */
  emitted: Array<{ name: string; event: RuleEvent }>;
  /** Fired rules in the hub's order: priority (higher first), then order of definition. */
  fired: Array<{ name: string; priority: number; event: RuleEvent }>;
}

export async function runReference(engine: Engine, source: ValidatedRuleset, facts: DecisionFacts): Promise<ReferenceRun> {
  const result = await engine.run({ ...facts });
  const order = new Map(source.rules.map((r) => [r.name, r.order]));
  const toFired = (r: RuleResult) => ({ name: String(r.name), priority: r.priority ?? 1, event: (r.event ?? { type: 'unknown' }) as RuleEvent });
  const emitted = result.results.map((r) => ({ name: String(r.name), event: (r.event ?? { type: 'unknown' }) as RuleEvent }));
  const fired = result.results
    .map(toFired)
    .sort((a, b) => b.priority - a.priority || (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return { result, emitted, fired };
}
