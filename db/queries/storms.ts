import type { Knex } from 'knex';
import type { Db } from '../connection';
import { whereInScope, type CompanyScope } from '../company-scope';
import { OPEN_TICKET_STATUSES, type TicketRow } from '../tables';
import { storedAlerts, type NewTicket, type StoredFiringAlert } from './alert-processing';

/**
 * Alert storms (R-STORM-1): the statements of inhibition and grouping, one per function, set-based
 * like alert-batch.ts. Concurrency is decided here, by Postgres:
 * - a group's row in `storm_groups` is locked (upsert) by every transaction that may add to the
 *   group, in (rule, key) order, before the tickets of the batch: one decision at a time per group;
 * - a group's open parent is locked FOR UPDATE by whoever adds a child, and by whoever resolves a
 *   child (resolveEmptyParents), so a parent never resolves under a child that is joining it;
 * - a source ticket is locked FOR SHARE by every target it inhibits, so its resolution (which
 *   releases its still-firing targets) waits for them, and they see it resolved afterwards;
 * - the partial unique index of `storm_related_alerts` keeps one firing attachment per dedup key.
 *
 * One file over 300 lines on purpose: every statement of the storm tables, whose lock order (above)
 * is only checkable with all of them in view.
 */

const OPEN = OPEN_TICKET_STATUSES.map((s) => `'${s}'`).join(',');

export interface StormGroupLock {
  id: string;
  rule: string;
  groupKey: string;
  parentTicketId: string | null;
}

/** Creates (first time) and locks the rows of the given groups, in (rule, key) order. Keyed `rule \0 key`. */
export async function lockStormGroups(
  trx: Knex.Transaction,
  groups: ReadonlyArray<{ rule: string; groupKey: string; keyValues: Record<string, unknown> }>,
): Promise<Map<string, StormGroupLock>> {
  const out = new Map<string, StormGroupLock>();
  if (groups.length === 0) return out;
  const unique = new Map<string, (typeof groups)[number]>();
  for (const g of groups) unique.set(`${g.rule}\u0000${g.groupKey}`, g);
  const r = (await trx.raw(
    `INSERT INTO storm_groups (rule, group_key, key_values)
     SELECT rule, group_key, key_values FROM jsonb_to_recordset(?::jsonb) AS k(rule text, group_key text, key_values jsonb)
      ORDER BY rule, group_key
     ON CONFLICT (rule, group_key) DO UPDATE SET updated_at = now()
     RETURNING id, rule, group_key, parent_ticket_id`,
    [
      JSON.stringify(
        [...unique.values()].map((g) => ({ rule: g.rule, group_key: g.groupKey, key_values: g.keyValues })),
      ),
    ],
  )) as { rows: Array<{ id: string; rule: string; group_key: string; parent_ticket_id: string | null }> };
  for (const row of r.rows) {
    out.set(`${row.rule}\u0000${row.group_key}`, {
      id: String(row.id),
      rule: row.rule,
      groupKey: row.group_key,
      parentTicketId: row.parent_ticket_id === null ? null : String(row.parent_ticket_id),
    });
  }
  return out;
}

/** Of the given parent tickets, the ones still open, locked FOR UPDATE (in id order) — or just read, for the dry run. */
export async function openParents(
  trx: Knex.Transaction,
  ids: readonly string[],
  opts: { lock: boolean },
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const r = (await trx.raw(
    `SELECT id FROM tickets WHERE id = ANY(?::bigint[]) AND status IN (${OPEN}) ORDER BY id ${opts.lock ? 'FOR UPDATE' : ''}`,
    [[...new Set(ids)]],
  )) as { rows: Array<{ id: string }> };
  return new Set(r.rows.map((x) => String(x.id)));
}

