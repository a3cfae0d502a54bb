import { Command, Option } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../config/env';
import { isHubError } from '../../core/errors';
import { createDb } from '../../db/connection';
import { SlaCache } from '../../app/slas/sla-cache';
import { formatIssue } from '../../rules/engine/format';
import type { RuleIssue } from '../../rules/engine/types';
import { liveRulesetFromDb } from '../../app/rules/candidate';
import { diffRules } from '../../app/rules/diff-rules';
import type { MaterialDecision, ReplayReport } from '../../app/rules/replay';
import { checkPeriod, parseInstant, parsePeriodStart } from '../../app/rules/replay-period';

/** Where the command reads and writes; tests pass their own database and capture output. */
export interface RulesDiffIo {
  openDb(): Knex;
  closeDb(db: Knex): Promise<void>;
  out(line: string): void;
  err(line: string): void;
  setExitCode(code: number): void;
  now(): Date;
  /** The zone alert dates are counted in when neither company nor SLA names one (HUB_RENEWAL_TIMEZONE), as the worker counts them. @defaultValue UTC */
  zone?(): string;
}

const defaultIo: RulesDiffIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  now: () => new Date(),
  zone: () => loadConfig().HUB_RENEWAL_TIMEZONE,
};

const show = (v: string | null): string => v ?? '—';

/** One decision in a table cell: `ticket contract=ref:BACKUP service=backup priority=high`. */
export function describeMaterial(m: MaterialDecision): string {
  if (m.outcome === 'suppress') return `suppress (${show(m.suppressReason)})`;
  if (m.outcome === 'maintenance') return `maintenance (${show(m.maintenanceWindow)})`;
  const parts = [`contract=${show(m.contract)}`, `service=${show(m.service)}`, `sla=${show(m.sla)}`, `priority=${show(m.priority)}`, `queue=${show(m.queue)}`];
  return `ticket ${parts.join(' ')}${m.needsTriage ? ' triage' : ''}`;
}

/** The changed fields only, so a row says what the edit does: `queue: — → backup`. */
export function describeChange(from: MaterialDecision, to: MaterialDecision): string {
  if (from.outcome !== to.outcome) return `${describeMaterial(from)} → ${describeMaterial(to)}`;
  const keys = Object.keys(from) as Array<keyof MaterialDecision>;
  return keys
    .filter((k) => from[k] !== to[k])
    .map((k) => `${k}: ${String(from[k] ?? '—')} → ${String(to[k] ?? '—')}`)
    .join(', ');
}

export function printReport(io: Pick<RulesDiffIo, 'out'>, report: ReplayReport, header: { liveVersion: number; since: Date; until: Date }): void {
  io.out(`replay ${header.since.toISOString()} → ${header.until.toISOString()} against live version ${header.liveVersion}`);
  io.out(`${report.alertsEvaluated} alerts evaluated${report.truncated ? ' (limit reached: more alerts in the period)' : ''}: ${report.changed} would change, ${report.unchanged} unchanged`);
  if (report.changes.length === 0) return;
  const rows = report.changes.map((c) => ({ count: String(c.count), change: describeChange(c.from, c.to), examples: c.examples.join(',') }));
  const w = { count: Math.max(5, ...rows.map((r) => r.count.length)), change: Math.max(6, ...rows.map((r) => r.change.length)) };
  io.out('');
  io.out(`${'count'.padStart(w.count)}  ${'change'.padEnd(w.change)}  examples (alert ids)`);
  io.out(`${'-'.repeat(w.count)}  ${'-'.repeat(w.change)}  ${'-'.repeat(20)}`);
  for (const r of rows) io.out(`${r.count.padStart(w.count)}  ${r.change.padEnd(w.change)}  ${r.examples}`);
}

function printIssues(io: RulesDiffIo, issues: readonly RuleIssue[]): void {
  for (const issue of issues) io.err(`${issue.severity === 'error' ? 'error  ' : 'warning'} ${formatIssue(issue)}`);
}

const issuesOf = (e: unknown): RuleIssue[] | null => {
  if (!isHubError(e) || e.code !== 'RULES_INVALID') return null;
  const d = e.details;
  return typeof d === 'object' && d !== null && 'errors' in d && Array.isArray(d.errors) ? (d.errors as RuleIssue[]) : null;
};

/**
 * `hub rules diff --since 7d <candidate-dir>`: replays the stored alerts of the period with the
 * candidate rules and the live ruleset (the latest version recorded in the database) and prints
 * which decisions would change, with counts and example alert ids. Writes nothing. Exit 1 when the
 * candidate is invalid; with `--fail-on-change`, also when any decision would change (for CI).
 */
export function registerRulesDiffCommand(program: Command, io: RulesDiffIo = defaultIo): void {
  const rules = program.commands.find((c) => c.name() === 'rules') ?? program.command('rules').description('rules files: check, test, diff');
  rules
    .command('diff')
    .description('replay stored alerts with candidate rules and show which decisions would change (nothing is written)')
    .argument('<candidate-dir>', 'directory with the candidate rules files (*.json)')
    .addOption(new Option('--since <when>', 'start of the period: 7d, 24h, 90m, 2w or an ISO 8601 instant').default('7d'))
    .option('--until <instant>', 'end of the period (ISO 8601), default now')
    .option('--limit <n>', 'evaluate at most this many alerts', '10000')
    .option('--json', 'print the report as JSON')
    .option('--fail-on-change', 'exit 1 when any decision would change')
    .action(async (dir: string, opts: { since: string; until?: string; limit: string; json?: boolean; failOnChange?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) throw new Error('--limit: must be a whole number from 1 to 1000000');
      const now = io.now();
      const since = parsePeriodStart(opts.since, now, '--since');
      const until = opts.until ? parseInstant(opts.until, '--until') : now;
      checkPeriod(since, until);

      const db = io.openDb();
      try {
        const live = await liveRulesetFromDb(db);
        if (!live) {
          io.err('error   no ruleset was ever recorded in this database: start the hub (or reload the rules) first');
          io.setExitCode(1);
          return;
        }
        let diff;
        try {
          diff = await diffRules(db, { live, candidate: { dir }, since, until, limit, slas: new SlaCache(), fallbackZone: io.zone?.() ?? 'UTC' });
        } catch (e) {
          const issues = issuesOf(e);
          if (!issues) throw e;
          printIssues(io, issues);
          io.err(`✗ ${dir}: the candidate rules are invalid (${issues.length} error${issues.length === 1 ? '' : 's'})`);
          io.setExitCode(1);
          return;
        }
        const { candidate: compiled, report, storms } = diff;
        if (opts.json) {
          io.out(JSON.stringify({ live: { version: live.version, contentHash: live.contentHash }, candidate: { contentHash: compiled.ruleset.contentHash }, since, until, ...report, storms }, null, 2));
        } else {
          printIssues(io, compiled.warnings);
          printReport(io, report, { liveVersion: live.version, since, until });
          if (storms) {
            io.out('');
            io.out(
              `inhibit rules: the candidate would mute ${storms.candidate.muted} alerts (live: ${storms.live.muted}) and prevent ${storms.ticketsPrevented} more tickets than live` +
                (storms.examples.length > 0 ? `; examples (alert ids): ${storms.examples.join(',')}` : ''),
            );
          }
        }
        io.setExitCode(opts.failOnChange && report.changed > 0 ? 1 : 0);
      } finally {
        await io.closeDb(db);
      }
    });
}
