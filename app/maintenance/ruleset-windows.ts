import { parseRulesFileWindows, type MatchableWindow, type WindowIssue } from '../../core/maintenance/window-match';

/**
 * State, not a query (issue 14): the maintenance windows of the rules files, parsed once per
 * ruleset and kept beside it. The API's windows are statements (db/queries/maintenance-windows.ts).
 */

/** What the rules engine hands through from `"maintenanceWindows"` of the rules files (unvalidated). */
export interface RulesetWithWindows {
  source: { maintenanceWindows: ReadonlyArray<{ file: string; window: unknown }> };
}

const parsedRulesetWindows = new WeakMap<object, { windows: MatchableWindow[]; issues: WindowIssue[] }>();

/**
 * The valid windows of a ruleset (and the problems of the others), parsed once per ruleset: a
 * compiled ruleset is never mutated, so its `source` object is a safe cache key.
 */
export function rulesetWindows(ruleset: RulesetWithWindows | null | undefined): {
  windows: MatchableWindow[];
  issues: WindowIssue[];
} {
  if (!ruleset) return { windows: [], issues: [] };
  const cached = parsedRulesetWindows.get(ruleset.source);
  if (cached) return cached;
  const parsed = parseRulesFileWindows(ruleset.source.maintenanceWindows);
  parsedRulesetWindows.set(ruleset.source, parsed);
  return parsed;
}

export const rulesWindowsOf = (ruleset: RulesetWithWindows | null | undefined): MatchableWindow[] =>
  rulesetWindows(ruleset).windows;
