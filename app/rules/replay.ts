import type { Knex } from 'knex';
import type { MatchableWindow } from '../../core/maintenance/window-match';
import { priorityFor } from '../../core/tickets/ticket-text';
import { firingAlertsStored } from '../../db/queries/alert-processing';
import { loadApiWindows, matchWindowInMemory } from '../../db/queries/maintenance-windows';
import { rulesetWindows } from '../maintenance/ruleset-windows';
import type { SlaCache } from '../slas/sla-cache';
import type { AlertRow } from '../../db/tables';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { decide } from '../../rules/engine/decide';
import type { Decision, Priority } from '../../rules/engine/types';
import { buildFacts } from '../alerts/build-facts';

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
  /** The zone an alert's date is counted in when neither its company nor its SLA has one (HUB_RENEWAL_TIMEZONE), as the worker counts it. @defaultValue 'UTC' */
  fallbackZone?: string | undefined;
}

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
    priority: priorityFor(severity, a.priority),
    queue: a.queue,
    needsTriage: decision.needsTriage,
    suppressReason: null,
    maintenanceWindow: null,
  };
}

// Fixed key order (the object is built field by field above), so equal decisions have equal keys.
const keyOf = (m: MaterialDecision): string => JSON.stringify(m);

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
    const fetched = await firingAlertsStored(db, { since: o.since, until: o.until, afterId, limit: want + 1 });
    const batch = fetched.slice(0, want);
    if (batch.length === 0) break;
    if (fetched.length > want && evaluated + batch.length >= o.limit) truncated = true;

    const decided = await readOnly(db, async (trx) => {
      const out: Array<{ id: string; from: MaterialDecision; to: MaterialDecision }> = [];
      for (const alert of batch) {
        const built = await buildFacts(trx, o.slas, { alert, source: alert.source_name, discover: false, fallbackZone: o.fallbackZone });
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
