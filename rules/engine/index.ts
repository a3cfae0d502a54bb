/**
 * The rules engine (SPEC §6): load and validate `rules/*.json`, compile once, decide per alert,
 * explain a decision. What may import what: this folder imports core/ (errors), lib/ (logger),
 * db/queries/rulesets (the store only) and json-rules-engine (the reference); nothing imports
 * api/ or workers/.
 */
export type * from './types';
export { compileRuleset, withMeta, type CompiledRuleset, type RulesetMeta } from './compile';
export { decide, firedRules, candidates } from './decide';
export { explain, type Explanation, type TraceRule, type TraceCondition } from './explain';
export { EVENT_TYPES, RESERVED_CONTRACT_WORDS } from './events';
export { FACT_NAMES, FACT_SPECS, decisionFactsSchema, alertFactSchema, timeFact } from './facts';
export { factsFromInput, type FactsInputOptions } from './facts-input';
export { readRulesDir, validateRulesDir } from './load-dir';
export { BUILTIN_OPERATORS, HUB_OPERATORS, SUPPORTED_DECORATORS } from './operators';
export { pathResolver, parsePath } from './path-resolver';
export { buildReferenceEngine, runReference } from './reference-engine';
export { RulesetStore, type RulesetStoreOptions, type RulesetStatus, type LoadOutcome } from './ruleset-store';
export { formatIssue } from './format';
export { stormRulesOf, parseStormField, type StormRules, type StormRuleDef, type InhibitRuleDef, type GroupRuleDef } from './storm-rules';
export {
  RULES_LIMITS,
  contentHashOf,
  validateRuleset,
  type RulesLimits,
  type RulesFileInput,
  type ValidatedRuleset,
  type ValidationResult,
  type ValidateOptions,
} from './validate';
