import type { Knex } from 'knex';
import type { CompanyScope } from '../../core/access/company-scope';
import type { Db } from '../connection';
import { whereInScope } from '../company-scope';
import { prepared } from '../prepared';
import type { PsaConnectionRow, PsaDeliveryRow, PsaDeliveryState, PsaRefs, TicketRow } from '../tables';

/**
 * The PSA outbox (migration 20261206183000). Writers record what is to be sent in the transaction
 * of the ticket change; the delivery worker claims a row (a lease, so one worker at a time calls
 * the PSA for a ticket), sends, and settles exactly what it sent — changes that arrived meanwhile
 * stay pending.
 *
 * One file over 300 lines on purpose: the statements of the one outbox table, whose lease and
 * sequence columns (claim, settle, retry) must agree with each other.
 */

/** A delivery the enqueuer should know about: its queue (connection) and its priority. */
export interface DeliveryRef {
  id: string;
  connectionName: string;
  rank: number;
  /** Just created (deliver at once) rather than a change of one (let repeats gather first). */
  isNew?: boolean;
}

export interface NewDelivery {
  ticketId: string;
  connectionId: string;
  rank: number;
  /** `skipped` (with the reason in lastError) when the connection cannot take it, e.g. no company ref. */
  state: 'pending' | 'skipped';
  lastError: string | null;
}

/**
 * One statement for a batch of new tickets; an existing (ticket, connection) row is left alone.
 * On the apply's path (every new ticket of a round, inside its transaction), so it is named
 * (db/prepared.ts) and takes its rows as arrays: `unnest` of five arrays costs Postgres less than
 * parsing a JSON document of the same rows, and the connections' names come from the caller rather
 * than from a join (issue 16, the outbox's cost per alert).
 */
export async function insertDeliveries(db: Db, rows: readonly NewDelivery[], connectionNames: ReadonlyMap<string, string>): Promise<DeliveryRef[]> {
  if (rows.length === 0) return [];
  const { rows: out } = (await db
    .raw(
      `INSERT INTO psa_deliveries (ticket_id, connection_id, rank, state, last_error, change_seq, pending_since)
       SELECT v.ticket_id, v.connection_id, v.rank, v.state, v.last_error, 0, CASE WHEN v.state = 'pending' THEN now() END
         FROM unnest(?::bigint[], ?::bigint[], ?::smallint[], ?::text[], ?::text[]) AS v(ticket_id, connection_id, rank, state, last_error)
       ON CONFLICT (ticket_id, connection_id) DO NOTHING
       RETURNING id, connection_id, rank, state`,
      <Knex.RawBinding[]>[rows.map((r) => r.ticketId), rows.map((r) => r.connectionId), rows.map((r) => r.rank), rows.map((r) => r.state), rows.map((r) => r.lastError)],
    )
    .options(prepared('insert_deliveries'))) as { rows: Array<{ id: string | number; connection_id: string | number; rank: number; state: PsaDeliveryState }> };
  const refs: DeliveryRef[] = [];
  for (const r of out) {
    if (r.state !== 'pending') continue;
    const name = connectionNames.get(String(r.connection_id));
    if (name === undefined) throw new Error(`insertDeliveries: connection ${String(r.connection_id)} is not among the names given`);
    refs.push({ id: String(r.id), connectionName: name, rank: r.rank, isNew: true });
  }
  return refs;
}

/** A change of a delivered (or pending) hub ticket, to be sent to every connection that has the ticket. */
export interface DeliveryChange {
  ticketId: string;
  /** Repeats counted on the ticket (coalesced into one "+N occurrences since" note). */
  occurrences?: number;
  /** When the first of those repeats happened. */
  since?: Date;
  notes?: Array<{ title: string; body: string }>;
  /** Priority, status, contract/service/SLA or due date changed: an update (or close) is due. */
  changed?: boolean;
  /** The ticket's rank now (a priority change re-orders its pending deliveries). */
  rank?: number;
}

