import type { Knex } from 'knex';
import { z } from 'zod';
import { HubError, validationError } from '../core/errors';
import type { MatchableWindow } from '../core/maintenance/window-match';
import type { Db } from '../db/connection';
import { loadApiWindows, matchWindowInMemory, rulesetWindows } from '../db/queries/maintenance-windows';
import { latestRuleset, loadRefCatalog } from '../db/queries/rulesets';
import type { SlaCache } from '../db/queries/sla-definitions';
import type { AlertRow } from '../db/tables';
import { buildFacts } from '../workers/alert-pipeline';
import { compileRuleset, type CompiledRuleset } from './engine/compile';
import { decide } from './engine/decide';
import { formatIssue } from './engine/format';
import type { Decision, Priority, RuleIssue } from './engine/types';
import { validateRuleset, type RulesFileInput } from './engine/validate';

/**
 * Replay (issue 8): evaluate a candidate ruleset over the stored alerts of a period and report
 * which decisions would change — the blast radius of an edit before it goes live. Facts are built
 * exactly as the worker builds them (`buildFacts`, without discovery), decisions by the one
 * `decide`; nothing is written (each batch runs in a READ ONLY transaction) and no ticket is
 * touched.
 *
 * Facts come from today's devices, links and contracts taken on each alert's date: links are
 * dated, so that is what the worker would decide for that alert now.
 */

/** What of a decision matters to a ticket; everything else (trace, evidence) may differ freely. */
export interface MaterialDecision {
  /** `maintenance`: a maintenance window would silence the alert. */
  outcome: 'ticket' | 'suppress' | 'maintenance';
  /** `device`, `default`, `ref:<code or name>`, or null (no contract: triage). */
  contract: string | null;
  service: string | null;
  sla: string | null;
  /** The ticket's priority: the rules' choice, else the alert's severity (as the worker does). */
  priority: Priority | null;
  queue: string | null;
  needsTriage: boolean;
  suppressReason: string | null;
  maintenanceWindow: string | null;
}

export interface ReplayChange {
  from: MaterialDecision;
  to: MaterialDecision;
  count: number;
  /** Alert ids, at most 5, lowest first. */
  examples: string[];
}

export interface ReplayReport {
  alertsEvaluated: number;
  /** More alerts of the period exist than `limit` allowed to evaluate. */
  truncated: boolean;
  changed: number;
  unchanged: number;
  /** One entry per distinct (from, to), most frequent first. */
  changes: ReplayChange[];
}

export interface ReplayOptions {
  candidate: CompiledRuleset;
  live: CompiledRuleset;
  /** Alerts stored (created_at) in [since, until). */
  since: Date;
  until: Date;
  /** At most this many alerts are evaluated. */
  limit: number;
  slas: SlaCache;
  /** Alerts read per batch (and per read-only transaction). @defaultValue 200 */
  batchSize?: number;
  /** @defaultValue 5 */
  maxExamples?: number;
}

// Mirrors the worker's fallback (workers/alert-pipeline.ts): no rule set a priority → from severity.
const SEVERITY_PRIORITY: Record<AlertRow['severity'], Priority> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'low' };

const contractText = (c: Decision['assignment']['contract']): string | null => (c === null ? null : typeof c === 'string' ? c : `ref:${c.ref}`);

export function materialOf(decision: Decision, severity: AlertRow['severity'], window: MatchableWindow | null): MaterialDecision {
  const silent = { contract: null, service: null, sla: null, priority: null, queue: null, needsTriage: false };
  if (decision.outcome === 'suppress') {
    return { outcome: 'suppress', ...silent, suppressReason: decision.suppressReason ?? null, maintenanceWindow: null };
  }
  // The worker asks maintenance windows only when the rules did not suppress.
  if (window) return { outcome: 'maintenance', ...silent, suppressReason: null, maintenanceWindow: window.name };
  const a = decision.assignment;
  return {
    outcome: 'ticket',
    contract: contractText(a.contract),
    service: a.service,
    sla: a.sla,
    priority: a.priority ?? SEVERITY_PRIORITY[severity],
    queue: a.queue,
    needsTriage: decision.needsTriage,
    suppressReason: null,
    maintenanceWindow: null,
  };
}

// Fixed key order (the object is built field by field above), so equal decisions have equal keys.
const keyOf = (m: MaterialDecision): string => JSON.stringify(m);

type ReplayAlert = Pick<
  AlertRow,
  'id' | 'source_alert_id' | 'dedup_key' | 'state' | 'severity' | 'category' | 'title' | 'message' | 'hostname' | 'site' | 'labels' | 'occurred_at' | 'device_source_id'
> & { source_name: string };

async function alertBatch(db: Db, o: { since: Date; until: Date; afterId: string | null; limit: number }): Promise<ReplayAlert[]> {
  const q = db('alerts as a')
    .join('sources as s', 's.id', 'a.source_id')
    .where('a.state', 'firing')
    .where('a.created_at', '>=', o.since)
    .where('a.created_at', '<', o.until)
    .orderBy('a.id')
    .limit(o.limit)
    .select(
      'a.id',
      'a.source_alert_id',
      'a.dedup_key',
      'a.state',
      'a.severity',
      'a.category',
      'a.title',
      'a.message',
      'a.hostname',
      'a.site',
      'a.labels',
      'a.occurred_at',
      'a.device_source_id',
      's.name as source_name',
    );
  if (o.afterId) q.where('a.id', '>', o.afterId);
  return (await q) as ReplayAlert[];
}

