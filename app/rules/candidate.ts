import { z } from 'zod';
import { HubError, validationError } from '../../core/errors';
import type { Db } from '../../db/connection';
import { rulesetWindows } from '../maintenance/ruleset-windows';
import { latestRuleset, loadRefCatalog, rulesetByVersion, type StoredRuleset } from '../../db/queries/rulesets';
import { compileRuleset, type CompiledRuleset } from '../../rules/engine/compile';
import { formatIssue } from '../../rules/engine/format';
import type { RuleIssue } from '../../rules/engine/types';
import { validateRuleset, type RulesFileInput } from '../../rules/engine/validate';

/**
 * The rulesets a replay compares (issue 8): a candidate — files given to the API, or a directory
 * the CLI or an admin names — validated exactly as a ruleset is before it goes live, and the
 * ruleset live in the database when no hub process is at hand (the CLI).
 */

export interface CandidateFile {
  name: string;
  /** The parsed JSON content, or the file's text (then errors carry line and column). */
  content: unknown;
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.json$/;

export function rulesInvalid(errors: readonly RuleIssue[], what = 'candidate rules'): HubError {
  const first = errors[0];
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new HubError('RULES_INVALID', `${what} are invalid: ${first ? formatIssue(first) : 'unknown error'}${more}`, { errors });
}

/**
 * Validates candidate files the way a ruleset is validated before it goes live (schema, facts,
 * operators, contract/service/SLA references against the database) plus their maintenance windows,
 * and compiles them. Invalid → 422 RULES_INVALID whose details list every error with its file, rule
 * and JSON pointer.
 */
export async function compileCandidate(db: Db | null, files: readonly CandidateFile[]): Promise<{ ruleset: CompiledRuleset; warnings: RuleIssue[] }> {
  const inputs: RulesFileInput[] = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => {
      if (!FILE_NAME.test(f.name)) throw validationError(`candidate.files["${f.name}"]`, 'a rules file name is letters, digits, ".", "_" or "-", ending in .json');
      return typeof f.content === 'string' ? { name: f.name, text: f.content } : { name: f.name, content: f.content };
    });
  return compileInputs(db, inputs);
}

export async function compileInputs(db: Db | null, inputs: RulesFileInput[]): Promise<{ ruleset: CompiledRuleset; warnings: RuleIssue[] }> {
  const checked = await checkInputs(db, inputs);
  if (!checked.ok) throw rulesInvalid(checked.errors);
  return { ruleset: checked.ruleset, warnings: checked.warnings };
}

export type CandidateCheck =
  | { ok: true; ruleset: CompiledRuleset; contentHash: string; content: { files: unknown[] }; errors: []; warnings: RuleIssue[] }
  | { ok: false; contentHash: string; errors: RuleIssue[]; warnings: RuleIssue[] };

/**
 * {@link compileInputs} without throwing: every error and warning (with line and column where the
 * file's text is known), and when valid the compiled ruleset and the parsed content that is stored.
 */
export async function checkInputs(db: Db | null, inputs: RulesFileInput[]): Promise<CandidateCheck> {
  const catalog = db ? await loadRefCatalog(db) : undefined;
  const result = validateRuleset(inputs, catalog === undefined ? {} : { catalog });
  const windowIssues = result.ruleset ? parseWindowIssues(result.ruleset.maintenanceWindows) : [];
  const errors = [...result.errors, ...windowIssues];
  if (!result.ok || !result.ruleset || errors.length > 0) return { ok: false, contentHash: result.contentHash, errors, warnings: result.warnings };
  // Version 0: a candidate has not gone live.
  const ruleset = compileRuleset(result.ruleset, { version: 0, contentHash: result.contentHash, warnings: result.warnings });
  return { ok: true, ruleset, contentHash: result.contentHash, content: { files: result.ruleset.files }, errors: [], warnings: result.warnings };
}

/**
 * Candidate files as the rules editor sends them (name → text), checked like a directory before it
 * goes live. A bad file name is a problem of that file, not a thrown error, so the editor can list it.
 */