/**
 * One statement for a batch of changes. Failed and skipped deliveries collect the changes too
 * (a retry sends them); delivered ones become pending again. Several changes of one ticket in
 * the batch are summed first. `exceptConnectionId`: the connection the change came from (status
 * back) is left alone — a PSA's own change is never echoed back to it.
 */
export async function recordDeliveryChanges(
  db: Db,
  changes: readonly DeliveryChange[],
  opts: { exceptConnectionId?: string | undefined } = {},
): Promise<DeliveryRef[]> {
  if (changes.length === 0) return [];
  const { rows } = await db.raw<{ rows: Array<{ id: string; name: string; rank: number }> }>(
    `WITH v AS (
       SELECT ticket_id,
              sum(occurrences)::int AS occurrences,
              min(since) AS since,
              coalesce(jsonb_agg(n ORDER BY ord, n_ord) FILTER (WHERE n IS NOT NULL), '[]'::jsonb) AS notes,
              bool_or(changed) AS changed,
              min(rank) FILTER (WHERE rank IS NOT NULL) AS rank
         FROM jsonb_to_recordset(?::jsonb) AS c(ticket_id bigint, occurrences int, since timestamptz, notes jsonb, changed boolean, rank smallint, ord int)
         LEFT JOIN LATERAL jsonb_array_elements(coalesce(c.notes, '[]'::jsonb)) WITH ORDINALITY AS e(n, n_ord) ON true
        GROUP BY ticket_id),
     upd AS (
       UPDATE psa_deliveries d
          SET pending_occurrences = d.pending_occurrences + coalesce(v.occurrences, 0),
              occurrences_since = CASE WHEN coalesce(v.occurrences, 0) > 0 THEN coalesce(d.occurrences_since, v.since) ELSE d.occurrences_since END,
              pending_notes = d.pending_notes || v.notes,
              change_seq = d.change_seq + CASE WHEN coalesce(v.changed, false) THEN 1 ELSE 0 END,
              rank = coalesce(v.rank, d.rank),
              state = CASE WHEN d.state = 'delivered' THEN 'pending' ELSE d.state END,
              pending_since = CASE WHEN d.state = 'delivered' OR d.pending_since IS NULL THEN now() ELSE d.pending_since END,
              updated_at = now()
         FROM v
        WHERE d.ticket_id = v.ticket_id
          AND d.connection_id IS DISTINCT FROM ?::bigint
       RETURNING d.id, d.connection_id, d.rank, d.state)
     SELECT upd.id, c.name, upd.rank FROM upd JOIN psa_connections c ON c.id = upd.connection_id WHERE upd.state = 'pending'`,
    [
      JSON.stringify(
        changes.map((c, ord) => ({
          ord,
          ticket_id: c.ticketId,
          occurrences: c.occurrences ?? 0,
          since: c.since?.toISOString() ?? null,
          notes: c.notes ?? [],
          changed: c.changed ?? false,
          rank: c.rank ?? null,
        })),
      ),
      opts.exceptConnectionId ?? null,
    ],
  );
  return rows.map((r) => ({ id: String(r.id), connectionName: r.name, rank: r.rank }));
}

/**
 * Takes the lease of the pending deliveries among `ids` for `leaseMs` and counts their attempt, in one
 * statement (committed before the PSA is called: a later attempt knows an earlier one may have
 * created the ticket). With `pullUrgent`, also up to that many new deliveries (no PSA ticket yet) of
 * the same connection more urgent than the most urgent of `ids` — waiting in their job's backoff or
 * behind it — so a run never sends low tickets while critical ones wait (the backlog index
 * `psa_deliveries_backlog_idx`). Returns the ids taken: not those no longer pending or leased by
 * another worker.
 */