/** The open tickets of the groups that have no parent yet (candidates), by group id. */
export async function groupCandidates(
  db: Db,
  groupIds: readonly string[],
): Promise<Map<string, Array<{ ticketId: string; firstOccurredAt: Date }>>> {
  const out = new Map<string, Array<{ ticketId: string; firstOccurredAt: Date }>>();
  if (groupIds.length === 0) return out;
  const r = (await db.raw(
    `SELECT storm_group_id, id, first_occurred_at FROM tickets
      WHERE storm_group_id = ANY(?::bigint[]) AND parent_ticket_id IS NULL AND NOT storm_parent AND status IN (${OPEN})
      ORDER BY id`,
    [[...new Set(groupIds)]],
  )) as { rows: Array<{ storm_group_id: string; id: string; first_occurred_at: Date }> };
  for (const row of r.rows) {
    const key = String(row.storm_group_id);
    const list = out.get(key) ?? [];
    list.push({ ticketId: String(row.id), firstOccurredAt: row.first_occurred_at });
    out.set(key, list);
  }
  return out;
}

/** Marks new parent tickets as their groups' parents (ticket and group row). */
export async function setGroupParents(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ groupId: string; parentId: string }>,
): Promise<void> {
  if (items.length === 0) return;
  const json = JSON.stringify(items.map((i) => ({ g: i.groupId, p: i.parentId })));
  await trx.raw(
    `WITH x AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS x(g bigint, p bigint)),
     t AS (UPDATE tickets t SET storm_parent = true, storm_group_id = x.g, updated_at = now() FROM x WHERE t.id = x.p)
     UPDATE storm_groups g SET parent_ticket_id = x.p, updated_at = now() FROM x WHERE g.id = x.g`,
    [json],
  );
}

/**
 * Records tickets as members of their group: candidates (no parent) or children. A ticket that
 * already has a parent keeps it (never a child of two groups); a parent never becomes a child.
 * Returns the ids that became children by this statement.
 */
export async function assignStormGroups(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ ticketId: string; groupId: string; parentId: string | null }>,
): Promise<string[]> {
  if (items.length === 0) return [];
  const r = (await trx.raw(
    // A ticket may come twice: a candidate of the round that the same round's parent then adopted.
    // The row with the parent wins (ORDER BY p NULLS LAST); DISTINCT ON with ORDER BY t alone picked
    // either, and an adopted child was left without its parent (seen once rounds grew, issue 19).
    `WITH x AS (SELECT DISTINCT ON (t) * FROM jsonb_to_recordset(?::jsonb) AS x(t bigint, g bigint, p bigint) ORDER BY t, p NULLS LAST)
     UPDATE tickets t SET storm_group_id = coalesce(t.storm_group_id, x.g), parent_ticket_id = x.p, updated_at = now()
       FROM x
      WHERE t.id = x.t AND NOT t.storm_parent AND t.parent_ticket_id IS NULL
     RETURNING t.id, t.parent_ticket_id`,
    [JSON.stringify(items.map((i) => ({ t: i.ticketId, g: i.groupId, p: i.parentId })))],
  )) as { rows: Array<{ id: string; parent_ticket_id: string | null }> };
  return r.rows.filter((x) => x.parent_ticket_id !== null).map((x) => String(x.id));
}

/**
 * The parents' titles from their templates, `{count}` being the number of children now, and
 * their last occurrence. One statement for the batch.
 */
export async function refreshParents(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ parentId: string; titleTemplate: string; at: Date }>,
): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `WITH x AS (SELECT DISTINCT ON (p) * FROM jsonb_to_recordset(?::jsonb) AS x(p bigint, tpl text, at timestamptz) ORDER BY p, at DESC)
     UPDATE tickets t
        SET title = left(replace(x.tpl, '{count}', (SELECT count(*) FROM tickets c WHERE c.parent_ticket_id = t.id)::text), 500),
            last_occurred_at = greatest(t.last_occurred_at, x.at), updated_at = now()
       FROM x WHERE t.id = x.p`,
    [JSON.stringify(items.map((i) => ({ p: i.parentId, tpl: i.titleTemplate, at: i.at.toISOString() })))],
  );
}

/**
 * Of the given (locked, open) parents, those without an open child. Run after openParents locked
 * them: under READ COMMITTED this statement sees every child committed before the lock was granted.
 */