/**
 * Streams the firing alerts stored in [since, until) in id order, batch by batch, deciding each
 * with both rulesets. Memory stays bounded by the batch size and the number of distinct changes.
 */
export async function replayRuleset(db: Knex, o: ReplayOptions): Promise<ReplayReport> {
  const batchSize = Math.max(1, Math.min(o.batchSize ?? 200, 1000));
  const maxExamples = o.maxExamples ?? 5;
  const apiWindows = await loadApiWindows(db, { from: o.since });
  const liveWindows = [...apiWindows, ...rulesetWindows(o.live).windows];
  const candidateWindows = [...apiWindows, ...rulesetWindows(o.candidate).windows];

  const changes = new Map<string, ReplayChange>();
  let evaluated = 0;
  let changed = 0;
  let truncated = false;
  let afterId: string | null = null;

  while (evaluated < o.limit) {
    const want = Math.min(batchSize, o.limit - evaluated);
    // One more than wanted tells whether the limit cut the period short.
    const fetched = await alertBatch(db, { since: o.since, until: o.until, afterId, limit: want + 1 });
    const batch = fetched.slice(0, want);
    if (batch.length === 0) break;
    if (fetched.length > want && evaluated + batch.length >= o.limit) truncated = true;

    const decided = await readOnly(db, async (trx) => {
      const out: Array<{ id: string; from: MaterialDecision; to: MaterialDecision }> = [];
      for (const alert of batch) {
        const built = await buildFacts(trx, o.slas, { alert, source: alert.source_name, discover: false });
        const ctx = {
          alert,
          companyId: built.company?.id ?? null,
          deviceId: built.device?.id ?? null,
          at: alert.occurred_at,
          company: built.company,
          device: built.device,
        };
        const live = decide(o.live, built.facts);
        const cand = decide(o.candidate, built.facts);
        const from = materialOf(live, alert.severity, live.outcome === 'ticket' ? matchWindowInMemory(liveWindows, ctx) : null);
        const to = materialOf(cand, alert.severity, cand.outcome === 'ticket' ? matchWindowInMemory(candidateWindows, ctx) : null);
        out.push({ id: String(alert.id), from, to });
      }
      return out;
    });

    for (const d of decided) {
      evaluated += 1;
      const fromKey = keyOf(d.from);
      const toKey = keyOf(d.to);
      if (fromKey === toKey) continue;
      changed += 1;
      const key = `${fromKey}\u0000${toKey}`;
      const entry = changes.get(key);
      if (entry) {
        entry.count += 1;
        if (entry.examples.length < maxExamples) entry.examples.push(d.id);
      } else {
        changes.set(key, { from: d.from, to: d.to, count: 1, examples: [d.id] });
      }
    }
    afterId = batch[batch.length - 1]?.id ?? afterId;
    if (fetched.length <= want) break;
  }

  return {
    alertsEvaluated: evaluated,
    truncated,
    changed,
    unchanged: evaluated - changed,
    changes: [...changes.values()].sort((a, b) => b.count - a.count || Number(a.examples[0] ?? 0) - Number(b.examples[0] ?? 0)),
  };
}

/** Runs `fn` in a READ ONLY transaction: Postgres itself refuses any write a bug might attempt. */
async function readOnly<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION READ ONLY');
    return fn(trx);
  });
}

// ---- candidates and the live ruleset ----

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
  const catalog = db ? await loadRefCatalog(db) : undefined;
  const result = validateRuleset(inputs, catalog === undefined ? {} : { catalog });
  const windowIssues = result.ruleset ? parseWindowIssues(result.ruleset.maintenanceWindows) : [];
  const errors = [...result.errors, ...windowIssues];
  if (!result.ok || !result.ruleset || errors.length > 0) throw rulesInvalid(errors);
  // Version 0: a candidate has not gone live.
  const ruleset = compileRuleset(result.ruleset, { version: 0, contentHash: result.contentHash, warnings: result.warnings });
  return { ruleset, warnings: result.warnings };
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
  if (!stored) return null;
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

// ---- the period ----

const RELATIVE = /^(\d{1,4})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** A replay reads every alert of its period; a year is plenty and bounds the worst case. */
export const MAX_REPLAY_PERIOD_MS = 366 * 86_400_000;

/** `7d`, `24h`, `90m`, `2w` before `now`, or an ISO 8601 instant with offset. */
export function parsePeriodStart(text: string, now: Date, field = 'since'): Date {
  const rel = RELATIVE.exec(text.trim());
  if (rel) {
    const ms = Number(rel[1]) * (UNIT_MS[rel[2] ?? 'd'] ?? 0);
    if (ms <= 0) throw validationError(field, 'must be a positive duration such as 7d, 24h or 90m');
    return new Date(now.getTime() - ms);
  }
  return parseInstant(text, field, 'a duration such as 7d, 24h, 90m, 2w or');
}

export function parseInstant(text: string, field: string, also = ''): Date {
  const ok = z.iso.datetime({ offset: true }).safeParse(text.trim());
  if (!ok.success) throw validationError(field, `must be ${also ? `${also} ` : ''}an ISO 8601 instant with offset, e.g. 2026-11-01T00:00:00Z`);
  return new Date(text.trim());
}

export function checkPeriod(since: Date, until: Date): void {
  if (until.getTime() <= since.getTime()) throw validationError('until', `must be after since (${since.toISOString()})`);
  if (until.getTime() - since.getTime() > MAX_REPLAY_PERIOD_MS) throw validationError('since', 'the period may span at most 366 days');
}