export async function claimDeliveries(db: Db, ids: readonly string[], token: string, leaseMs: number, pullUrgent = 0): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `WITH own AS (
       SELECT connection_id, min(rank) AS rank FROM psa_deliveries WHERE id = ANY(?::bigint[]) GROUP BY connection_id),
     urgent AS (
       SELECT d.id FROM psa_deliveries d JOIN own ON own.connection_id = d.connection_id
        WHERE d.state = 'pending' AND d.rank < own.rank AND d.external_id IS NULL
          AND (d.claimed_until IS NULL OR d.claimed_until < now())
        ORDER BY d.rank, d.id
        LIMIT ?)
     UPDATE psa_deliveries
        SET claimed_by = ?, claimed_until = now() + (? || ' milliseconds')::interval, attempts = attempts + 1, updated_at = now()
      WHERE (id = ANY(?::bigint[]) OR id IN (SELECT id FROM urgent))
        AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < now())
      RETURNING id`,
    [[...ids], pullUrgent, token, String(leaseMs), [...ids]],
  );
  return rows.map((r) => String(r.id));
}

/**
 * Gives back leases taken by {@link claimDeliveries} for deliveries a run never sent anything for
 * (it stopped before their turn): the attempt is not counted, so their next run does not look up a
 * create that never happened.
 */
export async function releaseUnsent(db: Db, ids: readonly string[], token: string): Promise<void> {
  if (ids.length === 0) return;
  await db.raw(
    `UPDATE psa_deliveries SET claimed_by = NULL, claimed_until = NULL, attempts = greatest(attempts - 1, 0), updated_at = now()
      WHERE id = ANY(?::bigint[]) AND claimed_by = ?`,
    [[...ids], token],
  );
}

/** Everything one delivery run sends: the ticket, the connection, the PSA ids and names of its records. */
export interface DeliveryWork {
  delivery: PsaDeliveryRow;
  ticket: TicketRow;
  connectionName: string;
  refs: { company: PsaRefs | null; device: PsaRefs | null; contract: PsaRefs | null; service: PsaRefs | null; sla: PsaRefs | null };
  names: { company: string | null; device: string | null; contract: string | null; service: string | null; sla: string | null };
}

/** The work of each delivery among `ids` (one statement), in the order of `ids`; ids not found are left out. */
export async function loadDeliveryWorks(db: Db, ids: readonly string[]): Promise<DeliveryWork[]> {
  if (ids.length === 0) return [];
  // Named (db/prepared.ts): Postgres took ~2 ms to plan this join on every run.
  const { rows } = (await db
    .raw(
      `SELECT to_jsonb(d) AS delivery, to_jsonb(t) AS ticket, pc.name AS connection_name,
              co.psa_refs AS company_refs, co.name AS company_name,
              dv.psa_refs AS device_refs, dv.hostname AS device_name,
              ct.psa_refs AS contract_refs, ct.name AS contract_name,
              sv.psa_refs AS service_refs, sv.name AS service_name,
              sl.psa_refs AS sla_refs, sl.name AS sla_name
         FROM psa_deliveries d
         JOIN tickets t ON t.id = d.ticket_id
         JOIN psa_connections pc ON pc.id = d.connection_id
         LEFT JOIN companies co ON co.id = t.company_id
         LEFT JOIN devices dv ON dv.id = t.device_id
         LEFT JOIN contracts ct ON ct.id = t.contract_id
         LEFT JOIN services sv ON sv.id = t.service_id
         LEFT JOIN slas sl ON sl.id = t.sla_id
        WHERE d.id = ANY(?::bigint[])`,
      [[...ids]],
    )
    .options(prepared('load_delivery_works'))) as { rows: Array<Record<string, unknown>> };
  const byId = new Map(rows.map((r) => [String((r.delivery as { id: unknown }).id), r]));
  return ids.flatMap((id) => {
    const r = byId.get(id);
    return r ? [workOf(r)] : [];
  });
}

