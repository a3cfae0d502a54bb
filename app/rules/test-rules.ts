import { compileRuleset } from '../../rules/engine/compile';
import { explain, type Explanation } from '../../rules/engine/explain';
import { validateRulesDir } from '../../rules/engine/load-dir';
import type { DecisionFacts, RefCatalog } from '../../rules/engine/types';
import type { ValidationResult } from '../../rules/engine/validate';

export type RulesDirTest = { ok: false; validation: ValidationResult } | { ok: true; validation: ValidationResult; explanation: Explanation };

/**
 * `hub rules test` (R-RUL-4 offline): the decision and its trace for the given facts, by the rules
 * files of `dir` as they are on disk — validated first (against the catalog of names when one
 * could be loaded), compiled as version 0 since they have not gone live. Nothing is written.
 */
export async function testRulesDir(dir: string, facts: DecisionFacts, catalog: RefCatalog | null): Promise<RulesDirTest> {
  const validation = await validateRulesDir(dir, { catalog });
  if (!validation.ok || !validation.ruleset) return { ok: false, validation };
  // Version 0: these files have not gone live (the live version is in GET /api/v1/rules/status).
  const ruleset = compileRuleset(validation.ruleset, { version: 0, contentHash: validation.contentHash, warnings: validation.warnings });
  return { ok: true, validation, explanation: await explain(ruleset, facts) };
}
