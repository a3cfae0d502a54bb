import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import type { MatchableWindow } from '../../core/maintenance/window-match';
import { firingAlertsStored, type StoredFiringAlert } from '../../db/queries/alert-processing';
import { loadApiWindows, matchWindowInMemory } from '../../db/queries/maintenance-windows';
import { rulesetWindows } from '../maintenance/ruleset-windows';
import {
  advanceReplay,
  countReplayAlerts,
  failReplay,
  finishReplay,
  getReplay,
  insertReplay,
  startReplay,
  type NewReplayChange,
} from '../../db/queries/rule-replays';
import { getService } from '../../db/queries/services';
import type { SlaCache } from '../slas/sla-cache';
import type { RuleReplayRow } from '../../db/tables';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { decide } from '../../rules/engine/decide';
import { buildFactsBatch, type BuiltFacts } from '../alerts/build-facts';
import { resolveAssignment, type RefMemo } from '../alerts/assign-contract';
import { compileCandidateTexts, checkCandidateTexts, rulesetVersionFromDb } from './candidate';
import { materialOf } from './replay';

/**
 * Replays for large periods (issue 17 item 2 "Replay"): `requestReplay` validates the candidate
 * (422 with its problems), records the replay and hands its id to the queue; `runReplay` — the
 * `rule-replays` worker — decides the firing alerts of the period in batches (one read of
 * `batchSize` alerts at a time, never the whole period) with the version that was live when it was
 * asked for and with the candidate, and stores every alert whose ticket fields would change, by
 * name (contract, service, SLA as the worker's `resolveAssignment` resolves them). Progress and
 * changes are rows; a retried job resumes at the cursor of its last committed batch.
 */

/** The fields a replay compares; each changed one is counted in `byField`. */
export const REPLAY_FIELDS = ['outcome', 'contract', 'service', 'sla', 'priority', 'queue', 'needsTriage', 'suppressReason', 'maintenanceWindow'] as const;
export type ReplayField = (typeof REPLAY_FIELDS)[number];
export type ReplayValues = Record<ReplayField, string | boolean | null>;

export interface ReplayChange {
  field: ReplayField;
  before: string | boolean | null;
  after: string | boolean | null;
}

const storedCandidate = (files: Readonly<Record<string, string>>) => ({ files: Object.entries(files).map(([name, text]) => ({ name, text })) });

function candidateFilesOf(row: RuleReplayRow): Record<string, string> {
  const c = row.candidate as { files?: Array<{ name: string; text: string }> } | null;
  if (!c || !Array.isArray(c.files)) throw new HubError('INTERNAL', `replay ${row.id} has an unreadable candidate`);
  return Object.fromEntries(c.files.map((f) => [f.name, f.text]));
}

export async function requestReplay(
  db: Knex,
  o: { files: Readonly<Record<string, string>>; since: Date; until: Date; liveVersion: number; by: string; enqueue: (replayId: string) => Promise<void> },
): Promise<RuleReplayRow> {
  const checked = await compileCandidateTexts(db, o.files);
  const row = await insertReplay(db, { since: o.since, until: o.until, candidate: storedCandidate(o.files), candidateHash: checked.contentHash, liveVersion: o.liveVersion, createdBy: o.by });
  try {
    await o.enqueue(String(row.id));
  } catch (e) {
    await failReplay(db, String(row.id), `could not be queued: ${e instanceof Error ? e.message : String(e)}`, true);
    throw new HubError('NOT_READY', 'the replay could not be queued (Redis unavailable); try again', { retryAfterSeconds: 5 });
  }
  return row;
}

export interface ReplayRunDeps {
  db: Knex;
  slas: SlaCache;
  /** Alerts per batch (and per read-only transaction). @defaultValue 500 */
  batchSize?: number;
  /** The zone an alert's date is counted in when neither its company nor its SLA has one (HUB_RENEWAL_TIMEZONE), as the worker counts it. @defaultValue 'UTC' */
  fallbackZone?: string | undefined;
}

