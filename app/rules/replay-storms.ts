import type { Knex } from 'knex';
import { replayInhibition, type ReplayStormEvent } from '../../core/storms/replay';
import type { SlaCache } from '../slas/sla-cache';
import { periodAlerts } from '../../db/queries/storms';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { stormRulesOf, type StormRules } from '../../rules/engine/storm-rules';
import { buildFacts } from '../alerts/build-facts';
import { matchStormRules } from '../alerts/storms';

/**
 * The replay diff for inhibit rules (R-STORM-1, issue 18 item 3): the period's stored alerts,
 * firing and resolved, replayed in occurrence order with the live and the candidate ruleset's
 * inhibit rules (core/storms/replay.ts) — "the tickets it would have prevented last week". Facts
 * are the worker's (`buildFacts` without discovery) in READ ONLY transactions; nothing is written.
 * Null when neither ruleset has an enabled inhibit rule.
 */

export interface StormReplayReport {
  alertsEvaluated: number;
  truncated: boolean;
  live: { muted: number; ticketsPrevented: number };
  candidate: { muted: number; ticketsPrevented: number };
  /** candidate − live: tickets the candidate would prevent (negative: it would let more through). */
  ticketsPrevented: number;
  /** Alerts the candidate mutes and the live ruleset does not (ids, at most 5, in occurrence order). */
  examples: string[];
}

function eventsOf(rules: StormRules, alert: { id: string; dedup_key: string; state: string; occurred_at: Date }, item: Parameters<typeof matchStormRules>[1]): ReplayStormEvent {
  const m = matchStormRules(rules, item);
  return {
    alertId: String(alert.id),
    dedupKey: alert.dedup_key,
    state: alert.state === 'resolved' ? 'resolved' : 'firing',
    at: alert.occurred_at,
    sources: m.sources.map((s) => ({ rule: s.rule.def.name, equalKey: s.equalKey, matchesTarget: s.matchesTarget })),
    targets: m.targets.map((t) => ({ rule: t.rule.def.name, equalKey: t.equalKey, matchesSource: t.matchesSource })),
  };
}

const releaseOf = (rules: StormRules): Record<string, 'open' | 'stay'> => Object.fromEntries(rules.inhibit.map((r) => [r.def.name, r.def.whenSourceResolves]));

export async function replayStorms(
  db: Knex,
  o: { live: CompiledRuleset; candidate: CompiledRuleset; since: Date; until: Date; limit: number; slas: SlaCache; batchSize?: number; fallbackZone?: string | undefined },
): Promise<StormReplayReport | null> {
  const live = stormRulesOf(o.live);
  const cand = stormRulesOf(o.candidate);
  if (live.inhibit.length === 0 && cand.inhibit.length === 0) return null;
  const batchSize = Math.max(1, Math.min(o.batchSize ?? 200, 1000));
  const liveEvents: ReplayStormEvent[] = [];
  const candEvents: ReplayStormEvent[] = [];
  let afterId: string | null = null;
  let evaluated = 0;
  let truncated = false;
  while (evaluated < o.limit) {
    const want = Math.min(batchSize, o.limit - evaluated);
    const fetched = await periodAlerts(db, { since: o.since, until: o.until, afterId, limit: want + 1 });
    const batch = fetched.slice(0, want);
    if (batch.length === 0) break;
    if (fetched.length > want && evaluated + batch.length >= o.limit) truncated = true;
    await db.transaction(async (trx) => {
      await trx.raw('SET TRANSACTION READ ONLY');
      for (const alert of batch) {
        const built = await buildFacts(trx, o.slas, { alert, source: alert.source_name, discover: false, fallbackZone: o.fallbackZone });
        const item = { id: String(alert.id), alert: { ...alert, id: String(alert.id) }, facts: built.facts, companyId: built.company?.id ?? null };
        liveEvents.push(eventsOf(live, alert, item));
        candEvents.push(eventsOf(cand, alert, item));
      }
    });
    evaluated += batch.length;
    afterId = String(batch[batch.length - 1]!.id);
    if (fetched.length <= want) break;
  }
  const l = replayInhibition(liveEvents, releaseOf(live));
  const c = replayInhibition(candEvents, releaseOf(cand));
  const liveMuted = new Set(l.mutedAlertIds);
  return {
    alertsEvaluated: evaluated,
    truncated,
    live: { muted: l.mutedAlertIds.length, ticketsPrevented: l.ticketsPrevented },
    candidate: { muted: c.mutedAlertIds.length, ticketsPrevented: c.ticketsPrevented },
    ticketsPrevented: c.ticketsPrevented - l.ticketsPrevented,
    examples: c.mutedAlertIds.filter((id) => !liveMuted.has(id)).slice(0, 5),
  };
}
