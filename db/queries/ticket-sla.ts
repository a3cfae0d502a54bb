import type { Knex } from 'knex';
import { AT_RISK_FRACTION, type SlaState } from '../../core/slas/sla-state';
import type { Db } from '../connection';
import type { TicketSlaBreachRow } from '../tables';

/**
 * R-TKT-2 in SQL: the breaches the upkeep job records, and the SLA state and next due date of a
 * ticket as expressions for the list's filter and sort. They state core/slas/sla-state.ts's rules
 * (`slaStateOf`, `nextDueAt`) over the columns of `tickets` aliased `t`; the ticket SLA tests hold
 * the two equal.
 */

/** The instant the SLA clock stands at: the pause's start while paused, else now (`?` = now). */
const CLOCK = `COALESCE(t.sla_paused_at, ?::timestamptz)`;
const RESPONSE_MET = `COALESCE(t.first_response_at, t.resolved_at, t.closed_at)`;
const RESOLUTION_MET = `COALESCE(t.resolved_at, t.closed_at)`;

/** SQL for "the ticket's next open due date" (no parameters). */
export const NEXT_DUE_SQL = `LEAST(
  CASE WHEN t.first_response_due_at IS NOT NULL AND ${RESPONSE_MET} IS NULL THEN t.first_response_due_at END,
  CASE WHEN t.resolution_due_at IS NOT NULL AND ${RESOLUTION_MET} IS NULL THEN t.resolution_due_at END)`;

/**
 * NEXT_DUE_SQL split by which due date is the next one, so `sort=nextDue` can read each part from
 * its index (migration 20261208030000) instead of computing every ticket's next due date. `where`
 * states exactly "`due` is not null and equals NEXT_DUE_SQL" (a tie goes to the response): a ticket
 * matches at most one of the two, and one of them exactly when NEXT_DUE_SQL is not null, i.e. when
 * NOTHING_DUE_SQL is false. The clauses repeat the indexes' predicates word for word, so the
 * planner proves the indexes usable.
 */
export const NEXT_DUE_BRANCHES = [
  {
    due: 't.first_response_due_at',
    where: `t.first_response_at IS NULL AND t.resolved_at IS NULL AND t.closed_at IS NULL AND t.first_response_due_at IS NOT NULL
      AND (t.resolution_due_at IS NULL OR t.first_response_due_at <= t.resolution_due_at)`,
  },
  {
    due: 't.resolution_due_at',
    where: `t.resolved_at IS NULL AND t.closed_at IS NULL AND t.resolution_due_at IS NOT NULL
      AND (t.first_response_due_at IS NULL OR t.first_response_at IS NOT NULL OR t.first_response_due_at > t.resolution_due_at)`,
  },
] as const;

/** "NEXT_DUE_SQL IS NULL" written as tickets_open_nothing_due_idx's predicate (no open due date). */
export const NOTHING_DUE_SQL = `(t.first_response_due_at IS NULL OR t.first_response_at IS NOT NULL OR t.resolved_at IS NOT NULL OR t.closed_at IS NOT NULL)
  AND (t.resolution_due_at IS NULL OR t.resolved_at IS NOT NULL OR t.closed_at IS NOT NULL)`;

/** SQL for the ticket's SLA state and its bindings (now, four times). */
export function slaStateSql(now: Date): { sql: string; bindings: Date[] } {
  const sql = `CASE
    WHEN t.first_response_due_at IS NULL AND t.resolution_due_at IS NULL THEN 'none'
    WHEN EXISTS (SELECT 1 FROM ticket_sla_breaches b WHERE b.ticket_id = t.id)
      OR t.first_response_due_at < COALESCE(${RESPONSE_MET}, ${CLOCK})
      OR t.resolution_due_at < COALESCE(${RESOLUTION_MET}, ${CLOCK}) THEN 'breached'
    WHEN (t.first_response_due_at IS NULL OR ${RESPONSE_MET} IS NOT NULL)
     AND (t.resolution_due_at IS NULL OR ${RESOLUTION_MET} IS NOT NULL) THEN 'met'
    WHEN (t.first_response_due_at IS NOT NULL AND ${RESPONSE_MET} IS NULL
          AND extract(epoch FROM t.first_response_due_at - ${CLOCK}) < ${AT_RISK_FRACTION} * extract(epoch FROM t.first_response_due_at - t.created_at))
      OR (t.resolution_due_at IS NOT NULL AND ${RESOLUTION_MET} IS NULL
          AND extract(epoch FROM t.resolution_due_at - ${CLOCK}) < ${AT_RISK_FRACTION} * extract(epoch FROM t.resolution_due_at - t.created_at)) THEN 'atRisk'
    ELSE 'onTrack' END`;
  return { sql, bindings: [now, now, now, now] };
}

