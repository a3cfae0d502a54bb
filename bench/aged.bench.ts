import type { ChildProcess } from 'node:child_process';
import type { Knex } from 'knex';
import { ALL_COMPANIES } from '../core/access/company-scope';
import { liveRulesetFromDb } from '../app/rules/candidate';
import { dryRunAlert } from '../app/rules/dry-run';
import { replayRuleset } from '../app/rules/replay';
import { SlaCache } from '../app/slas/sla-cache';
import { listTickets } from '../db/queries/tickets';
import { waitSettled } from './cpu';

/**
 * Issue 19, "a benchmark on an aged database" (`npm run bench -- --only=aged`): the same
 * measurements on the empty database and again after filling it with a year of history — by
 * default 3,000,000 alerts, each with its delivery and a processed receipt, and one ticket per 10
 * alerts (300,000, every one resolved or closed) for 200 new companies and the bench's own, spread
 * evenly over the past 365 days and generated in Postgres with generate_series.
 *
 * Like for like: the ticket list is measured after each pass's end-to-end run, over the tickets
 * that run just opened (same alerts, same rules, same due dates), of which the older half is then
 * closed (so "company + closed" has a page to list in both passes: 5,000 open, 5,000 closed), and
 * the aged pass differs only by its history. For that the fill first closes the empty pass's
 * tickets (a year later they are history too) and opens none of its own; before, the aged pass
 * listed over twice as many open tickets (the empty pass's and its own) as the empty one, and
 * "company + closed" listed nothing on the empty database.
 * "One company's closed tickets" is the company of the end-to-end tickets in both passes (before:
 * the highest company id, on the aged database a history-only company), and the fill gives it its
 * share of history. Each list is timed 200 times after 10 unmeasured calls, the four filters taking
 * turns (a burst of load on the shared machine hits all four alike), and the median is reported.
 *
 * Measured both times: end to end (webhook → committed ticket, 1 worker process, 50 alerts per
 * request), the dry run (`dryRunAlert`, what POST /api/v1/rules/test calls), a replay of the last
 * 7 days (`replayRuleset`, what `hub rules diff` and the replays queue call; at most REPLAY_LIMIT
 * alerts so both runs do the same amount of work) and the ticket list with filters (`listTickets`,
 * GET /api/v1/tickets). Then EXPLAIN of the hot path's statements on the aged database, with the
 * index each uses and any sequential scan of a large table.
 *
 * BENCH_AGED_ALERTS overrides the size (smoke: 30,000).
 */

export interface AgedHelpers {
  db: Knex;
  env: NodeJS.ProcessEnv;
  apiPort: number;
  procs: ChildProcess[];
  smoke: boolean;
  log: (s: string) => void;
  startProcess: (args: string[], env: NodeJS.ProcessEnv, procs: ChildProcess[]) => Promise<ChildProcess>;
  stopProcess: (p: ChildProcess) => Promise<void>;
  waitHttp: (url: string, timeoutMs?: number) => Promise<void>;
  waitUntil: (check: () => Promise<boolean>, timeoutMs: number, everyMs?: number) => Promise<void>;
  postAlerts: (port: number, total: number, perRequest: number, tag: string) => Promise<number>;
}

export interface AgedFigures {
  e2eAlertsPerSec: number;
  dryRunMedianMs: number;
  dryRunP95Ms: number;
  replayAlertsPerSec: number;
  replayEvaluated: number;
  /** Median ms of each ticket-list filter. */
  ticketList: Record<string, number>;
}

export interface PlanRow {
  statement: string;
  indexes: string[];
  /** Tables read by a sequential scan (none expected on the large tables). */
  seqScans: string[];
  /** Execution time of EXPLAIN ANALYZE where it is a read, ms. */
  ms: number | null;
}

export interface AgedResult {
  alerts: number;
  tickets: number;
  fillSeconds: number;
  databaseMb: { before: number; after: number };
  empty: AgedFigures;
  aged: AgedFigures;
  /** aged / empty for each figure where higher is better; empty / aged where lower is better (1 = same). */
  ratios: Record<string, number>;
  plans: PlanRow[];
}

const REPLAY_LIMIT = 2000;
/** Timed calls of each ticket-list filter (median reported), after LIST_WARMUP unmeasured ones. */
const LIST_ROUNDS = 200;
const LIST_WARMUP = 10;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