export async function checkCandidateTexts(db: Db | null, files: Readonly<Record<string, string>>): Promise<CandidateCheck> {
  const names = Object.keys(files).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const badNames: RuleIssue[] = names
    .filter((n) => !FILE_NAME.test(n))
    .map((n) => ({ severity: 'error', file: n, rule: null, pointer: '', message: 'a rules file name is letters, digits, ".", "_" or "-", ending in .json' }));
  const inputs: RulesFileInput[] = names.filter((n) => FILE_NAME.test(n)).map((n) => ({ name: n, text: (files[n] ?? '').replace(/^\uFEFF/, '') }));
  const checked = await checkInputs(db, inputs);
  if (badNames.length === 0) return checked;
  return { ok: false, contentHash: checked.contentHash, errors: [...badNames, ...checked.errors], warnings: checked.warnings };
}

/** Compiles editor files or throws 422 RULES_INVALID whose details carry `problems` (the validate endpoint's list) and `errors`. */
export async function compileCandidateTexts(db: Db | null, files: Readonly<Record<string, string>>): Promise<Extract<CandidateCheck, { ok: true }>> {
  const checked = await checkCandidateTexts(db, files);
  if (!checked.ok) throw candidateInvalid(checked);
  return checked;
}

/** A problem as the rules editor shows it: every field present, line and column null when unknown. */
export interface RuleProblem {
  file: string;
  rule: string | null;
  pointer: string;
  line: number | null;
  column: number | null;
  message: string;
  severity: 'error' | 'warning';
}

export const problemOf = (i: RuleIssue): RuleProblem => ({
  file: i.file,
  rule: i.rule,
  pointer: i.pointer,
  line: i.line ?? null,
  column: i.column ?? null,
  message: i.message,
  severity: i.severity,
});

/** Errors first, then warnings, each in file order as found. */
export const problemsOf = (c: { errors: readonly RuleIssue[]; warnings: readonly RuleIssue[] }): RuleProblem[] => [...c.errors, ...c.warnings].map(problemOf);

export function candidateInvalid(c: { errors: readonly RuleIssue[]; warnings: readonly RuleIssue[] }, what?: string): HubError {
  const err = rulesInvalid(c.errors, what);
  return new HubError('RULES_INVALID', err.message, { errors: c.errors, problems: problemsOf(c) });
}

const parseWindowIssues = (entries: ReadonlyArray<{ file: string; window: unknown }>): RuleIssue[] =>
  rulesetWindows({ source: { maintenanceWindows: entries } }).issues;

const storedContent = z.object({ files: z.array(z.object({ name: z.string(), content: z.unknown() })) });

/**
 * The ruleset that is live in the database (the latest recorded version), compiled: what the CLI
 * compares against when no hub process is at hand. Null when no ruleset was ever recorded.
 */
export async function liveRulesetFromDb(db: Db): Promise<CompiledRuleset | null> {
  const stored = await latestRuleset(db);
  return stored ? compileStored(stored) : null;
}

/** A recorded version, compiled (a replay compares with the version that was live when it was asked for). */
export async function rulesetVersionFromDb(db: Db, version: number): Promise<CompiledRuleset | null> {
  const stored = await rulesetByVersion(db, version);
  return stored ? compileStored(stored) : null;
}

function compileStored(stored: StoredRuleset): CompiledRuleset {
  const content = storedContent.safeParse(stored.content);
  if (!content.success) throw new HubError('INTERNAL', `stored ruleset version ${stored.version} has an unreadable content`);
  // References are not checked again: this content already went live once.
  const result = validateRuleset(content.data.files);
  if (!result.ok || !result.ruleset) throw rulesInvalid(result.errors, `stored ruleset version ${stored.version}`);
  return compileRuleset(result.ruleset, {
    version: stored.version,
    contentHash: stored.contentHash,
    activatedAt: stored.activatedAt,
    activatedBy: stored.activatedBy,
    warnings: result.warnings,
  });
}