/** Runs (or resumes) one replay to its end. Idempotent: a finished replay is left as it is. */
export async function runReplay(deps: ReplayRunDeps, replayId: string): Promise<RuleReplayRow | undefined> {
  const { db } = deps;
  const batchSize = Math.max(1, Math.min(deps.batchSize ?? 500, 2000));
  const initial = await getReplay(db, replayId);
  if (!initial || initial.state === 'done' || initial.state === 'failed') return initial;

  const live = await rulesetVersionFromDb(db, initial.live_version);
  if (!live) throw new HubError('INTERNAL', `ruleset version ${initial.live_version} of replay ${replayId} is gone`);
  // The candidate's references were checked when the replay was asked for; a contract deleted since simply finds nothing.
  const checked = await checkCandidateTexts(null, candidateFilesOf(initial));
  if (!checked.ok) throw new HubError('RULES_INVALID', `replay ${replayId}: the stored candidate no longer compiles`);
  const candidate = checked.ruleset;

  const total = initial.progress_total ?? (await countReplayAlerts(db, initial.since, initial.until));
  let row = await startReplay(db, replayId, total);
  if (!row) return getReplay(db, replayId);

  const apiWindows = await loadApiWindows(db, { from: row.since });
  const windows = { live: [...apiWindows, ...rulesetWindows(live).windows], candidate: [...apiWindows, ...rulesetWindows(candidate).windows] };

  for (;;) {
    const from = row.cursor_alert_id === null ? null : String(row.cursor_alert_id);
    const batch = await firingAlertsStored(db, { since: row.since, until: row.until, afterId: from, limit: batchSize });
    if (batch.length === 0) break;
    const changes = await readOnly(db, (trx) => changedAlerts(trx, deps.slas, batch, { live, candidate }, windows, deps.fallbackZone));
    const to = String(batch[batch.length - 1]!.id);
    const advanced = await db.transaction((trx) => advanceReplay(trx, { id: replayId, from, to, evaluated: batch.length, changes }));
    const next = await getReplay(db, replayId);
    if (!next || next.state !== 'running') return next;
    // Not advanced: another run of this replay moved the cursor first; go on from where it is.
    if (!advanced && next.cursor_alert_id === row.cursor_alert_id) throw new Error(`replay ${replayId}: the cursor did not move`);
    row = next;
    if (batch.length < batchSize) break;
  }
  await finishReplay(db, replayId);
  return getReplay(db, replayId);
}

/** Records a failed attempt (the last one fails the replay). */
export async function replayAttemptFailed(db: Knex, replayId: string, error: unknown, final: boolean): Promise<void> {
  await failReplay(db, replayId, error instanceof Error ? error.message : String(error), final);
}

async function changedAlerts(
  trx: Knex.Transaction,
  slas: SlaCache,
  batch: readonly StoredFiringAlert[],
  rulesets: { live: CompiledRuleset; candidate: CompiledRuleset },
  windows: { live: MatchableWindow[]; candidate: MatchableWindow[] },
  fallbackZone: string | undefined,
): Promise<NewReplayChange[]> {
  const built = await buildFactsBatch(
    trx,
    slas,
    batch.map((alert) => ({ alert, source: alert.source_name })),
    { discover: false, fallbackZone },
  );
  const refs: RefMemo = new Map();
  const out: NewReplayChange[] = [];
  for (const [i, alert] of batch.entries()) {
    const b = built[i]!;
    const before = await valuesOf(trx, slas, rulesets.live, windows.live, alert, b, refs);
    const after = await valuesOf(trx, slas, rulesets.candidate, windows.candidate, alert, b, refs);
    const changes: ReplayChange[] = REPLAY_FIELDS.filter((f) => before[f] !== after[f]).map((f) => ({ field: f, before: before[f], after: after[f] }));
    if (changes.length === 0) continue;
    out.push({
      alert_id: String(alert.id),
      occurred_at: alert.occurred_at,
      title: alert.title,
      device: { id: b.device ? String(b.device.id) : null, hostname: b.device?.hostname ?? alert.hostname },
      changes,
      fields: changes.map((c) => c.field),
    });
  }
  return out;
}

/** What a ticket of this alert would carry under `ruleset`, with contract, service and SLA by name. */
async function valuesOf(
  trx: Knex.Transaction,
  slas: SlaCache,
  ruleset: CompiledRuleset,
  windows: readonly MatchableWindow[],
  alert: StoredFiringAlert,
  b: BuiltFacts,
  refs: RefMemo,
): Promise<ReplayValues> {
  const decision = decide(ruleset, b.facts);
  const ctx = { alert, companyId: b.company?.id ?? null, deviceId: b.device?.id ?? null, at: alert.occurred_at, company: b.company, device: b.device };
  const m = materialOf(decision, alert.severity, decision.outcome === 'ticket' ? matchWindowInMemory(windows, ctx) : null);
  const values: ReplayValues = {
    outcome: m.outcome,
    contract: null,
    service: null,
    sla: null,
    priority: m.priority,
    queue: m.queue,
    needsTriage: m.needsTriage,
    suppressReason: m.suppressReason,
    maintenanceWindow: m.maintenanceWindow,
  };
  if (m.outcome !== 'ticket') return values;
  const chosen = await resolveAssignment(trx, decision, { company: b.company, deviceContract: b.deviceContract, defaultContract: b.defaultContract, date: b.date }, refs);
  values.contract = chosen.contract?.name ?? null;
  values.needsTriage = decision.needsTriage || !chosen.contract;
  if (chosen.serviceId) {
    const id = chosen.serviceId;
    const s = (await memo(refs, `service-name\u0000${id}`, () => getService(trx, id))) as { name: string } | undefined;
    values.service = s?.name ?? null;
  }
  if (chosen.slaId) values.sla = (await slas.get(trx, chosen.slaId))?.row.name ?? null;
  return values;
}

function memo<T>(refs: RefMemo, key: string, load: () => Promise<T>): Promise<T> {
  let p = refs.get(key) as Promise<T> | undefined;
  if (!p) refs.set(key, (p = load()));
  return p;
}

/** Runs `fn` in a READ ONLY transaction: Postgres itself refuses any write a bug might attempt. */
async function readOnly<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION READ ONLY');
    return fn(trx);
  });
}
