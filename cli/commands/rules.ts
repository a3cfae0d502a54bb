import fs from 'node:fs/promises';
import { Command, Option } from 'commander';
import knex, { type Knex } from 'knex';
import { envSchema } from '../../config/env';
import { knexConfig } from '../../db/connection';
import { loadRefCatalog } from '../../db/queries/rulesets';
import { testRulesDir } from '../../app/rules/test-rules';
import type { Explanation, TraceRule } from '../../rules/engine/explain';
import { factsFromInput } from '../../rules/engine/facts-input';
import { formatIssue } from '../../rules/engine/format';
import { validateRulesDir } from '../../rules/engine/load-dir';
import type { RefCatalog, RuleIssue } from '../../rules/engine/types';
import type { ValidationResult } from '../../rules/engine/validate';

/** Where the commands read and write; tests pass their own and capture output. */
export interface RulesCliIo {
  /** A database for the reference checks; null when none is configured. */
  openDb(url: string): Knex;
  closeDb(db: Knex): Promise<void>;
  out(line: string): void;
  err(line: string): void;
  /** The process's exit code (the command returns normally so the caller can clean up). */
  setExitCode(code: number): void;
}

const defaultIo: RulesCliIo = {
  // A short acquire timeout: an admin's pre-commit hook must not hang on an unreachable database.
  openDb: (url) =>
    knex({
      ...knexConfig(url, 1),
      acquireConnectionTimeout: 4000,
      // An unreachable database is reported once, as a note, not as knex's connection warnings.
      log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
    }),
  closeDb: (db) => db.destroy(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

interface DbOptions {
  databaseUrl?: string;
  offline?: boolean;
}

/** The catalog of names and codes, or null (with the reason) when there is no database to ask. */
async function catalogFor(io: RulesCliIo, opts: DbOptions): Promise<{ catalog: RefCatalog | null; note?: string }> {
  if (opts.offline) return { catalog: null, note: 'offline: contract/service/SLA references not checked' };
  if (!opts.databaseUrl) return { catalog: null, note: 'no DATABASE_URL: contract/service/SLA references not checked' };
  const url = envSchema.shape.DATABASE_URL.safeParse(opts.databaseUrl);
  if (!url.success) return { catalog: null, note: `DATABASE_URL is not a postgres:// URL: references not checked` };
  const db = io.openDb(url.data);
  try {
    return { catalog: await loadRefCatalog(db) };
  } catch (e) {
    return { catalog: null, note: `database unreachable (${e instanceof Error ? e.message : String(e)}): references not checked` };
  } finally {
    await io.closeDb(db).catch(() => undefined);
  }
}

const dbOptions = (cmd: Command): Command =>
  cmd
    .addOption(new Option('--database-url <url>', 'database for checking contract/service/SLA references').env('DATABASE_URL'))
    .option('--offline', 'do not connect to the database (references become warnings)')
    .addOption(new Option('--rules-dir <dir>', 'rules directory when [dir] is not given').env('RULES_DIR').default('rules/'));

function printIssues(io: RulesCliIo, issues: readonly RuleIssue[]): void {
  for (const issue of issues) (issue.severity === 'error' ? io.err : io.out)(`${issue.severity === 'error' ? 'error  ' : 'warning'} ${formatIssue(issue)}`);
}

const show = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
/** A fact value as the rule saw it: null and a missing property are different things there. */
const shown = (v: unknown): string => (v === undefined ? '(missing)' : JSON.stringify(v));

function printExplanation(io: RulesCliIo, ex: Explanation): void {
  const d = ex.decision;
  const a = d.assignment;
  const contract = a.contract === null ? '—' : typeof a.contract === 'string' ? a.contract : a.contract.ref;
  io.out(`decision: ${d.outcome === 'suppress' ? `suppress (${d.suppressReason ?? ''})` : 'ticket'}${d.needsTriage ? ', needs triage' : ''}`);
  io.out(`  contract ${contract}  service ${show(a.service)}  sla ${show(a.sla)}  priority ${show(a.priority)}  queue ${show(a.queue)}`);
  const extras = (['holdOffSeconds', 'reopenWindowMinutes', 'staleAfterMinutes', 'resolveAction'] as const).filter((k) => d[k] !== undefined).map((k) => `${k} ${String(d[k])}`);
  if (extras.length) io.out(`  ${extras.join('  ')}`);
  io.out('rules:');
  const line = (t: TraceRule): string => {
    const head = `${t.rule} (priority ${t.priority}, ${t.file})`;
    if (t.fired) return `  ✓ ${head} → ${t.event.type}${t.event.params ? ` ${JSON.stringify(t.event.params)}` : ''}`;
    if (t.skipped) return `  - ${head}: skipped, a higher-priority rule stopped the run`;
    const f = t.failedCondition;
    if (!f) return `  ✗ ${head}`;
    const what = `${f.fact}${f.path ? ` ${f.path}` : ''} ${f.negated ? 'not ' : ''}${f.operator} ${JSON.stringify(f.value)}`;
    return `  ✗ ${head}: ${what} — was ${shown(f.factValue)} (${f.file} ${f.pointer}${f.via ? `, shared condition ${f.via}` : ''})`;
  };
  for (const t of ex.trace) io.out(line(t));
  if (!ex.referenceAgrees) io.err('warning the compiled decision and json-rules-engine disagree on the rules fired: please report this');
}

/**
 * `hub rules check [dir]` (for an admin's pre-commit hook or CI: exit 1 on any error) and
 * `hub rules test <alert.json>` (a dry run with the decision's trace; nothing is created).
 */
export function registerRulesCommands(program: Command, io: RulesCliIo = defaultIo): void {
  const rules = program.command('rules').description('validate rules files and dry-run alerts against them');

  dbOptions(
    rules
      .command('check')
      .description('validate a rules directory; exit 1 on any error')
      .argument('[dir]', 'rules directory (default: RULES_DIR, else rules/)')
      .option('--strict', 'treat warnings as errors')
      .option('--json', 'print the result as JSON'),
  ).action(async (dirArg: string | undefined, opts: DbOptions & { rulesDir: string; strict?: boolean; json?: boolean }) => {
    const dir = dirArg ?? opts.rulesDir;
    const { catalog, note } = await catalogFor(io, opts);
    const result = await validateRulesDir(dir, { catalog });
    const failed = !result.ok || (opts.strict === true && result.warnings.length > 0);
    if (opts.json) {
      io.out(JSON.stringify({ ok: !failed, dir, contentHash: result.contentHash, ruleCount: result.ruleset?.rules.length ?? null, errors: result.errors, warnings: result.warnings, note: note ?? null }, null, 2));
    } else {
      if (note) io.out(`note    ${note}`);
      printIssues(io, [...result.errors, ...result.warnings]);
      io.out(summary(dir, result, failed));
    }
    io.setExitCode(failed ? 1 : 0);
  });

  dbOptions(
    rules
      .command('test')
      .description('dry-run one alert: the decision and why (nothing is created)')
      .argument('<alert.json>', 'facts ({ "alert": {...}, "device"?, "company"?, ... }) or a generic alert ({ "alertId", ... })')
      .option('--dir <dir>', 'rules directory (default: RULES_DIR, else rules/)')
      .option('--at <instant>', 'decide as of this ISO 8601 instant instead of the alert\'s occurredAt')
      .option('--timezone <zone>', 'IANA zone of the time fact when no SLA gives one', 'UTC')
      .addOption(new Option('--business-hours <yes|no>', 'whether the instant is within business hours (default: Mon–Fri 08:00–17:00)').choices(['yes', 'no']))
      .option('--json', 'print facts, decision and trace as JSON'),
  ).action(
    async (
      file: string,
      opts: DbOptions & { rulesDir: string; dir?: string; at?: string; timezone: string; businessHours?: 'yes' | 'no'; json?: boolean },
    ) => {
      let input: unknown;
      try {
        input = JSON.parse(await fs.readFile(file, 'utf8'));
      } catch (e) {
        io.err(`error   ${file}: ${e instanceof Error ? e.message : String(e)}`);
        io.setExitCode(1);
        return;
      }
      let facts;
      try {
        facts = factsFromInput(input, {
          ...(opts.at ? { at: opts.at } : {}),
          timezone: opts.timezone,
          ...(opts.businessHours ? { businessHours: opts.businessHours === 'yes' } : {}),
        });
      } catch (e) {
        io.err(`error   ${file}: ${e instanceof Error ? e.message : String(e)}`);
        io.setExitCode(1);
        return;
      }
      const dir = opts.dir ?? opts.rulesDir;
      const { catalog } = await catalogFor(io, opts);
      const tested = await testRulesDir(dir, facts, catalog);
      if (!tested.ok) {
        printIssues(io, tested.validation.errors);
        io.out(summary(dir, tested.validation, true));
        io.setExitCode(1);
        return;
      }
      const ex = tested.explanation;
      if (opts.json) io.out(JSON.stringify({ facts, ...ex }, null, 2));
      else printExplanation(io, ex);
      io.setExitCode(ex.referenceAgrees ? 0 : 1);
    },
  );
}

function summary(dir: string, result: ValidationResult, failed: boolean): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const files = result.ruleset?.files.length;
  const rulesPart = result.ruleset ? `${count(result.ruleset.rules.length, 'rule')} in ${count(files ?? 0, 'file')}, ` : '';
  return `${failed ? '✗' : '✓'} ${dir}: ${rulesPart}${count(result.errors.length, 'error')}, ${count(result.warnings.length, 'warning')} (content ${result.contentHash.slice(0, 12)})`;
}