export async function parentsWithoutOpenChildren(
  trx: Knex.Transaction,
  parentIds: readonly string[],
): Promise<string[]> {
  if (parentIds.length === 0) return [];
  const r = (await trx.raw(
    `SELECT p.id FROM tickets p
      WHERE p.id = ANY(?::bigint[]) AND p.status IN (${OPEN})
        AND NOT EXISTS (SELECT 1 FROM tickets c WHERE c.parent_ticket_id = p.id AND c.status IN (${OPEN}))
      ORDER BY p.id`,
    [[...new Set(parentIds)]],
  )) as { rows: Array<{ id: string }> };
  return r.rows.map((x) => String(x.id));
}

// ---- inhibition ----

/** Tickets whose alert matched an inhibit rule's source side (no-op for pairs already recorded). */
export async function registerInhibitSources(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{ ticketId: string; rule: string; equalKey: string; matchesTarget: boolean }>,
): Promise<void> {
  if (rows.length === 0) return;
  await trx.raw(
    `INSERT INTO storm_inhibit_sources (ticket_id, rule, equal_key, matches_target)
     SELECT t, r, k, m FROM jsonb_to_recordset(?::jsonb) AS x(t bigint, r text, k text, m boolean) ORDER BY t, r
     ON CONFLICT (ticket_id, rule) DO NOTHING`,
    [JSON.stringify(rows.map((x) => ({ t: x.ticketId, r: x.rule, k: x.equalKey, m: x.matchesTarget })))],
  );
}

export interface InhibitSourceRow {
  rule: string;
  equalKey: string;
  ticketId: string;
  dedupKey: string;
  matchesTarget: boolean;
}

/**
 * The open source tickets of (rule, equal key) pairs. With `lock`, FOR SHARE: a source being
 * resolved is waited for, and skipped if it resolved. Without (the dry run): just read.
 */
export async function openInhibitSources(
  trx: Knex.Transaction,
  pairs: ReadonlyArray<{ rule: string; equalKey: string }>,
  opts: { lock: boolean },
): Promise<InhibitSourceRow[]> {
  if (pairs.length === 0) return [];
  const r = (await trx.raw(
    `SELECT s.rule, s.equal_key, s.matches_target, t.id, t.dedup_key
       FROM (SELECT DISTINCT * FROM unnest(?::text[], ?::text[]) AS k(rule, equal_key)) k
       JOIN storm_inhibit_sources s ON s.rule = k.rule AND s.equal_key = k.equal_key
       JOIN tickets t ON t.id = s.ticket_id
      WHERE t.status IN (${OPEN})
      ORDER BY t.id ${opts.lock ? 'FOR SHARE OF t' : ''}`,
    [pairs.map((p) => p.rule), pairs.map((p) => p.equalKey)],
  )) as { rows: Array<{ rule: string; equal_key: string; matches_target: boolean; id: string; dedup_key: string }> };
  return r.rows.map((x) => ({
    rule: x.rule,
    equalKey: x.equal_key,
    ticketId: String(x.id),
    dedupKey: x.dedup_key,
    matchesTarget: x.matches_target,
  }));
}

/** The firing related attachment of each dedup key (FOR UPDATE with `lock`), keyed by dedup key. */
export async function firingRelatedForKeys(
  trx: Knex.Transaction,
  keys: readonly string[],
  opts: { lock: boolean },
): Promise<Map<string, { id: string; ticketId: string }>> {
  const out = new Map<string, { id: string; ticketId: string }>();
  if (keys.length === 0) return out;
  const r = (await trx.raw(
    `SELECT id, ticket_id, dedup_key FROM storm_related_alerts WHERE dedup_key = ANY(?::text[]) AND state = 'firing' ORDER BY dedup_key ${opts.lock ? 'FOR UPDATE' : ''}`,
    [[...new Set(keys)].sort()],
  )) as { rows: Array<{ id: string; ticket_id: string; dedup_key: string }> };
  for (const row of r.rows) out.set(row.dedup_key, { id: String(row.id), ticketId: String(row.ticket_id) });
  return out;
}

/**
 * Attaches target alerts to their sources' tickets. A key attached meanwhile (a concurrent
 * duplicate) is counted on its attachment instead. Returns per dedup key the ticket it is on.
 */