function workOf(r: Record<string, unknown>): DeliveryWork {
  const d = r.delivery as Record<string, unknown>;
  const t = r.ticket as Record<string, unknown>;
  const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(String(v)));
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  const delivery = {
    ...d,
    id: String(d.id),
    ticket_id: String(d.ticket_id),
    connection_id: String(d.connection_id),
    change_seq: String(d.change_seq),
    sent_seq: String(d.sent_seq),
    occurrences_since: date(d.occurrences_since),
    claimed_until: date(d.claimed_until),
    pending_since: date(d.pending_since),
    delivered_at: date(d.delivered_at),
    created_at: date(d.created_at)!,
    updated_at: date(d.updated_at)!,
  } as PsaDeliveryRow;
  const ticket = {
    ...t,
    id: String(t.id),
    company_id: str(t.company_id),
    device_id: str(t.device_id),
    contract_id: str(t.contract_id),
    service_id: str(t.service_id),
    sla_id: str(t.sla_id),
    first_occurred_at: date(t.first_occurred_at)!,
    last_occurred_at: date(t.last_occurred_at)!,
    first_response_due_at: date(t.first_response_due_at),
    resolution_plan_due_at: date(t.resolution_plan_due_at),
    resolution_due_at: date(t.resolution_due_at),
    sla_paused_at: date(t.sla_paused_at),
    resolved_at: date(t.resolved_at),
    closed_at: date(t.closed_at),
    created_at: date(t.created_at)!,
    updated_at: date(t.updated_at)!,
  } as TicketRow;
  const refs = (v: unknown): PsaRefs | null => (v === null || v === undefined ? null : (v as PsaRefs));
  return {
    delivery,
    ticket,
    connectionName: String(r.connection_name),
    refs: { company: refs(r.company_refs), device: refs(r.device_refs), contract: refs(r.contract_refs), service: refs(r.service_refs), sla: refs(r.sla_refs) },
    names: { company: str(r.company_name), device: str(r.device_name), contract: str(r.contract_name), service: str(r.service_name), sla: str(r.sla_name) },
  };
}

/** The PSA created (or we found) the ticket: kept at once, in its own commit, so no later failure can lose it. */
export async function saveExternalId(db: Db, id: string, token: string, externalId: string, externalNumber: string | null, sentSeq: string): Promise<boolean> {
  // Raw rather than the query builder: one statement per PSA create, where building it cost about as
  // much CPU as sending it (the delivery benchmark's worker profile).
  const { rowCount } = await db.raw<{ rowCount: number | null }>(
    `UPDATE psa_deliveries SET external_id = ?, external_number = ?, sent_seq = ?, delivered_at = now(), updated_at = now()
      WHERE id = ? AND claimed_by = ?`,
    [externalId, externalNumber, sentSeq, id, token],
  );
  return (rowCount ?? 0) > 0;
}

/** What a run sent, to be subtracted from what is pending (changes recorded meanwhile stay). */
export interface DeliverySent {
  occurrences: number;
  notes: number;
  /** The change_seq whose state was sent (update or close), or null. */
  sentSeq: string | null;
  closed: boolean;
  /** The PSA's ticket number, when this run learnt it (kept; null leaves the stored one). */
  number?: string | null;
  /**
   * The connector reads ticket numbers after the creates and this run could not (the PSA failed or
   * the call budget ran out): the delivery stays pending so a later run reads it.
   */
  awaitNumber?: boolean;
  /** Why the number is awaited (kept as the delivery's last error); null clears it. */
  error?: string | null;
}

/** Nothing left to send of the settled row `d` after what this run sent (`s`): read from the row the UPDATE locked. */
const SETTLED_DONE = `(d.external_id IS NOT NULL
         AND d.pending_occurrences - s.occurrences = 0
         AND jsonb_array_length(d.pending_notes) <= s.notes
         AND d.change_seq <= greatest(d.sent_seq, coalesce(s.sent_seq, d.sent_seq))
         AND NOT (s.await_number AND coalesce(s.number, d.external_number) IS NULL))`;

/**
 * Settles a run's deliveries in one statement: subtracts what was sent, keeps the ticket number,
 * releases the lease, and marks a row delivered when nothing is left (else it stays pending and the
 * returned row says so). A row whose lease was lost (another worker took over; it sends what is
 * left) is not returned.
 */
