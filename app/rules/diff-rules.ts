import type { Knex } from 'knex';
import type { SlaCache } from '../slas/sla-cache';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { readRulesDir } from '../../rules/engine/load-dir';
import type { RuleIssue } from '../../rules/engine/types';
import { compileCandidate, compileInputs, rulesInvalid, type CandidateFile } from './candidate';
import { replayRuleset, type ReplayReport } from './replay';
import { replayStorms, type StormReplayReport } from './replay-storms';

/** The candidate rules: a directory the caller may read (the route checks where it lies), or files given inline. */
export type RulesCandidate = { dir: string } | { files: CandidateFile[] };

export interface RulesDiff {
  candidate: { ruleset: CompiledRuleset; warnings: RuleIssue[] };
  report: ReplayReport;
  /** R-STORM-1: what the inhibit rules would have muted (null: neither ruleset has one). */
  storms: StormReplayReport | null;
}

/**
 * `POST /api/v1/rules/diff` and `hub rules diff` (issue 8): validate and compile the candidate as a
 * ruleset is before it goes live (422 RULES_INVALID naming file, rule and pointer), then replay the
 * stored alerts of [since, until) with it and with `live`. Writes nothing.
 */
export async function diffRules(
  db: Knex,
  o: { live: CompiledRuleset; candidate: RulesCandidate; since: Date; until: Date; limit: number; slas: SlaCache; /** HUB_RENEWAL_TIMEZONE, as the worker counts alert dates. */ fallbackZone?: string | undefined },
): Promise<RulesDiff> {
  let candidate: RulesDiff['candidate'];
  if ('dir' in o.candidate) {
    const { files, errors } = await readRulesDir(o.candidate.dir);
    if (errors.length > 0) throw rulesInvalid(errors);
    candidate = await compileInputs(db, files);
  } else {
    candidate = await compileCandidate(db, o.candidate.files);
  }
  const report = await replayRuleset(db, { candidate: candidate.ruleset, live: o.live, since: o.since, until: o.until, limit: o.limit, slas: o.slas, fallbackZone: o.fallbackZone });
  const storms = await replayStorms(db, { candidate: candidate.ruleset, live: o.live, since: o.since, until: o.until, limit: o.limit, slas: o.slas, fallbackZone: o.fallbackZone });
  return { candidate, report, storms };
}