export async function benchAged(h: AgedHelpers): Promise<AgedResult> {
  const alerts = Number(process.env.BENCH_AGED_ALERTS ?? (h.smoke ? 30_000 : 3_000_000));
  if (!Number.isInteger(alerts) || alerts < 1000) throw new Error('BENCH_AGED_ALERTS must be a whole number ≥ 1000');
  const sizeMb = async () => Math.round(Number(((await h.db.raw(`SELECT pg_database_size(current_database()) AS b`)) as { rows: { b: string }[] }).rows[0]!.b) / 2 ** 20);

  const before = await sizeMb();
  h.log('aged: figures on the empty database');
  const empty = await measure(h, 'empty');
  h.log(`aged: filling ${alerts.toLocaleString('en')} alerts over a year (generate_series)`);
  const t0 = Date.now();
  const tickets = await fill(h.db, alerts, h.log);
  const fillSeconds = round((Date.now() - t0) / 1000, 1);
  const after = await sizeMb();
  h.log(`aged: filled in ${fillSeconds} s, database ${after} MB; the same figures again`);
  const aged = await measure(h, 'aged');
  const plans = await explainHotPath(h.db, ((await h.db('tickets').orderBy('id', 'desc').first('company_id')) as { company_id: string }).company_id);

  const ratios: Record<string, number> = {
    e2e: round(aged.e2eAlertsPerSec / empty.e2eAlertsPerSec),
    dryRun: round(empty.dryRunMedianMs / aged.dryRunMedianMs),
    replay: round(aged.replayAlertsPerSec / empty.replayAlertsPerSec),
  };
  for (const k of Object.keys(empty.ticketList)) ratios[`tickets ${k}`] = round(empty.ticketList[k]! / aged.ticketList[k]!);
  return { alerts, tickets, fillSeconds, databaseMb: { before, after }, empty, aged, ratios, plans };
}

/**
 * A year of history, oldest first (ids follow time, as they do when alerts arrive): companies,
 * tickets, then per alert its delivery, the alert (with a decision like the worker writes) and a
 * processed receipt. Returns the number of tickets.
 */