export async function settleDeliveries(db: Db, token: string, sent: ReadonlyArray<DeliverySent & { id: string }>): Promise<PsaDeliveryRow[]> {
  if (sent.length === 0) return [];
  const { rows } = await db.raw<{ rows: PsaDeliveryRow[] }>(
    // Whether the row is done is decided in the UPDATE, from the row it locked: a change recorded
    // meanwhile (recordDeliveryChanges, committed while this statement waited for the row) is then
    // seen. Decided in a CTE, it came from the statement's snapshot, before that change, and a row
    // with 300 new occurrences was marked delivered, never to be sent (CI, psa-repeat-storm).
    `WITH s AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS s(id bigint, occurrences int, notes int, sent_seq bigint, closed boolean, number text, await_number boolean, error text))
     UPDATE psa_deliveries d
        SET pending_occurrences = d.pending_occurrences - s.occurrences,
            occurrences_since = CASE WHEN d.pending_occurrences - s.occurrences > 0 THEN d.occurrences_since END,
            pending_notes = (SELECT coalesce(jsonb_agg(e ORDER BY i), '[]'::jsonb) FROM jsonb_array_elements(d.pending_notes) WITH ORDINALITY AS x(e, i) WHERE i > s.notes),
            sent_seq = greatest(d.sent_seq, coalesce(s.sent_seq, d.sent_seq)),
            closed_in_psa = d.closed_in_psa OR s.closed,
            external_number = coalesce(s.number, d.external_number),
            last_error = s.error,
            claimed_by = NULL, claimed_until = NULL,
            state = CASE WHEN ${SETTLED_DONE} THEN 'delivered' ELSE 'pending' END,
            pending_since = CASE WHEN ${SETTLED_DONE} THEN NULL ELSE d.pending_since END,
            updated_at = now()
       FROM s
      WHERE d.id = s.id AND d.claimed_by = ?
      RETURNING d.*`,
    [
      JSON.stringify(
        sent.map((x) => ({ id: x.id, occurrences: x.occurrences, notes: x.notes, sent_seq: x.sentSeq, closed: x.closed, number: x.number ?? null, await_number: x.awaitNumber ?? false, error: x.error?.slice(0, 2000) ?? null })),
      ),
      token,
    ],
  );
  return rows;
}

/** A failed run: the lease is released with the error; `permanent` fails the delivery (visible, retryable). */
export async function recordDeliveryError(db: Db, id: string, token: string, message: string, permanent: boolean): Promise<void> {
  await db('psa_deliveries')
    .where({ id, claimed_by: token })
    .update({ last_error: message.slice(0, 2000), claimed_by: null, claimed_until: null, updated_at: db.fn.now(), ...(permanent ? { state: 'failed' } : {}) });
}

/** A transient failure that used up its retries: failed, like a permanent one. */
export async function failDelivery(db: Db, id: string, message: string): Promise<void> {
  await db('psa_deliveries')
    .where({ id })
    .whereIn('state', ['pending'])
    .update({ state: 'failed', last_error: message.slice(0, 2000), claimed_by: null, claimed_until: null, updated_at: db.fn.now() });
}

/** A failed or skipped delivery a retry asks for, with what decides whether the PSA can take it now. */
export interface RetryCandidate {
  id: string;
  connectionName: string;
  connectionType: PsaConnectionRow['type'];
  /** Already created in the PSA: a retry sends changes, no company ref needed. */
  externalId: string | null;
  companyId: string | null;
  companyName: string | null;
  companyRefs: PsaRefs | null;
}

