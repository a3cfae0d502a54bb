import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuleIssue } from './types';
import { RULES_LIMITS, validateRuleset, type RulesFileInput, type ValidateOptions, type ValidationResult } from './validate';

/**
 * Reading RULES_DIR: every `*.json` directly in it, in file name order (code-unit order, so
 * `00-default.json` comes before `10-backup.json` on every machine). Dotfiles and directories are
 * skipped (editors' swap files; Kubernetes ConfigMap mounts keep `..data/` beside the files).
 */
export async function readRulesDir(dir: string, maxFileBytes = RULES_LIMITS.maxFileBytes): Promise<{ files: RulesFileInput[]; errors: RuleIssue[] }> {
  const errors: RuleIssue[] = [];
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return { files: [], errors: [{ severity: 'error', file: dir, rule: null, pointer: '', message: `cannot read the rules directory: ${reason}` }] };
  }
  const files: RulesFileInput[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const full = path.join(dir, name);
    try {
      const stat = await fs.stat(full);
      if (!stat.isFile()) continue;
      if (stat.size > maxFileBytes) {
        errors.push({ severity: 'error', file: name, rule: null, pointer: '', message: `file is ${stat.size} bytes; the limit is ${maxFileBytes}` });
        continue;
      }
      const text = (await fs.readFile(full, 'utf8')).replace(/^\uFEFF/, '');
      files.push({ name, text });
    } catch (e) {
      // A file removed between readdir and read (an editor's atomic save): the next event reloads.
      const reason = e instanceof Error ? e.message : String(e);
      errors.push({ severity: 'error', file: name, rule: null, pointer: '', message: `cannot read: ${reason}` });
    }
  }
  return { files, errors };
}

/** Reads and validates a rules directory; read failures are errors like any other. */
export async function validateRulesDir(dir: string, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const { files, errors } = await readRulesDir(dir, opts.limits?.maxFileBytes);
  const result = validateRuleset(files, opts);
  if (errors.length === 0) return result;
  const { ruleset: _dropped, ...rest } = result;
  return { ...rest, ok: false, errors: [...errors, ...result.errors] };
}