export type { SlaState };

export async function listSlaBreaches(db: Db, ticketIds: readonly string[]): Promise<TicketSlaBreachRow[]> {
  if (ticketIds.length === 0) return [];
  return (await db('ticket_sla_breaches').whereIn('ticket_id', [...ticketIds]).orderBy([{ column: 'ticket_id' }, { column: 'due_at' }])) as TicketSlaBreachRow[];
}

export interface RecordedBreach {
  ticket_id: string;
  target: 'response' | 'resolution';
  due_at: Date;
  priority: TicketSlaBreachRow['priority'];
}

/**
 * Records every breach that has happened by `now` and was not recorded yet, with a ticket note
 * ("sla-breach") for each — one statement. A target is breached when its due date passed before it
 * was met (or, still open, before `now` / the start of the SLA pause in progress). Idempotent: the
 * unique (ticket, target) constraint makes a repeated or concurrent run record nothing twice.
 * Returns what this run recorded (for the metric).
 */
export async function recordSlaBreaches(db: Db | Knex.Transaction, now: Date): Promise<RecordedBreach[]> {
  const r = (await db.raw(
    `WITH due AS (
       SELECT t.id AS ticket_id, 'response' AS target, t.first_response_due_at AS due_at, t.priority
         FROM tickets t
        WHERE t.first_response_due_at IS NOT NULL AND t.first_response_due_at < ?::timestamptz
          AND t.first_response_due_at < COALESCE(${RESPONSE_MET}, ${CLOCK})
       UNION ALL
       SELECT t.id, 'resolution', t.resolution_due_at, t.priority
         FROM tickets t
        WHERE t.resolution_due_at IS NOT NULL AND t.resolution_due_at < ?::timestamptz
          AND t.resolution_due_at < COALESCE(${RESOLUTION_MET}, ${CLOCK})
     ), fresh AS (
       SELECT d.* FROM due d
        WHERE NOT EXISTS (SELECT 1 FROM ticket_sla_breaches b WHERE b.ticket_id = d.ticket_id AND b.target = d.target)
     ), ins AS (
       INSERT INTO ticket_sla_breaches (ticket_id, target, due_at, priority)
       SELECT ticket_id, target, due_at, priority FROM fresh
       ON CONFLICT ON CONSTRAINT ticket_sla_breaches_once DO NOTHING
       RETURNING ticket_id, target, due_at, priority
     ), notes AS (
       INSERT INTO ticket_notes (ticket_id, kind, body, author)
       SELECT ticket_id, 'sla-breach',
              'SLA breached: the ' || target || ' was due at ' || to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '.', 'hub'
         FROM ins
     )
     SELECT ticket_id::text AS ticket_id, target, due_at, priority FROM ins ORDER BY ticket_id, target`,
    [now, now, now, now],
  )) as { rows: RecordedBreach[] };
  return r.rows;
}

export interface SlaAttainmentRow {
  contract_id: string;
  met: number;
  breached: number;
}

/**
 * SLA attainment per contract (profitability report): tickets of the contract created in
 * [from, to] whose SLA is settled — `met` (every target met, nothing recorded as breached) or
 * `breached` (a breach recorded, or a target missed). Tickets still in time are not counted yet.
 */
export async function slaAttainmentByContract(db: Db, contractIds: readonly string[], from: string, to: string, now: Date): Promise<SlaAttainmentRow[]> {
  if (contractIds.length === 0) return [];
  const state = slaStateSql(now);
  const r = (await db.raw(
    `SELECT s.contract_id::text AS contract_id,
            count(*) FILTER (WHERE s.state = 'met')::int AS met,
            count(*) FILTER (WHERE s.state = 'breached')::int AS breached
       FROM (SELECT t.contract_id, ${state.sql} AS state
               FROM tickets t
              WHERE t.contract_id = ANY(?::bigint[])
                AND t.created_at >= ?::date AND t.created_at < (?::date + 1)) s
      GROUP BY s.contract_id`,
    [...state.bindings, [...contractIds], from, to],
  )) as { rows: SlaAttainmentRow[] };
  return r.rows;
}