/** The failed and skipped deliveries a retry names (ids, or every one of a connection), scoped, their rows locked. */
export async function retryCandidates(
  db: Db,
  f: { ids?: readonly string[] | undefined; connection?: string | undefined },
  scope: CompanyScope,
): Promise<RetryCandidate[]> {
  const q = db('psa_deliveries as d')
    .join('tickets as t', 't.id', 'd.ticket_id')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .leftJoin('companies as co', 'co.id', 't.company_id')
    .whereIn('d.state', ['failed', 'skipped'])
    .orderBy('d.id')
    .forUpdate('d')
    .select('d.id', 'c.name as connection_name', 'c.type as connection_type', 'd.external_id', 't.company_id', 'co.name as company_name', 'co.psa_refs as company_refs');
  if (f.ids) q.whereIn('d.id', [...f.ids]);
  if (f.connection) q.where('c.name', f.connection);
  whereInScope(q, 't.company_id', scope);
  const rows = (await q) as Array<{ id: string; connection_name: string; connection_type: PsaConnectionRow['type']; external_id: string | null; company_id: string | null; company_name: string | null; company_refs: PsaRefs | null }>;
  return rows.map((r) => ({
    id: String(r.id),
    connectionName: r.connection_name,
    connectionType: r.connection_type,
    externalId: r.external_id,
    companyId: r.company_id === null ? null : String(r.company_id),
    companyName: r.company_name,
    companyRefs: r.company_refs,
  }));
}

/** Deliveries a retry cannot send yet: skipped (a failed one too), with today's reason. */
export async function keepSkipped(db: Db, rows: ReadonlyArray<{ id: string; reason: string }>): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `UPDATE psa_deliveries d SET state = 'skipped', last_error = v.reason, claimed_by = NULL, claimed_until = NULL, updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS v(id bigint, reason text)
      WHERE d.id = v.id AND d.state IN ('failed', 'skipped')`,
    [JSON.stringify(rows.map((r) => ({ id: r.id, reason: r.reason.slice(0, 2000) })))],
  );
}

/**
 * Retry of failed (and skipped) deliveries: pending again with a fresh attempt count. Scoped to the
 * caller's companies. Returns the deliveries to enqueue.
 */
export async function retryDeliveries(
  db: Db,
  f: { ids?: readonly string[] | undefined; connection?: string | undefined },
  scope: CompanyScope,
): Promise<DeliveryRef[]> {
  const q = db('psa_deliveries as d')
    .join('tickets as t', 't.id', 'd.ticket_id')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .whereIn('d.state', ['failed', 'skipped'])
    .select('d.id');
  if (f.ids) q.whereIn('d.id', [...f.ids]);
  if (f.connection) q.where('c.name', f.connection);
  whereInScope(q, 't.company_id', scope);
  const { rows } = await db.raw<{ rows: Array<{ id: string; name: string; rank: number }> }>(
    `UPDATE psa_deliveries d SET state = 'pending', attempts = 0, claimed_by = NULL, claimed_until = NULL, pending_since = now(), updated_at = now()
       FROM psa_connections c
      WHERE c.id = d.connection_id AND d.id IN (${q.toQuery()})
      RETURNING d.id, c.name, d.rank`,
  );
  return rows.map((r) => ({ id: String(r.id), connectionName: r.name, rank: r.rank }));
}

/** Pending deliveries of a connection whose lease is free (the sweeper re-enqueues them: lost jobs, Redis down). */
export async function pendingDeliveries(db: Db, connectionName: string, limit: number): Promise<DeliveryRef[]> {
  const rows = (await db('psa_deliveries as d')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .where('c.name', connectionName)
    .where('d.state', 'pending')
    .where((w) => void w.whereNull('d.claimed_until').orWhere('d.claimed_until', '<', db.fn.now()))
    .orderBy([{ column: 'd.rank' }, { column: 'd.id' }])
    .limit(limit)
    .select('d.id', 'c.name', 'd.rank', db.raw('d.external_id IS NULL AS is_new'))) as Array<{ id: string; name: string; rank: number; is_new: boolean }>;
  return rows.map((r) => ({ id: String(r.id), connectionName: r.name, rank: r.rank, isNew: r.is_new }));
}

