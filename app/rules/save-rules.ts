import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import { insertRulesetVersion, latestRulesetHead, lockRulesets, rulesetByVersion, type RulesetRecord } from '../../db/queries/rulesets';
import type { RuleIssue } from '../../rules/engine/types';
import { compileCandidateTexts } from './candidate';
import { versionFiles } from './ruleset-versions';

/**
 * Saving rules from the editor (issue 17 item 2) and rolling back to an earlier version (issue 15
 * item 9). The files are validated exactly as a ruleset is before it goes live (422 RULES_INVALID
 * with the problems, nothing written), then:
 *
 * 1. every file is written beside its final name as a dotfile (the loader skips dotfiles), so a
 *    full disk fails before anything changed;
 * 2. under the rulesets lock (the one every process records versions under): the stale check
 *    (`expectedVersion`, 409), the new version row with author, message and texts, then the
 *    renames into RULES_DIR and the removal of files the candidate no longer has — restored from
 *    the texts read before if a rename fails, and the row rolled back with the transaction;
 * 3. after the commit, the caller's `adopt` makes this process decide with the new version at
 *    once. Other processes follow as they follow any version (they poll the latest version, and
 *    their watchers find RULES_DIR already recorded under it).
 *
 * The renames are one directory operation each, not one for the set: a file watcher's debounce
 * (250 ms after the last event) reads the final set. Content equal to the latest version (only
 * formatting changed) writes the texts but records no version (`changed: false`).
 */

export interface SaveRulesInput {
  files: Readonly<Record<string, string>>;
  message: string | null;
  /** Who saved it: recorded as the version's `activated_by`. */
  by: string;
  /** The version the editor started from; another version recorded since → 409 CONFLICT. */
  expectedVersion?: number | undefined;
}

export interface SaveRulesResult extends RulesetRecord {
  changed: boolean;
  message: string | null;
  warnings: RuleIssue[];
}

export interface SaveRulesDeps {
  db: Knex;
  /** RULES_DIR. */
  dir: string;
  /** Adopts the recorded version in this process (the live store's syncFromDb). */
  adopt?: () => Promise<unknown>;
  /** Runs in the saving transaction after the version row (the route's audit row). */
  audit?: (trx: Knex.Transaction, result: SaveRulesResult) => Promise<void>;
}

const isRulesFile = (n: string): boolean => n.endsWith('.json') && !n.startsWith('.');

export async function saveRules(deps: SaveRulesDeps, input: SaveRulesInput): Promise<SaveRulesResult> {
  const checked = await compileCandidateTexts(deps.db, input.files);
  const dir = path.resolve(deps.dir);
  const names = Object.keys(input.files).sort();
  const tag = crypto.randomBytes(6).toString('hex');
  const temps = new Map(names.map((n) => [n, path.join(dir, `.${n}.${tag}.tmp`)]));
  try {
    for (const n of names) await fs.writeFile(temps.get(n)!, input.files[n] ?? '', 'utf8');
    const result = await deps.db.transaction(async (trx) => {
      await lockRulesets(trx);
      const head = await latestRulesetHead(trx);
      if (input.expectedVersion !== undefined && (head?.version ?? 0) !== input.expectedVersion) {
        throw new HubError('CONFLICT', `the rules changed since version ${input.expectedVersion}: version ${head?.version ?? 0} is the latest; reload and edit again`, {
          expectedVersion: input.expectedVersion,
          latestVersion: head?.version ?? 0,
        });
      }
      let saved: SaveRulesResult;
      if (head && head.contentHash === checked.contentHash) {
        const stored = await rulesetByVersion(trx, head.version);
        saved = { ...head, changed: false, message: stored?.message ?? null, warnings: checked.warnings };
      } else {
        const rec = await insertRulesetVersion(trx, {
          version: (head?.version ?? 0) + 1,
          contentHash: checked.contentHash,
          content: checked.content,
          activatedBy: input.by,
          files: names.map((n) => ({ name: n, text: input.files[n] ?? '' })),
          message: input.message,
        });
        saved = { ...rec, changed: true, message: input.message, warnings: checked.warnings };
      }
      if (deps.audit) await deps.audit(trx, saved);
      await replaceFiles(dir, temps);
      return saved;
    });
    if (deps.adopt) await deps.adopt();
    return result;
  } finally {
    await Promise.all([...temps.values()].map((t) => fs.rm(t, { force: true })));
  }
}

/** Renames the temps into place and removes the other rules files; on failure puts the previous files back. */
async function replaceFiles(dir: string, temps: ReadonlyMap<string, string>): Promise<void> {
  const before = new Map<string, string>();
  for (const n of (await fs.readdir(dir)).filter(isRulesFile)) {
    const full = path.join(dir, n);
    if ((await fs.stat(full)).isFile()) before.set(n, await fs.readFile(full, 'utf8'));
  }
  try {
    for (const [n, temp] of temps) await fs.rename(temp, path.join(dir, n));
    for (const n of before.keys()) if (!temps.has(n)) await fs.rm(path.join(dir, n), { force: true });
  } catch (e) {
    for (const n of temps.keys()) if (!before.has(n)) await fs.rm(path.join(dir, n), { force: true }).catch(() => undefined);
    for (const [n, text] of before) await fs.writeFile(path.join(dir, n), text, 'utf8').catch(() => undefined);
    throw e;
  }
}

/**
 * Makes version `version`'s content live again as a new version (issue 15 item 9), saved exactly as
 * an edit is (validated against today's contracts, services and SLAs; written to RULES_DIR).
 */
export async function rollbackRules(deps: SaveRulesDeps, input: { version: number; message: string | null; by: string }): Promise<SaveRulesResult & { rolledBackTo: number }> {
  const stored = await rulesetByVersion(deps.db, input.version);
  if (!stored) throw new HubError('NOT_FOUND', `ruleset version ${input.version} not found`);
  const files = Object.fromEntries(versionFiles(stored).map((f) => [f.name, f.content]));
  const saved = await saveRules(deps, { files, message: input.message ?? `roll back to version ${input.version}`, by: input.by });
  return { ...saved, rolledBackTo: input.version };
}