async function fill(db: Knex, n: number, log: (s: string) => void): Promise<number> {
  const t = Math.max(100, Math.floor(n / 10));
  const source = (await db('sources').where('name', 'bench').first('id')) as { id: string };
  await db.raw(`INSERT INTO companies (name, code) SELECT 'Aged ' || i, 'AGED' || i FROM generate_series(1, 200) AS i ON CONFLICT DO NOTHING`);
  // The empty pass's tickets become history (see the header: both passes list over their own open tickets only).
  await db.raw(`UPDATE tickets SET status = 'closed', closed_at = now(), updated_at = now() WHERE status NOT IN ('resolved', 'closed')`);
  // Tickets: i-th of t at now - 365 days × (1 - i/t), resolved or closed, over every company (the bench's too; by
  // i / 3, so that each company gets both statuses, which follow i % 3).
  const companies = (await db.raw(`SELECT array_agg(id ORDER BY id) AS ids FROM companies`)) as { rows: { ids: string[] }[] };
  await db.raw(
    `INSERT INTO tickets (company_id, source, dedup_key, priority, status, title, description, occurrences,
                          first_occurred_at, last_occurred_at, first_response_due_at, resolution_due_at, first_response_at,
                          resolved_at, closed_at, decision, created_at, updated_at)
     SELECT (?::bigint[])[1 + (i / 3) % cardinality(?::bigint[])], 'bench', 'aged-k-' || i,
            (ARRAY['critical','high','medium','low'])[1 + i % 4],
            CASE WHEN i % 3 = 0 THEN 'resolved' ELSE 'closed' END,
            'Disk almost full on aged-host-' || (i % 5000), 'C: 95% used', 10,
            ts, ts + interval '1 hour', ts + interval '4 hours', ts + interval '1 day', ts + interval '30 minutes',
            ts + interval '2 hours',
            CASE WHEN i % 3 = 0 THEN NULL ELSE ts + interval '3 hours' END,
            jsonb_build_object('rules', jsonb_build_array('default'), 'assignment', jsonb_build_object('service', 'DESK', 'priority', 'P3')),
            ts, ts + interval '3 hours'
       FROM (SELECT i, now() - interval '365 days' * (1 - i::float8 / ?) AS ts FROM generate_series(1, ?) AS i) g`,
    [companies.rows[0]!.ids, companies.rows[0]!.ids, t, t],
  );
  const t1 = (await db.raw(`SELECT min(id) AS id FROM tickets WHERE dedup_key LIKE 'aged-k-%'`)) as { rows: { id: string }[] };
  const ticket0 = Number(t1.rows[0]!.id) - 1;
  // In chunks of 500,000 alerts, so no one statement holds a year of rows in memory.
  const chunk = 500_000;
  for (let from = 1; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await db.raw(
      `WITH g AS (
         SELECT i, now() - interval '365 days' * (1 - i::float8 / ?) AS ts, 1 + ((i - 1) * ?::bigint) / ? AS tk
           FROM generate_series(?::bigint, ?::bigint) AS i
       ), d AS (
         INSERT INTO deliveries (source_id, body_sha256, body_bytes, remote_addr, received_at)
         SELECT ?, md5(i::text), 480, '10.0.0.1', ts FROM g ORDER BY i
         RETURNING id, received_at
       ), dn AS (
         SELECT id, row_number() OVER (ORDER BY id) + ? - 1 AS i FROM d
       ), a AS (
         INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, category, title, message, device_source_id,
                             hostname, site, occurred_at, labels, raw, first_delivery_id, receipt_count, status, ticket_id, outcome,
                             decision, ruleset_version, created_at, updated_at)
         SELECT ?, 'aged-a-' || g.i, 'aged-k-' || g.tk, CASE WHEN g.i % 10 = 0 THEN 'resolved' ELSE 'firing' END,
                (ARRAY['critical','high','medium','low'])[1 + g.i % 4], 'disk', 'Disk almost full on aged-host-' || (g.tk % 5000), 'C: 95% used',
                'dev-aged-' || (g.tk % 5000), 'aged-host-' || (g.tk % 5000), 'site-1', g.ts, '{"team":"ops"}'::jsonb,
                jsonb_build_object('alertId', 'aged-a-' || g.i, 'state', 'firing', 'severity', 'high', 'title', 'Disk almost full',
                                   'message', 'C: 95% used', 'device', jsonb_build_object('id', 'dev-aged', 'hostname', 'aged-host', 'site', 'site-1'),
                                   'occurredAt', g.ts, 'padding', repeat('x', 200)),
                dn.id, 1, 'processed', ? + g.tk, 'ticket',
                jsonb_build_object('outcome', 'ticket', 'rules', jsonb_build_array('default', 'routing-' || (g.i % 50)),
                                   'assignment', jsonb_build_object('contract', NULL, 'service', 'DESK', 'sla', 'STANDARD', 'priority', 'P3', 'queue', 'Service Desk'),
                                   'explain', repeat('r', 600)),
                1, g.ts, g.ts
           FROM g JOIN dn ON dn.i = g.i ORDER BY g.i
         RETURNING id, first_delivery_id, created_at, ticket_id
       )
       INSERT INTO alert_receipts (alert_id, delivery_id, received_at, enqueued_at, processed_at, outcome, ticket_id)
       SELECT id, first_delivery_id, created_at, created_at, created_at + interval '50 milliseconds', 'ticket', ticket_id FROM a ORDER BY id`,
      [n, t, n, from, to, source.id, from, source.id, ticket0],
    );
    log(`aged: ${to.toLocaleString('en')} of ${n.toLocaleString('en')} alerts written`);
  }
  log('aged: VACUUM ANALYZE');
  await db.raw('VACUUM ANALYZE deliveries');
  await db.raw('VACUUM ANALYZE alerts');
  await db.raw('VACUUM ANALYZE alert_receipts');
  await db.raw('VACUUM ANALYZE tickets');
  await db.raw('VACUUM ANALYZE companies');
  return t;
}

