import { Queue } from 'bullmq';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { createRedis } from '../../lib/redis';
import { waitFor } from '../helpers/hub';
import { createSource, seedWorld } from '../helpers/seed';

/** Shared by the fault tests: a generic webhook source, alerts, a table lock held from outside, and the pipeline's invariants. */

export const TOKEN = 'generic-source-token-0123456789';
export const SOURCE = 'rmm';

export async function seedSource(db: Knex, secretKey: string): Promise<void> {
  await createSource(db, secretKey, { name: SOURCE, plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await seedWorld(db, { source: SOURCE, site: 'acme-hq' });
}

/** A generic-plugin alert; `i` makes the alert id (and so the dedup key) unique. */
export function alert(i: number | string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const n = typeof i === 'number' ? i : 0;
  return {
    alertId: `fault-${i}`,
    state: 'firing',
    severity: 'high',
    category: 'disk',
    title: `Disk almost full (${i})`,
    device: { id: `dev-${n % 7}`, hostname: `host-${n % 7}`, site: 'acme-hq' },
    occurredAt: '2026-05-04T12:00:00Z',
    ...over,
  };
}

/** POSTs one delivery (an alert or an array of up to 500) to /hooks/rmm. */
export async function post(baseUrl: string, body: unknown): Promise<{ status: number; alertIds: string[] }> {
  const res = await fetch(`${baseUrl}/hooks/${SOURCE}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { alertIds?: string[] };
  return { status: res.status, alertIds: json.alertIds ?? [] };
}

export async function count(db: Knex, table: string, where?: (q: Knex.QueryBuilder) => void): Promise<number> {
  const q = db(table);
  if (where) where(q);
  const r = (await q.count({ n: '*' }).first()) as { n: string };
  return Number(r.n);
}

/** Waits until every stored receipt is processed (none pending, none held); the error says what is left. */
export async function waitAllProcessed(db: Knex, timeoutMs: number, expectReceipts?: number): Promise<void> {
  const state = async () =>
    (await db('alert_receipts')
      .select(
        db.raw('count(*)::int AS total'),
        db.raw('(count(*) FILTER (WHERE processed_at IS NULL))::int AS pending'),
        db.raw('(count(*) FILTER (WHERE processed_at IS NULL AND enqueued_at IS NULL))::int AS "neverEnqueued"'),
        db.raw('(count(*) FILTER (WHERE error IS NOT NULL))::int AS "withError"'),
      )
      .first()) as { total: number; pending: number; neverEnqueued: number; withError: number };
  try {
    await waitFor(
      async () => {
        const r = await state();
        return r.pending === 0 && (expectReceipts === undefined || r.total === expectReceipts);
      },
      timeoutMs,
      `all receipts processed${expectReceipts === undefined ? '' : ` (${expectReceipts})`}`,
    );
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; receipts: ${JSON.stringify(await state())}`, {
      cause: e,
    });
  }
}

/**
 * A Postgres session of the test's own, holding `LOCK TABLE … IN SHARE ROW EXCLUSIVE MODE` in an
 * open transaction: a worker's `SELECT … FOR UPDATE` on the table still passes, its INSERT waits —
 * so a worker stops inside its receipt transaction, in the middle of creating the ticket.
 */
export class TableLock {
  private constructor(
    readonly client: Client,
    readonly pid: number,
    /** Outside the lock's transaction: pg_stat_activity is a snapshot taken once per transaction. */
    private readonly monitor: Client,
  ) {}

  static async take(url: string, table: string): Promise<TableLock> {
    const client = new Client({ connectionString: url });
    const monitor = new Client({ connectionString: url });
    await client.connect();
    await monitor.connect();
    const r = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
    return new TableLock(client, r.rows[0]!.pid, monitor);
  }

  /**
   * Backends waiting for this session's lock, whose current statement starts with `statement`
   * (case-insensitive; default the ticket INSERT of the alert pipeline — other work of a worker,
   * such as the stale-ticket upkeep, may wait on the same table).
   */
  async waiters(statement = 'INSERT INTO tickets'): Promise<number[]> {
    const r = await this.monitor.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND ltrim(query) ILIKE $2',
      [this.pid, `${statement}%`],
    );
    return r.rows.map((x) => x.pid);
  }

  async waitForWaiter(timeoutMs = 20_000, statement?: string): Promise<number> {
    const pids = await waitFor(
      async () => {
        const p = await this.waiters(statement);
        return p.length > 0 ? p : null;
      },
      timeoutMs,
      `a backend blocked on the test lock in ${statement ?? 'INSERT INTO tickets'}`,
    );
    return pids[0]!;
  }

  async terminate(pid: number): Promise<void> {
    await this.monitor.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  /** True while a backend with this pid exists. */
  async backendAlive(pid: number): Promise<boolean> {
    const r = await this.monitor.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    return (r.rowCount ?? 0) > 0;
  }

  async release(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
    await this.monitor.end().catch(() => undefined);
  }
}

/**
 * R-ALR-4 "no partial rows" — the committed state is always one of "receipt applied with all its
 * effects" or "not applied at all":
 * - a processed receipt that created or counted on a ticket points at an existing ticket;
 * - an unprocessed receipt has no outcome and no ticket;
 * - every ticket was created by exactly one receipt, and its occurrences equal the receipts that
 *   created or counted on it.
 * Returns the problems found (empty when consistent), so a failure shows all of them at once.
 */
export async function pipelineInvariantViolations(db: Knex): Promise<string[]> {
  const problems: string[] = [];
  const q = async (sql: string) => ((await db.raw(sql)) as { rows: Array<Record<string, unknown>> }).rows;
  const dangling = await q(`SELECT r.id FROM alert_receipts r LEFT JOIN tickets t ON t.id = r.ticket_id
    WHERE r.processed_at IS NOT NULL AND r.outcome IN ('ticket_created','occurrence') AND t.id IS NULL LIMIT 5`);
  if (dangling.length) problems.push(`processed receipts without their ticket: ${JSON.stringify(dangling)}`);
  const half = await q(
    `SELECT id, outcome, ticket_id FROM alert_receipts WHERE processed_at IS NULL AND (outcome IS NOT NULL OR ticket_id IS NOT NULL) LIMIT 5`,
  );
  if (half.length) problems.push(`unprocessed receipts carrying an outcome: ${JSON.stringify(half)}`);
  const counts = await q(`SELECT t.id, t.occurrences,
      count(r.id) FILTER (WHERE r.outcome = 'ticket_created') AS created,
      count(r.id) FILTER (WHERE r.outcome IN ('ticket_created','occurrence')) AS counted
    FROM tickets t LEFT JOIN alert_receipts r ON r.ticket_id = t.id AND r.processed_at IS NOT NULL
    GROUP BY t.id HAVING count(r.id) FILTER (WHERE r.outcome = 'ticket_created') <> 1
       OR t.occurrences <> count(r.id) FILTER (WHERE r.outcome IN ('ticket_created','occurrence'))
    LIMIT 5`);
  if (counts.length) problems.push(`tickets whose receipts do not add up: ${JSON.stringify(counts)}`);
  const dupOpen = await q(
    `SELECT dedup_key, count(*) AS n FROM tickets WHERE status NOT IN ('resolved','closed') GROUP BY dedup_key HAVING count(*) > 1 LIMIT 5`,
  );
  if (dupOpen.length) problems.push(`dedup keys with more than one open ticket: ${JSON.stringify(dupOpen)}`);
  return problems;
}

/** The completed jobs of the `alerts` queue, with the worker that ran each (`<host>:<pid>`). */
export async function completedAlertJobs(
  redisUrl: string,
  prefix: string,
): Promise<Array<{ id: string; processedBy: string | undefined; receipts: number }>> {
  const connection = createRedis(redisUrl);
  const queue = new Queue('alerts', { connection, prefix });
  try {
    const jobs = await queue.getJobs(['completed']);
    return jobs.map((j) => ({
      id: String(j.id),
      processedBy: j.processedBy,
      receipts: Array.isArray((j.data as { receiptIds?: unknown }).receiptIds)
        ? (j.data as { receiptIds: unknown[] }).receiptIds.length
        : 0,
    }));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Deletes every key under a BullMQ prefix on one Redis (the schedulers' keys outlive obliterating the queues). */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