/** The PSA side of a ticket (`GET /api/v1/tickets/:id` → `psa`). The caller already checked the ticket's scope. */
export async function deliveriesOfTicket(
  db: Db,
  ticketId: string,
): Promise<Array<PsaDeliveryRow & { connection_name: string }>> {
  return (await db('psa_deliveries as d')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .where('d.ticket_id', ticketId)
    .orderBy('c.name')
    .select('d.*', 'c.name as connection_name')) as Array<PsaDeliveryRow & { connection_name: string }>;
}

/** A list of deliveries (the operator's view of failures), scoped. */
export async function listDeliveries(
  db: Db,
  f: { state?: PsaDeliveryState | undefined; connection?: string | undefined; id?: string | undefined; limit: number },
  scope: CompanyScope,
): Promise<Array<PsaDeliveryRow & { connection_name: string }>> {
  const q = db('psa_deliveries as d')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .join('tickets as t', 't.id', 'd.ticket_id')
    .orderBy('d.id', 'desc')
    .limit(f.limit)
    .select('d.*', 'c.name as connection_name');
  if (f.state) q.where('d.state', f.state);
  if (f.connection) q.where('c.name', f.connection);
  if (f.id) q.where('d.id', f.id);
  whereInScope(q, 't.company_id', scope);
  return (await q) as Array<PsaDeliveryRow & { connection_name: string }>;
}

/** Backlog per connection and state (the metrics gauge). */
export async function deliveryCounts(db: Db): Promise<Array<{ connection: string; state: PsaDeliveryState; count: number }>> {
  const rows = (await db('psa_deliveries as d')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .groupBy('c.name', 'd.state')
    .select('c.name as connection', 'd.state')
    .count<Array<{ connection: string; state: PsaDeliveryState; count: string }>>('* as count')) as Array<{ connection: string; state: PsaDeliveryState; count: string }>;
  return rows.map((r) => ({ connection: r.connection, state: r.state, count: Number(r.count) }));
}


/**
 * A company got its PSA id for these connections: the deliveries skipped for lacking it — of the
 * company's open tickets, not created in the PSA yet, on enabled connections — are pending again
 * with a fresh attempt count. Returns them to enqueue (as new deliveries: they go at once).
 */
export async function resumeSkippedOfCompany(db: Db, companyId: string, connectionNames: readonly string[]): Promise<DeliveryRef[]> {
  if (connectionNames.length === 0) return [];
  const { rows } = await db.raw<{ rows: Array<{ id: string; name: string; rank: number }> }>(
    `UPDATE psa_deliveries d
        SET state = 'pending', attempts = 0, last_error = NULL, claimed_by = NULL, claimed_until = NULL, pending_since = now(), updated_at = now()
       FROM tickets t, psa_connections c
      WHERE t.id = d.ticket_id AND c.id = d.connection_id
        AND d.state = 'skipped' AND d.external_id IS NULL
        AND t.company_id = ? AND t.status NOT IN ('resolved', 'closed')
        AND c.enabled AND c.name = ANY(?::text[])
      RETURNING d.id, c.name, d.rank`,
    [companyId, [...connectionNames]],
  );
  return rows.map((r) => ({ id: String(r.id), connectionName: r.name, rank: r.rank, isNew: true }));
}

/**
 * Deliveries whose PSA ticket exists and whose number could not be read after every attempt: delivered
 * without a number, the reason kept in last_error (a later change's run reads the number again). One
 * that owes more (repeats, notes, a change recorded meanwhile) stays pending for that.
 */
export async function settleWithoutNumbers(db: Db, ids: readonly string[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  await db.raw(
    `UPDATE psa_deliveries
        SET state = 'delivered', last_error = ?, claimed_by = NULL, claimed_until = NULL, pending_since = NULL, updated_at = now()
      WHERE id = ANY(?::bigint[]) AND state = 'pending' AND external_id IS NOT NULL AND external_number IS NULL
        AND pending_occurrences = 0 AND pending_notes = '[]'::jsonb AND sent_seq = change_seq`,
    [reason.slice(0, 2000), [...ids]],
  );
}