export async function attachRelated(
  trx: Knex.Transaction,
  rows: ReadonlyArray<{
    ticketId: string;
    rule: string;
    dedupKey: string;
    alertId: string;
    title: string;
    whenSourceResolves: 'open' | 'stay';
    at: Date;
    pendingTicket: NewTicket;
  }>,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (rows.length === 0) return out;
  const r = (await trx.raw(
    `INSERT INTO storm_related_alerts (ticket_id, rule, dedup_key, alert_id, title, when_source_resolves, first_occurred_at, last_occurred_at, pending_ticket)
     SELECT t, r, k, a, title, w, at, at, pending FROM jsonb_to_recordset(?::jsonb)
         AS x(t bigint, r text, k text, a bigint, title text, w text, at timestamptz, pending jsonb)
      ORDER BY k
     ON CONFLICT (dedup_key) WHERE state = 'firing'
     DO UPDATE SET occurrences = storm_related_alerts.occurrences + 1,
                   last_occurred_at = greatest(storm_related_alerts.last_occurred_at, EXCLUDED.last_occurred_at), updated_at = now()
     RETURNING dedup_key, ticket_id`,
    [
      JSON.stringify(
        rows.map((x) => ({
          t: x.ticketId,
          r: x.rule,
          k: x.dedupKey,
          a: x.alertId,
          title: x.title.slice(0, 500),
          w: x.whenSourceResolves,
          at: x.at.toISOString(),
          pending: x.pendingTicket,
        })),
      ),
    ],
  )) as { rows: Array<{ dedup_key: string; ticket_id: string }> };
  for (const row of r.rows) out.set(row.dedup_key, String(row.ticket_id));
  return out;
}

/** A repeat of an attached alert: counted on its attachment. */
export async function countRelated(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ id: string; at: Date }>,
): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `UPDATE storm_related_alerts r SET occurrences = r.occurrences + 1, last_occurred_at = greatest(r.last_occurred_at, x.at), updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, at timestamptz) WHERE r.id = x.id`,
    [JSON.stringify(items.map((i) => ({ id: i.id, at: i.at.toISOString() })))],
  );
}

/** An attached alert resolved while its source still fires. */
export async function resolveRelated(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ id: string; at: Date }>,
): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `UPDATE storm_related_alerts r SET state = 'resolved', resolved_at = x.at, updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, at timestamptz) WHERE r.id = x.id AND r.state = 'firing'`,
    [JSON.stringify(items.map((i) => ({ id: i.id, at: i.at.toISOString() })))],
  );
}

export interface FiringRelatedRow {
  id: string;
  ticketId: string;
  rule: string;
  dedupKey: string;
  whenSourceResolves: 'open' | 'stay';
  firstOccurredAt: Date;
  lastOccurredAt: Date;
  pendingTicket: NewTicket | null;
}

/**
 * What the resolution of tickets leaves to storms, in one round trip (every resolution asks): the
 * still-firing attachments of those tickets (sources that just resolved), locked, in id order, and
 * the parents of those tickets (children that just resolved).
 */
export async function stormsOfResolved(
  trx: Knex.Transaction,
  ticketIds: readonly string[],
): Promise<{ related: FiringRelatedRow[]; parents: string[] }> {
  if (ticketIds.length === 0) return { related: [], parents: [] };
  const r = (await trx.raw(
    `WITH r AS (
       SELECT id, ticket_id, rule, dedup_key, when_source_resolves, first_occurred_at, last_occurred_at, pending_ticket
         FROM storm_related_alerts WHERE ticket_id = ANY(:ids::bigint[]) AND state = 'firing' ORDER BY id FOR UPDATE
     )
     SELECT 'related' AS kind, r.* FROM r
     UNION ALL
     SELECT DISTINCT 'parent', parent_ticket_id, NULL::bigint, NULL, NULL, NULL, NULL::timestamptz, NULL::timestamptz, NULL::jsonb
       FROM tickets WHERE id = ANY(:ids::bigint[]) AND parent_ticket_id IS NOT NULL`,
    { ids: [...new Set(ticketIds)] },
  )) as {
    rows: Array<{
      kind: 'related' | 'parent';
      id: string;
      ticket_id: string;
      rule: string;
      dedup_key: string;
      when_source_resolves: 'open' | 'stay';
      first_occurred_at: Date;
      last_occurred_at: Date;
      pending_ticket: NewTicket | null;
    }>;
  };
  const parents = r.rows.filter((x) => x.kind === 'parent').map((x) => String(x.id));
  const related = r.rows.filter((x) => x.kind === 'related');
  return {
    parents,
    related: related.map((x) => ({
      id: String(x.id),
      ticketId: String(x.ticket_id),
      rule: x.rule,
      dedupKey: x.dedup_key,
      whenSourceResolves: x.when_source_resolves,
      firstOccurredAt: x.first_occurred_at,
      lastOccurredAt: x.last_occurred_at,
      pendingTicket: x.pending_ticket,
    })),
  };
}

