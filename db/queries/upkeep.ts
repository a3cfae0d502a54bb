import type { Db } from '../connection';

/**
 * Lost resolves: open tickets whose alert has not repeated for their rule's staleness timeout are
 * resolved automatically, with a note. One statement; safe to run concurrently (row locks).
 */
export async function resolveStaleTickets(db: Db, now: Date): Promise<string[]> {
  const r = (await db.raw(
    `WITH stale AS (
       SELECT id FROM tickets
        WHERE stale_after_minutes IS NOT NULL AND status NOT IN ('resolved','closed')
          AND last_occurred_at < ?::timestamptz - make_interval(mins => stale_after_minutes)
        FOR UPDATE SKIP LOCKED
     ), upd AS (
       UPDATE tickets t SET status = 'resolved', resolved_at = ?::timestamptz, resolved_automatically = true, updated_at = now()
         FROM stale WHERE t.id = stale.id
       RETURNING t.id, t.stale_after_minutes
     ), notes AS (
       INSERT INTO ticket_notes (ticket_id, kind, body, author)
       SELECT id, 'stale-resolve', 'Resolved automatically: the alert has not repeated for ' || stale_after_minutes || ' minutes (no resolve event was received).', 'hub'
         FROM upd
     )
     SELECT id FROM upd`,
    [now, now],
  )) as { rows: { id: string }[] };
  return r.rows.map((x) => x.id);
}
