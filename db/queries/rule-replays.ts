import type { Knex } from 'knex';
import type { Db } from '../connection';
import type { RuleReplayChangeRow, RuleReplayRow } from '../tables';

/**
 * Replays of a candidate ruleset run in the background (issue 17 item 2 "Replay"): one row per
 * replay (state, period, candidate texts, the live version it compares with, progress and the
 * cursor), one row per alert whose decision would change. A batch's change rows and the cursor
 * move in one transaction, and the cursor moves only from where the batch started
 * ({@link advanceReplay}), so a retried or doubled job never counts an alert twice.
 */

export async function insertReplay(
  db: Db,
  r: { since: Date; until: Date; candidate: unknown; candidateHash: string; liveVersion: number; createdBy: string },
): Promise<RuleReplayRow> {
  const [row] = (await db('rule_replays')
    .insert({
      since: r.since,
      until: r.until,
      candidate: db.raw('?::jsonb', [JSON.stringify(r.candidate)]),
      candidate_hash: r.candidateHash,
      live_version: r.liveVersion,
      created_by: r.createdBy,
    })
    .returning('*')) as RuleReplayRow[];
  if (!row) throw new Error('insert into rule_replays returned no row');
  return row;
}

export async function getReplay(db: Db, id: string): Promise<RuleReplayRow | undefined> {
  return (await db('rule_replays').where({ id }).first()) as RuleReplayRow | undefined;
}

/** queued → running (or running again after a retry), with the period's alert count once known. */
export async function startReplay(db: Db, id: string, total: number): Promise<RuleReplayRow | undefined> {
  const [row] = (await db('rule_replays')
    .where({ id })
    .whereIn('state', ['queued', 'running'])
    .update({ state: 'running', started_at: db.raw('coalesce(started_at, now())'), progress_total: db.raw('coalesce(progress_total, ?)', [total]), error: null })
    .returning('*')) as RuleReplayRow[];
  return row;
}

export async function finishReplay(db: Db, id: string): Promise<void> {
  await db('rule_replays').where({ id, state: 'running' }).update({ state: 'done', finished_at: db.fn.now() });
}

/** Records the reason of a failed attempt; `final` ends the replay as failed. */
export async function failReplay(db: Db, id: string, error: string, final: boolean): Promise<void> {
  await db('rule_replays')
    .where({ id })
    .whereIn('state', ['queued', 'running'])
    .update({ error: error.slice(0, 2000), ...(final ? { state: 'failed', finished_at: db.fn.now() } : {}) });
}

/** The firing alerts stored in [since, until): what a replay evaluates. */
export async function countReplayAlerts(db: Db, since: Date, until: Date): Promise<number> {
  const r = (await db('alerts').where('state', 'firing').where('created_at', '>=', since).where('created_at', '<', until).count({ n: '*' }).first()) as { n: string | number } | undefined;
  return Number(r?.n ?? 0);
}

export type NewReplayChange = Omit<RuleReplayChangeRow, 'replay_id'>;

/**
 * One batch done: its change rows, and the cursor moved from `from` to `to` with `evaluated` more
 * alerts done. Returns false (writing nothing) when the cursor is no longer at `from` — another run
 * of the same replay got there first; the caller rolls back and reads the cursor again.
 */
export async function advanceReplay(
  trx: Knex.Transaction,
  o: { id: string; from: string | null; to: string; evaluated: number; changes: readonly NewReplayChange[] },
): Promise<boolean> {
  const moved = await trx('rule_replays')
    .where({ id: o.id, state: 'running' })
    .whereRaw('cursor_alert_id IS NOT DISTINCT FROM ?::bigint', [o.from])
    .update({ cursor_alert_id: o.to, progress_done: trx.raw('progress_done + ?', [o.evaluated]) });
  if (moved !== 1) return false;
  if (o.changes.length > 0) {
    await trx('rule_replay_changes')
      .insert(
        o.changes.map((c) => ({
          replay_id: o.id,
          alert_id: c.alert_id,
          occurred_at: c.occurred_at,
          title: c.title,
          device: trx.raw('?::jsonb', [JSON.stringify(c.device)]),
          changes: trx.raw('?::jsonb', [JSON.stringify(c.changes)]),
          fields: c.fields,
        })),
      )
      .onConflict(['replay_id', 'alert_id'])
      .ignore();
  }
  return true;
}

/** How many alerts changed, in total and per field. */
export async function replayCounts(db: Db, id: string): Promise<{ changed: number; byField: Record<string, number> }> {
  const [total, perField] = await Promise.all([
    db('rule_replay_changes').where({ replay_id: id }).count({ n: '*' }).first() as Promise<{ n: string | number } | undefined>,
    db.raw(`SELECT f AS field, count(*)::int AS n FROM rule_replay_changes, unnest(fields) AS f WHERE replay_id = ? GROUP BY f`, [id]) as Promise<{
      rows: Array<{ field: string; n: number }>;
    }>,
  ]);
  return { changed: Number(total?.n ?? 0), byField: Object.fromEntries(perField.rows.map((r) => [r.field, r.n])) };
}

/** A page of changed alerts in alert id order, optionally only those where `field` changed. */
export async function listReplayChanges(
  db: Db,
  o: { id: string; limit: number; offset: number; field?: string | undefined },
): Promise<{ items: RuleReplayChangeRow[]; total: number }> {
  const base = () => {
    const q = db('rule_replay_changes').where({ replay_id: o.id });
    if (o.field !== undefined) q.whereRaw('fields @> ARRAY[?]::text[]', [o.field]);
    return q;
  };
  const [items, total] = await Promise.all([
    base().select('*').orderBy('alert_id').limit(o.limit).offset(o.offset) as Promise<RuleReplayChangeRow[]>,
    base().count({ n: '*' }).first() as Promise<{ n: string | number } | undefined>,
  ]);
  return { items, total: Number(total?.n ?? 0) };
}
