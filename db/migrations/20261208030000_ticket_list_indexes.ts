import type { Knex } from 'knex';

/**
 * Issue 19, the ticket list on an aged database (`GET /api/v1/tickets`, db/queries/tickets.ts
 * `listTickets`): its open-ticket lists read indexes of open tickets only, each a page at a time, so
 * their cost does not follow the year of resolved and closed history.
 *
 * - `tickets_open_id_idx (id) WHERE status NOT IN ('resolved','closed')`: open tickets by id. The
 *   list's `status=new,in_progress,…` filter implies the predicate, so "open, newest first" walks
 *   open tickets only (before: the primary key backwards past every closed ticket newer than the page).
 * - `sort=nextDue` reads its page as three index-ordered parts (db/queries/ticket-sla.ts
 *   `NEXT_DUE_BRANCHES` and `NOTHING_DUE_SQL`, whose clauses repeat these predicates word for word so the
 *   planner proves them usable) instead of computing the next due date of every open ticket and sorting:
 *   - the response part: `tickets_sla_response_open_idx` gains `id` (many tickets of one night share a
 *     due date, the next business morning, so `id` must come from the index, not a sort);
 *   - the resolution part: `tickets_resolution_next_due_idx` replaces `tickets_sla_resolution_open_idx`
 *     by only the tickets whose next due date is the resolution's (the old one also held those whose
 *     response comes first — every new ticket — which this part would read past, and the planner,
 *     misjudging the OR, preferred it).
 *   Neither old index served the breach job (db/queries/ticket-sla.ts `recordSlaBreaches`): its clauses
 *   do not imply "resolved_at IS NULL" (it also records targets met late), so it scans `tickets`
 *   (EXPLAIN on 320,000 tickets: Seq Scan) — left as it was, noted in bench/README.md.
 *   - the nothing-due part: `tickets_open_nothing_due_idx`, open tickets with no open due date, by id.
 * - `tickets_sla_progress`, extended statistics (most common combinations) of status, first response,
 *   resolved and closed: these are strongly correlated (open tickets have none of the three, history all),
 *   and multiplied as if independent they made the planner expect ~700 tickets owing a response where
 *   there were 20,000, and read and sort all of them instead of walking the index for one page.
 *
 * Up and down only add and drop indexes (no row changes).
 */
const RESPONSE_OPEN = `first_response_at IS NULL AND resolved_at IS NULL AND closed_at IS NULL AND first_response_due_at IS NOT NULL`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX tickets_open_id_idx ON tickets (id) WHERE status NOT IN ('resolved','closed');
    CREATE INDEX tickets_response_due_open_idx ON tickets (first_response_due_at, id) WHERE ${RESPONSE_OPEN};
    DROP INDEX tickets_sla_response_open_idx;
    CREATE INDEX tickets_resolution_next_due_idx ON tickets (resolution_due_at, id)
      WHERE resolved_at IS NULL AND closed_at IS NULL AND resolution_due_at IS NOT NULL
        AND (first_response_due_at IS NULL OR first_response_at IS NOT NULL OR first_response_due_at > resolution_due_at);
    DROP INDEX tickets_sla_resolution_open_idx;
    CREATE INDEX tickets_open_nothing_due_idx ON tickets (id)
      WHERE status NOT IN ('resolved','closed')
        AND (first_response_due_at IS NULL OR first_response_at IS NOT NULL OR resolved_at IS NOT NULL OR closed_at IS NOT NULL)
        AND (resolution_due_at IS NULL OR resolved_at IS NOT NULL OR closed_at IS NOT NULL);
    CREATE STATISTICS tickets_sla_progress (mcv) ON status, first_response_at, resolved_at, closed_at FROM tickets;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE INDEX IF NOT EXISTS tickets_sla_response_open_idx ON tickets (first_response_due_at) WHERE ${RESPONSE_OPEN};
    CREATE INDEX IF NOT EXISTS tickets_sla_resolution_open_idx ON tickets (resolution_due_at)
      WHERE resolved_at IS NULL AND closed_at IS NULL AND resolution_due_at IS NOT NULL;
    DROP STATISTICS IF EXISTS tickets_sla_progress;
    DROP INDEX IF EXISTS tickets_open_nothing_due_idx;
    DROP INDEX IF EXISTS tickets_resolution_next_due_idx;
    DROP INDEX IF EXISTS tickets_response_due_open_idx;
    DROP INDEX IF EXISTS tickets_open_id_idx;
  `);
}