/** Attachments whose alert opened its own ticket when the source resolved. */
export async function markRelatedReleased(
  trx: Knex.Transaction,
  items: ReadonlyArray<{ id: string; ticketId: string }>,
): Promise<void> {
  if (items.length === 0) return;
  await trx.raw(
    `UPDATE storm_related_alerts r SET state = 'released', released_ticket_id = x.t, updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS x(id bigint, t bigint) WHERE r.id = x.id`,
    [JSON.stringify(items.map((i) => ({ id: i.id, t: i.ticketId })))],
  );
}

// ---- reading, for GET /tickets/:id ----

export interface RelatedAlertView {
  id: string;
  rule: string;
  dedupKey: string;
  alertId: string | null;
  title: string;
  state: 'firing' | 'resolved' | 'released';
  occurrences: number;
  firstOccurredAt: Date;
  lastOccurredAt: Date;
  resolvedAt: Date | null;
  releasedTicketId: string | null;
}

/** The related alerts attached to a ticket, oldest first (the caller checked the ticket is in scope). */
export async function relatedAlertsOfTicket(db: Db, ticketId: string, limit = 1000): Promise<RelatedAlertView[]> {
  const rows = (await db('storm_related_alerts').where('ticket_id', ticketId).orderBy('id').limit(limit)) as Array<
    Record<string, unknown>
  >;
  return rows.map((x) => ({
    id: String(x.id),
    rule: String(x.rule),
    dedupKey: String(x.dedup_key),
    alertId: x.alert_id === null ? null : String(x.alert_id),
    title: String(x.title),
    state: x.state as RelatedAlertView['state'],
    occurrences: Number(x.occurrences),
    firstOccurredAt: x.first_occurred_at as Date,
    lastOccurredAt: x.last_occurred_at as Date,
    resolvedAt: (x.resolved_at as Date | null) ?? null,
    releasedTicketId: x.released_ticket_id === null ? null : String(x.released_ticket_id),
  }));
}

/** A parent's children in the caller's company scope, oldest first. */
export async function childrenOfTicket(
  db: Db,
  parentId: string,
  scope: CompanyScope,
  limit = 1000,
): Promise<TicketRow[]> {
  return (await whereInScope(db('tickets').where('parent_ticket_id', parentId), 'company_id', scope)
    .orderBy('id')
    .limit(limit)) as TicketRow[];
}

/** A group's row, read without locking (the dry run). */
export async function findStormGroup(
  db: Db,
  rule: string,
  groupKey: string,
): Promise<{ id: string; parentTicketId: string | null } | undefined> {
  const row = (await db('storm_groups').where({ rule, group_key: groupKey }).first('id', 'parent_ticket_id')) as
    { id: string; parent_ticket_id: string | null } | undefined;
  return row
    ? { id: String(row.id), parentTicketId: row.parent_ticket_id === null ? null : String(row.parent_ticket_id) }
    : undefined;
}

/** The alerts stored (created_at) in [since, until), firing and resolved, in id order, after `afterId` (the storm replay). */
export async function periodAlerts(
  db: Db,
  o: { since: Date; until: Date; afterId: string | null; limit: number },
): Promise<StoredFiringAlert[]> {
  return storedAlerts(db, o);
}