/** The ticket list's four measured filters (first page of 50). */
function listFilters(company: string): Record<string, Parameters<typeof listTickets>[1]> {
  return {
    'open, newest first': { status: ['new', 'in_progress', 'waiting_customer'], limit: 50, scope: ALL_COMPANIES },
    'company + closed': { companyId: company, status: ['closed'], limit: 50, scope: ALL_COMPANIES },
    'priority high': { priority: 'high', limit: 50, scope: ALL_COMPANIES },
    'open by next due': { status: ['new', 'in_progress'], sort: 'nextDue', limit: 50, scope: ALL_COMPANIES },
  };
}

/** The statements `listTickets` sends for each filter, as sent (caught from knex's query event). */
async function listStatements(db: Knex, company: string): Promise<Array<{ statement: string; sql: string; bindings: Knex.RawBinding[]; analyze: boolean }>> {
  const out: Array<{ statement: string; sql: string; bindings: Knex.RawBinding[]; analyze: boolean }> = [];
  for (const [name, f] of Object.entries(listFilters(company))) {
    const sent: Array<{ sql: string; bindings: Knex.RawBinding[] }> = [];
    // knex reports the statement with pg's $1, $2 …; db.raw takes ? placeholders (in the same order).
    const catchQuery = (q: { sql: string; bindings?: Knex.RawBinding[] }) => sent.push({ sql: q.sql.replace(/\$\d+/g, '?'), bindings: q.bindings ?? [] });
    db.on('query', catchQuery);
    try {
      await listTickets(db, f);
    } finally {
      db.removeListener('query', catchQuery);
    }
    for (const q of sent) out.push({ statement: `tickets: list, ${name}`, ...q, analyze: true });
  }
  return out;
}

async function measure(h: AgedHelpers, tag: string): Promise<AgedFigures> {
  const { db } = h;
  // End to end: an API and one worker process, 50 alerts per request.
  const total = h.smoke ? 300 : 10_000;
  const api = await h.startProcess(['start', '--api'], { ...h.env, PORT: String(h.apiPort) }, h.procs);
  // A long wait: on a busy shared machine a process can take over 30 s to start.
  await h.waitHttp(`http://127.0.0.1:${h.apiPort}/readyz`, 180_000);
  const worker = await h.startProcess(['start', '--worker'], h.env, h.procs);
  await waitSettled([api.pid, worker.pid], { minMs: h.smoke ? 500 : 1500 });
  const maxReceipt = Number(((await db.raw(`SELECT coalesce(max(id), 0) AS m FROM alert_receipts`)) as { rows: { m: string }[] }).rows[0]!.m);
  const maxTicket = Number(((await db.raw(`SELECT coalesce(max(id), 0) AS m FROM tickets`)) as { rows: { m: string }[] }).rows[0]!.m);
  const t0 = Date.now();
  let drainedAt = 0;
  const drained = h.waitUntil(
    async () => {
      const r = (await db.raw(`SELECT count(*)::int AS n FROM alert_receipts WHERE id > ? AND processed_at IS NOT NULL`, [maxReceipt])) as { rows: { n: number }[] };
      if (r.rows[0]!.n >= total) drainedAt = Date.now();
      return drainedAt > 0;
    },
    600_000,
    50,
  ).then(
    () => null,
    (e: unknown) => e,
  );
  await h.postAlerts(h.apiPort, total, 50, `aged-${tag}`);
  const drainError = await drained;
  if (drainError) throw drainError;
  const e2eAlertsPerSec = Math.round(total / ((drainedAt - t0) / 1000));
  await Promise.all([h.stopProcess(api), h.stopProcess(worker)]);

  // Dry run: one alert like the benchmark's, decided against the database as the API would.
  const ruleset = await liveRulesetFromDb(db);
  if (!ruleset) throw new Error('aged: no live ruleset recorded (the API process records it at start)');
  const slas = new SlaCache();
  const dry: number[] = [];
  for (let i = 0; i < (h.smoke ? 20 : 200); i++) {
    const s = performance.now();
    await dryRunAlert(db, slas, ruleset, {
      alert: {
        source: 'bench',
        alertId: `dry-${i}`,
        state: 'firing',
        severity: 'high',
        category: 'disk',
        title: 'Disk almost full on host-1',
        device: { id: 'dev-host-1', hostname: 'host-1', site: 'site-1' },
      } as never,
      now: new Date(),
      scope: ALL_COMPANIES,
    });
    dry.push(performance.now() - s);
  }

  // Replay of the last 7 days, the live rules against themselves (the work is the same either way).
  const until = new Date();
  const since = new Date(until.getTime() - 7 * 86_400_000);
  const rs = performance.now();
  const report = await replayRuleset(db, { candidate: ruleset, live: ruleset, since, until, limit: REPLAY_LIMIT, slas });
  const replayMs = performance.now() - rs;

  // The ticket list with filters, first page (50), as GET /api/v1/tickets runs it; the company is
  // the end-to-end tickets' (the same one in both passes).
  const company = ((await db('tickets').orderBy('id', 'desc').first('company_id')) as { company_id: string }).company_id;
  // The older half of this pass's new tickets is closed, as an operator would have: then every filter
  // has a page to list in both passes (before, "company + closed" was an empty list on the empty
  // database — nothing closed yet — against a page on the aged one).
  await db.raw(
    `UPDATE tickets SET status = 'closed', closed_at = now(), updated_at = now()
      WHERE id IN (SELECT id FROM tickets WHERE id > ? AND status NOT IN ('resolved', 'closed') ORDER BY id LIMIT ?)`,
    [maxTicket, Math.floor(total / 2)],
  );
  // Autovacuum analyses at most once a minute: without this the plans would depend on whether it
  // had yet since the end-to-end run (stale statistics count no open tickets on the aged pass).
  await db.raw('ANALYZE tickets');
  const filters = listFilters(company);
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(filters).map((k) => [k, []]));
  const rounds = h.smoke ? 5 : LIST_ROUNDS;
  for (let i = -LIST_WARMUP; i < rounds; i++) {
    for (const [name, f] of Object.entries(filters)) {
      const s = performance.now();
      await listTickets(db, f);
      if (i >= 0) times[name]!.push(performance.now() - s);
    }
  }
  const ticketList = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, round(median(xs))]));
  return {
    e2eAlertsPerSec,
    dryRunMedianMs: round(median(dry)),
    dryRunP95Ms: round(p95(dry)),
    replayAlertsPerSec: Math.round(report.alertsEvaluated / (replayMs / 1000)),
    replayEvaluated: report.alertsEvaluated,
    ticketList,
  };
}

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Conflict Arbiter Indexes'?: string[];
  Plans?: PlanNode[];
}

