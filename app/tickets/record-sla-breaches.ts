import type { Knex } from 'knex';
import { recordSlaBreaches, type RecordedBreach } from '../../db/queries/ticket-sla';
import type { Logger } from '../../lib/logger';
import { metrics } from '../../lib/metrics';

/**
 * R-TKT-2: marks SLA breaches when they happen — run by the upkeep queue every
 * HUB_UPKEEP_INTERVAL_SECONDS (workers/schedules.ts), not when someone reads a ticket. Each breach
 * is recorded once (unique per ticket and target; safe under BullMQ's at-least-once delivery and
 * concurrent workers), as a ticket note ("sla-breach"), a metric
 * `hub_sla_breaches_total{target,priority}` and a log line.
 */
export async function recordSlaBreachesNow(deps: { db: Knex; logger: Logger; now: Date }): Promise<RecordedBreach[]> {
  const recorded = await recordSlaBreaches(deps.db, deps.now);
  for (const b of recorded) {
    metrics.slaBreaches.inc({ target: b.target, priority: b.priority });
    deps.logger.info({ ticketId: b.ticket_id, target: b.target, dueAt: b.due_at.toISOString(), priority: b.priority }, 'SLA breached');
  }
  return recorded;
}
