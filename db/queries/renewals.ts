import type { Knex } from 'knex';
import type { IsoDate } from '../../core/dates';
import { LEFT_BEHIND_ITEMS, type LeftBehindReport } from '../../core/contracts/left-behind';
import type { Db } from '../connection';
import { OPEN_TICKET_STATUSES } from '../tables';

/**
 * The statements of a renewal that belong to no single contract table (SPEC §4): which contract
 * renews another (R-REN-2), what R-REN-14 leaves behind, and which contracts are due for
 * auto-renewal. The orchestration is app/renewals/; the decisions are core/contracts/. One
 * exported function per statement.
 */

/** Finds the id of the contract that renews `contractId`, if any (R-REN-2). */
export async function findRenewalOf(db: Db, contractId: string): Promise<string | null> {
  const row = (await db('contracts').select('id').where('renewal_of_id', contractId).first()) as { id: string } | undefined;
  return row ? String(row.id) : null;
}

/**
 * R-REN-10: the renewal chain from `contractId` on — the contract itself, its renewal, the
 * renewal's renewal, ... — in chain order, with their start dates.
 */
export async function renewalChainOf(db: Db, contractId: string): Promise<Array<{ id: string; startDate: IsoDate; endDate: IsoDate }>> {
  const r = await db.raw<{ rows: Array<{ id: string; start_date: IsoDate; end_date: IsoDate }> }>(
    `WITH RECURSIVE chain AS (
       SELECT id, start_date, end_date, 0 AS depth FROM contracts WHERE id = ?
       UNION ALL
       SELECT c.id, c.start_date, c.end_date, chain.depth + 1 FROM contracts c JOIN chain ON c.renewal_of_id = chain.id WHERE chain.depth < 100
     )
     SELECT id::text, to_char(start_date, 'YYYY-MM-DD') AS start_date, to_char(end_date, 'YYYY-MM-DD') AS end_date FROM chain ORDER BY depth`,
    [contractId],
  );
  return r.rows.map((row) => ({ id: row.id, startDate: row.start_date, endDate: row.end_date }));
}

// ---------------------------------------------------------------------------------------------
// R-REN-14: what is not transferred — each list limited to LEFT_BEHIND_ITEMS, its count complete
// ---------------------------------------------------------------------------------------------

type Items<K extends keyof Omit<LeftBehindReport, 'originalEndDate'>> = LeftBehindReport[K];

async function counted<T>(db: Db, sql: string, bindings: Record<string, unknown>): Promise<{ count: number; rows: T[] }> {
  const r = await db.raw<{ rows: Array<T & { total: string }> }>(`${sql} LIMIT ${LEFT_BEHIND_ITEMS}`, bindings as Knex.ValueDict);
  return { count: Number(r.rows[0]?.total ?? 0), rows: r.rows };
}

/** Open tickets on the contract (they stay on it). */
export async function listOpenTicketsOfContract(db: Db, contractId: string): Promise<Items<'openTickets'>> {
  const r = await counted<{ id: string; title: string; status: string }>(
    db,
    `SELECT id::text, title, status, count(*) OVER () AS total FROM tickets WHERE contract_id = :c AND status = ANY(:open) ORDER BY id`,
    { c: contractId, open: [...OPEN_TICKET_STATUSES] },
  );
  return { count: r.count, items: r.rows.map((t) => ({ id: t.id, title: t.title, status: t.status })) };
}

/** Open projects on the contract (they stay on it). */
export async function listOpenProjectsOfContract(db: Db, contractId: string): Promise<Items<'openProjects'>> {
  const r = await counted<{ id: string; name: string }>(
    db,
    `SELECT id::text, name, count(*) OVER () AS total FROM projects WHERE contract_id = :c AND status = 'open' ORDER BY id`,
    { c: contractId },
  );
  return { count: r.count, items: r.rows.map((p) => ({ id: p.id, name: p.name })) };
}

/** The contract's charges dated after `date`. */
export async function listChargesAfter(db: Db, contractId: string, date: IsoDate): Promise<Items<'chargesAfterEnd'>> {
  const r = await counted<{ id: string; charge_date: IsoDate; description: string; amount: string }>(
    db,
    `SELECT id::text, charge_date, description, amount::text, count(*) OVER () AS total FROM contract_charges
     WHERE contract_id = :c AND charge_date > :end::date ORDER BY charge_date, id`,
    { c: contractId, end: date },
  );
  return { count: r.count, items: r.rows.map((c) => ({ id: c.id, chargeDate: c.charge_date, description: c.description, amount: c.amount })) };
}

/** Time entries on the contract whose work date is after `date` (happens when a renewal is back-dated). */
export async function listTimeEntriesAfter(db: Db, contractId: string, date: IsoDate): Promise<Items<'timeEntriesAfterEnd'>> {
  const r = await counted<{ id: string; work_date: IsoDate; hours: string; ticket_id: string | null; project_id: string | null }>(
    db,
    `SELECT id::text, work_date, hours::text, ticket_id::text, project_id::text, count(*) OVER () AS total FROM time_entries
     WHERE contract_id = :c AND work_date > :end::date ORDER BY work_date, id`,
    { c: contractId, end: date },
  );
  return {
    count: r.count,
    items: r.rows.map((e) => ({ id: e.id, workDate: e.work_date, hours: e.hours, ticketId: e.ticket_id, projectId: e.project_id })),
  };
}

// ---------------------------------------------------------------------------------------------
// Auto-renewal
// ---------------------------------------------------------------------------------------------

/**
 * Contracts due for auto-renewal on `today`: auto_renew set, recurring service, active, not yet
 * renewed, and their end date at most auto_renew_days_before days away (or passed).
 */
export async function listAutoRenewCandidates(db: Db, today: IsoDate, limit = 500): Promise<string[]> {
  const r = await db.raw<{ rows: Array<{ id: string }> }>(
    `SELECT c.id::text FROM contracts c
     WHERE c.auto_renew AND c.type = 'recurring_service' AND c.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM contracts r WHERE r.renewal_of_id = c.id)
       AND c.end_date - COALESCE(c.auto_renew_days_before, 0) <= :today::date
     ORDER BY c.end_date, c.id
     LIMIT :limit`,
    { today, limit },
  );
  return r.rows.map((x) => x.id);
}