/**
 * The hot path's statements, written as the code writes them (db/queries/inbox.ts, alert-batch.ts,
 * alert-processing.ts, receipt-recovery.ts, tickets.ts, upkeep.ts, retention.ts) with values of the
 * aged data. Reads are EXPLAIN ANALYZEd; writes only EXPLAINed (nothing is changed).
 */
async function explainHotPath(db: Knex, company: string): Promise<PlanRow[]> {
  const recent = (await db.raw(`SELECT max(id) AS a FROM alerts WHERE source_alert_id LIKE 'aged-a-%'`)) as { rows: { a: string }[] };
  const alertId = recent.rows[0]!.a;
  const rec = (await db.raw(`SELECT id, delivery_id FROM alert_receipts WHERE alert_id = ?`, [alertId])) as { rows: { id: string; delivery_id: string }[] };
  const receiptIds = [rec.rows[0]!.id];
  const statements: Array<{ statement: string; sql: string; bindings: Knex.RawBinding[]; analyze: boolean }> = [
    {
      statement: 'intake: alert upsert ON CONFLICT (source, source alert id)',
      sql: `INSERT INTO alerts (source_id, source_alert_id, dedup_key, state, severity, title, occurred_at, raw, first_delivery_id)
            VALUES (1, 'x', 'k', 'firing', 'high', 't', now(), '{}', 1)
            ON CONFLICT (source_id, source_alert_id) DO UPDATE SET receipt_count = alerts.receipt_count + 1`,
      bindings: [],
      analyze: false,
    },
    { statement: 'intake: retried delivery by (source, delivery key)', sql: `SELECT id FROM deliveries WHERE source_id = 1 AND delivery_key = 'k'`, bindings: [], analyze: true },
    { statement: 'intake: alert ids of a retried delivery', sql: `SELECT alert_id FROM alert_receipts WHERE delivery_id = ? ORDER BY id`, bindings: [rec.rows[0]!.delivery_id], analyze: true },
    {
      statement: 'worker: lockReceipts (receipts by id with their alerts)',
      sql: `SELECT r.id, a.* FROM alert_receipts r JOIN alerts a ON a.id = r.alert_id JOIN sources s ON s.id = a.source_id
             WHERE r.id = ANY(?::bigint[]) ORDER BY lower(a.hostname) NULLS FIRST, a.site NULLS FIRST, a.dedup_key, r.id`,
      bindings: [receiptIds],
      analyze: true,
    },
    {
      statement: 'worker: the ticket of a dedup key (open first)',
      sql: `SELECT * FROM tickets WHERE dedup_key = 'aged-k-5' ORDER BY (status IN ('new','in_progress','waiting_customer')) DESC, id DESC LIMIT 1`,
      bindings: [],
      analyze: true,
    },
    {
      statement: "worker: the dedup key's last resolved alert",
      sql: `SELECT a.id FROM alerts a WHERE a.dedup_key = 'aged-k-5' AND a.state = 'resolved' AND a.outcome IS NOT NULL ORDER BY a.id DESC LIMIT 1`,
      bindings: [],
      analyze: true,
    },
    { statement: 'relay: receipts not yet enqueued', sql: `SELECT id FROM alert_receipts WHERE enqueued_at IS NULL ORDER BY id LIMIT 1000`, bindings: [], analyze: true },
    {
      statement: 'sweeper: unprocessed receipts',
      sql: `SELECT id FROM alert_receipts WHERE processed_at IS NULL AND dead_lettered_at IS NULL AND enqueued_at < now() - interval '1 minute' LIMIT 1000`,
      bindings: [],
      analyze: true,
    },
    {
      statement: 'replay: firing alerts of the last 7 days (firingAlertsStored)',
      sql: `SELECT a.id, a.title, s.name FROM alerts a JOIN sources s ON s.id = a.source_id
             WHERE a.state = 'firing' AND a.created_at >= now() - interval '7 days' AND a.created_at < now() ORDER BY a.id LIMIT 201`,
      bindings: [],
      analyze: true,
    },
    ...(await listStatements(db, company)),
    {
      statement: 'upkeep: stale tickets',
      sql: `SELECT id FROM tickets WHERE stale_after_minutes IS NOT NULL AND status NOT IN ('resolved','closed') AND last_occurred_at < now() - make_interval(mins => stale_after_minutes)`,
      bindings: [],
      analyze: true,
    },
    {
      statement: 'retention: quiet alerts of finished tickets (deleteQuietAlerts)',
      sql: `SELECT a.id FROM alerts a
             WHERE a.created_at < now() - interval '365 days' AND a.updated_at < now() - interval '365 days'
               AND (a.ticket_id IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = a.ticket_id AND t.status IN ('resolved', 'closed')))
               AND NOT EXISTS (SELECT 1 FROM alert_receipts r WHERE r.alert_id = a.id AND r.processed_at IS NULL)
             ORDER BY a.created_at LIMIT 5000`,
      bindings: [],
      analyze: true,
    },
    { statement: 'retention: the receipts walk', sql: `SELECT id, received_at FROM alert_receipts WHERE id > 0 ORDER BY id LIMIT 5000`, bindings: [], analyze: true },
  ];
  const rows: PlanRow[] = [];
  for (const s of statements) {
    const r = (await db.raw(`EXPLAIN (${s.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${s.sql}`, s.bindings)) as { rows: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time'?: number }> }> };
    const top = r.rows[0]!['QUERY PLAN'][0]!;
    const indexes = new Set<string>();
    const seqScans = new Set<string>();
    const visit = (p: PlanNode) => {
      if (p['Index Name']) indexes.add(p['Index Name']);
      for (const a of p['Conflict Arbiter Indexes'] ?? []) indexes.add(`${a} (conflict arbiter)`);
      if (p['Node Type'] === 'Seq Scan' && p['Relation Name']) seqScans.add(p['Relation Name']);
      for (const c of p.Plans ?? []) visit(c);
    };
    visit(top.Plan);
    rows.push({ statement: s.statement, indexes: [...indexes], seqScans: [...seqScans], ms: top['Execution Time'] === undefined ? null : round(top['Execution Time'], 3) });
  }
  return rows;
}
