/**
 * Section "delivery" of `npm run bench` (issue 16, "Done when"): PSA delivery to the local Autotask
 * stand-in (cli/stand-ins/fake-autotask.ts, through test/helpers/fake-autotask.ts), in this process, with
 * the hub as processes (one API, one worker) on the run's database and queue prefix.
 *
 *  1. throughput with no limit: N tickets (one per alert), the connection's rate limit at the API's
 *     maximum (1,000,000 calls/h, far above what one worker reaches): deliveries per second from the
 *     first to the last delivery, and the time from the first post until the PSA holds every ticket;
 *  2. throughput at the rate limit: the connection without its own limit (Autotask's default,
 *     HUB_PSA_AUTOTASK_RATE_PER_HOUR = 5,000/h, i.e. 83 calls a minute) — --smoke: 360/h (6 a minute) —
 *     and more tickets than one minute's budget: the most PSA calls seen in any 60 s (must not exceed
 *     the budget) and the rate achieved;
 *  3. extra cost per alert on the intake → ticket path: the same N alerts end to end (webhook → committed
 *     ticket) with the connection disabled (no delivery is recorded), enabled at no limit (every ticket
 *     recorded in the PSA outbox and delivered by the same worker process meanwhile) and enabled at
 *     Autotask's default limit (what a user runs: the budget's share is delivered meanwhile, the rest
 *     waits): alerts/s and CPU per alert of each, CPU per delivered ticket (the run's CPU beyond the same
 *     round's run without a connection, divided by the tickets the PSA holds), with BENCH_COUNT_DIR the
 *     Postgres statements and Redis commands per delivered ticket, and the drops (target: under 10 %).
 *     Alternated `rounds` times in a turning order, each run after a CHECKPOINT, since the machine is noisy;
 *     the drops are of the medians.
 *
 * `--delivery=cost` (or `throughput`) runs one part; `--delivery-alerts=N` and `--delivery-rounds=N` size
 * the cost part (default 5,000 alerts, 3 rounds).
 */
import type { ChildProcess } from 'node:child_process';
import { createConnection } from '../app/psa/connections';
import { startFakeAutotask, type FakeAutotask } from '../test/helpers/fake-autotask';
import { startCpuMeter, waitSettled } from './cpu';
import { allProcessed, newProgress } from './drain';
import { round, type BenchContext, type ProcessCounts } from './context';

export const DELIVERY_CONNECTION = 'bench-autotask';
/** The seeded company's Autotask id (any integer: the stand-in only checks it is one). */
const COMPANY_REF = '174';

export interface DeliveryThroughputRow {
  run: 'no limit' | 'at rate limit';
  ratePerHour: number;
  tickets: number;
  psaCalls: number;
  /** The PSA calls by method and path ("POST /Tickets 100, GET /Tickets/{id} 100"). */
  callsByKind: string;
  /** The most PSA calls in any 60 s window (sliding; the limiter's budget is ratePerHour / 60 per fixed minute). */
  maxCallsPer60s: number;
  /** The most ticket creates in any 60 s window (sliding). */
  maxCreatesPer60s: number;
  deliveriesPerSec: number;
  /** From the first post until every delivery is `delivered`. */
  allDeliveredSeconds: number;
}

export interface DeliveryCostRow {
  round: number;
  /** No connection; one at no limit (1,000,000 calls/h); one at Autotask's default limit (what a user runs). */
  psa: 'none' | 'no limit' | 'at rate limit';
  ratePerHour: number | null;
  alerts: number;
  /** Webhook → committed ticket (every receipt processed). */
  ticketSeconds: number;
  alertsPerSec: number;
  /**
   * CPU per alert (bench/cpu.ts) until every ticket is committed and, at no limit, delivered (at the rate
   * limit only what the budget let through by the time every ticket was committed is delivered).
   */
  cpuTotalMs: number;
  cpuWorkersMs: number;
  cpuPgMs: number;
  cpuRedisMs: number;
  /** Tickets the PSA held when the CPU was read. */
  delivered: number;
  /** (this run's CPU − the same round's run without a connection) / tickets delivered. */
  cpuPerDeliveredMs: number | null;
  /** At no limit: first post until the PSA holds every ticket. */
  allDeliveredSeconds: number | null;
  /** With BENCH_COUNT_DIR: what every hub process asked of Postgres and Redis, per delivered ticket, beyond the run without a connection. */
  extraPerDelivered?: { pgStatements: number; pgTransactions: number; redisCommands: number; redisRoundTrips: number; pgByKind: Record<string, number>; redisByName: Record<string, number> };
}

export interface DeliveryBenchResult {
  throughput: DeliveryThroughputRow[];
  cost: DeliveryCostRow[];
  /** Median alerts/s with one connection (no limit / at the rate limit) vs none, as a drop in percent (positive = slower). */
  endToEndDropPercent: number | null;
  endToEndDropAtRateLimitPercent: number | null;
  /**
   * The same drops paired: each round's run with the connection against the same round's run without
   * (run next to each other), the median of those drops. The host's speed drifts over minutes (CPU per
   * alert of the runs without a connection moved by a third within one series); a pair shares the drift.
   */
  endToEndDropPairedPercent: number | null;
  endToEndDropAtRateLimitPairedPercent: number | null;
  cpuPerAlertExtraPercent: number | null;
}

type CostKind = DeliveryCostRow['psa'];
const COST_KINDS: readonly CostKind[] = ['none', 'at rate limit', 'no limit'];
const KIND_ARGS: Record<string, CostKind> = { none: 'none', 'at-limit': 'at rate limit', 'no-limit': 'no limit' };

/**
 * `--delivery=cost` (or `throughput`): only that part; `--delivery-alerts=N`, `--delivery-rounds=N`: the cost
 * part's size; `--delivery-kinds=none,at-limit` (or `no-limit`): only these runs of the cost part (`none` always).
 */
function deliveryOptions(smoke: boolean): { parts: Set<string>; alerts: number; rounds: number; kinds: CostKind[] } {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const parts = new Set((arg('delivery') ?? 'throughput,cost').split(','));
  for (const p of parts) if (p !== 'throughput' && p !== 'cost') throw new Error(`--delivery: unknown part "${p}" (throughput, cost)`);
  const whole = (name: string, dflt: number): number => {
    const v = arg(name);
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: "${v}" is not a positive whole number`);
    return n;
  };
  const alerts = whole('delivery-alerts', smoke ? 300 : 5000);
  if (alerts % 50 !== 0) throw new Error(`--delivery-alerts: ${alerts} is not a multiple of 50 (alerts per request)`);
  const named = (arg('delivery-kinds') ?? 'none,at-limit,no-limit').split(',');
  for (const k of named) if (!Object.hasOwn(KIND_ARGS, k)) throw new Error(`--delivery-kinds: unknown kind "${k}" (none, at-limit, no-limit)`);
  const kinds = COST_KINDS.filter((k) => k === 'none' || named.some((n) => KIND_ARGS[n] === k));
  return { parts, alerts, rounds: whole('delivery-rounds', smoke ? 1 : 3), kinds };
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function benchDelivery(ctx: BenchContext): Promise<DeliveryBenchResult> {
  const opts = deliveryOptions(ctx.smoke);
  const fake = await startFakeAutotask();
  try {
    await ctx.db('companies').update({ psa_refs: ctx.db.raw(`coalesce(psa_refs, '{}'::jsonb) || ?::jsonb`, [JSON.stringify({ [DELIVERY_CONNECTION]: COMPANY_REF })]) });
    const throughput: DeliveryThroughputRow[] = [];
    const unlimited = 1_000_000;
    // Autotask's default (null: HUB_PSA_AUTOTASK_RATE_PER_HOUR) in the full run; a small budget in --smoke so it waits one minute only.
    const atLimit = ctx.smoke ? 360 : null;
    if (opts.parts.has('throughput')) {
      throughput.push(await throughputRun(ctx, fake, 'no limit', unlimited, ctx.smoke ? 100 : 3000));
      const budget = Math.floor((atLimit ?? Number(ctx.env.HUB_PSA_AUTOTASK_RATE_PER_HOUR ?? 5000)) / 60);
      // More than two minutes' budget, a whole number of 50-alert requests.
      throughput.push(await throughputRun(ctx, fake, 'at rate limit', atLimit, ctx.smoke ? budget + 2 : Math.ceil((budget * 2 + 20) / 50) * 50));
    }

    const cost: DeliveryCostRow[] = [];
    const rateOf: Record<CostKind, number | null> = { none: null, 'at rate limit': atLimit, 'no limit': unlimited };
    const kinds = opts.kinds.map((k) => [k, rateOf[k]] as const);
    for (let r = 1; opts.parts.has('cost') && r <= opts.rounds; r++) {
      // The order turns every round (none first, then the rate limit first, then no limit first), so no kind
      // always follows the heaviest run: a run's own WAL and dirty pages are written by a CHECKPOINT before
      // the next starts, but the machine's caches and the scheduler still carry some of one run into the next.
      const order = [...kinds.slice((r - 1) % kinds.length), ...kinds.slice(0, (r - 1) % kinds.length)];
      const runs = new Map<DeliveryCostRow['psa'], Awaited<ReturnType<typeof costRun>>>();
      for (const [psa, rate] of order) runs.set(psa, await costRun(ctx, fake, r, psa, rate, opts.alerts));
      const none = runs.get('none')!;
      for (const [psa] of kinds) {
        const run = runs.get(psa)!;
        if (psa !== 'none') {
          const extraMs = (run.row.cpuTotalMs - none.row.cpuTotalMs) * opts.alerts;
          run.row.cpuPerDeliveredMs = run.row.delivered > 0 ? round(extraMs / run.row.delivered) : null;
          if (run.counts && none.counts && run.row.delivered > 0) run.row.extraPerDelivered = extraCounts(run.counts, none.counts, run.row.delivered);
        }
        cost.push(run.row);
      }
    }
    const alertsPerSec = (psa: DeliveryCostRow['psa']) => median(cost.filter((c) => c.psa === psa).map((c) => c.alertsPerSec));
    const cpu = (psa: DeliveryCostRow['psa']) => median(cost.filter((c) => c.psa === psa).map((c) => c.cpuTotalMs));
    const none = alertsPerSec('none');
    const drop = (psa: DeliveryCostRow['psa']) => {
      const one = alertsPerSec(psa);
      return none === null || one === null ? null : round((1 - one / none) * 100);
    };
    const pairedDrop = (psa: DeliveryCostRow['psa']) => {
      const drops = cost.flatMap((c) => {
        const base = c.psa === psa ? cost.find((n) => n.psa === 'none' && n.round === c.round) : undefined;
        return base ? [(1 - c.alertsPerSec / base.alertsPerSec) * 100] : [];
      });
      const d = median(drops);
      return d === null ? null : round(d);
    };
    const cpuNone = cpu('none');
    const cpuOne = cpu('no limit');
    return {
      throughput,
      cost,
      endToEndDropPercent: drop('no limit'),
      endToEndDropAtRateLimitPercent: drop('at rate limit'),
      endToEndDropPairedPercent: pairedDrop('no limit'),
      endToEndDropAtRateLimitPairedPercent: pairedDrop('at rate limit'),
      cpuPerAlertExtraPercent: cpuNone === null || cpuOne === null ? null : round((cpuOne / cpuNone - 1) * 100),
    };
  } finally {
    await ctx.db('psa_connections').where({ name: DELIVERY_CONNECTION }).delete();
    await fake.close();
  }
}

/** Summed over the processes: what the run with a connection asked beyond the run without, per delivered ticket. */
function extraCounts(run: ProcessCounts[], none: ProcessCounts[], delivered: number): NonNullable<DeliveryCostRow['extraPerDelivered']> {
  const per = (n: number) => Math.round((n / delivered) * 100) / 100;
  const total = (cs: ProcessCounts[], k: 'pgStatements' | 'pgTransactions' | 'redisCommands' | 'redisRoundTrips') => cs.reduce((a, c) => a + c[k], 0);
  const byKey = (k: 'pgByKind' | 'redisByName') => {
    const m = new Map<string, number>();
    for (const c of run) for (const [n, v] of Object.entries(c[k])) m.set(n, (m.get(n) ?? 0) + v);
    for (const c of none) for (const [n, v] of Object.entries(c[k])) m.set(n, (m.get(n) ?? 0) - v);
    return Object.fromEntries([...m].filter(([, v]) => v !== 0).map(([n, v]) => [n, per(v)]));
  };
  return {
    pgStatements: per(total(run, 'pgStatements') - total(none, 'pgStatements')),
    pgTransactions: per(total(run, 'pgTransactions') - total(none, 'pgTransactions')),
    redisCommands: per(total(run, 'redisCommands') - total(none, 'redisCommands')),
    redisRoundTrips: per(total(run, 'redisRoundTrips') - total(none, 'redisRoundTrips')),
    pgByKind: byKey('pgByKind'),
    redisByName: byKey('redisByName'),
  };
}

/** The bench connection, made anew (deliveries go with it), enabled or not, with this rate limit (null: the type's default). */
async function connect(ctx: BenchContext, fake: FakeAutotask, enabled: boolean, ratePerHour: number | null): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    await trx('psa_connections').where({ name: DELIVERY_CONNECTION }).delete();
    await createConnection(
      trx,
      { name: DELIVERY_CONNECTION, type: 'autotask', enabled, config: { ...fake.credentials, baseUrl: fake.baseUrl }, rateLimitPerHour: ratePerHour },
      ctx.secretKeys,
    );
  });
}

async function startHub(ctx: BenchContext): Promise<{ api: ChildProcess; worker: ChildProcess }> {
  const api = await ctx.startProcess(['start', '--api'], { ...ctx.env, PORT: String(ctx.apiPort) });
  await ctx.waitHttp(`http://127.0.0.1:${ctx.apiPort}/readyz`, 120_000);
  const worker = await ctx.startProcess(['start', '--worker'], ctx.env);
  const settled = await waitSettled([api.pid, worker.pid], { minMs: ctx.smoke ? 500 : 1500 });
  console.log(`  (hub settled ${settled.waitedMs} ms after the worker started; ${round(settled.cpuAfterMinSeconds * 1000)} ms of CPU after the first ${ctx.smoke ? 500 : 1500} ms)`);
  return { api, worker };
}

const delivered = (ctx: BenchContext) =>
  ctx.count('psa_deliveries', `state = 'delivered' AND connection_id = (SELECT id FROM psa_connections WHERE name = '${DELIVERY_CONNECTION}')`);

async function throughputRun(
  ctx: BenchContext,
  fake: FakeAutotask,
  run: DeliveryThroughputRow['run'],
  ratePerHour: number | null,
  tickets: number,
): Promise<DeliveryThroughputRow> {
  const rate = ratePerHour ?? Number(ctx.env.HUB_PSA_AUTOTASK_RATE_PER_HOUR ?? 5000);
  console.log(`▶ delivery: ${tickets} tickets to the Autotask stand-in, ${run} (${rate} calls/h${ratePerHour === null ? ', the autotask default' : ''})`);
  fake.reset();
  await connect(ctx, fake, true, ratePerHour);
  const { api, worker } = await startHub(ctx);
  try {
    const t0 = Date.now();
    const perRequest = Math.min(50, tickets);
    // postAlerts sends whole requests: the ticket count must be a multiple of the request size.
    if (tickets % perRequest !== 0) throw new Error(`delivery bench: ${tickets} tickets is not a multiple of ${perRequest} alerts per request`);
    await ctx.postAlerts(tickets, perRequest, `dlv-${run.replace(/\W/g, '')}`);
    // At the limit, one minute's budget goes at once and the rest waits for the next minutes: a ticket
    // costs up to 3 calls (a run stopped by the budget looks its ticket up first when it runs again), and
    // the status poll's calls come out of the same budget.
    const minutes = Math.ceil((tickets * 3) / Math.max(1, Math.floor(rate / 60)));
    await ctx.waitUntil(async () => (await delivered(ctx)) >= tickets, (minutes + 2) * 60_000, 100);
    const allDeliveredSeconds = (Date.now() - t0) / 1000;
    const span = (await ctx.db('psa_deliveries').first(ctx.db.raw('extract(epoch from max(delivered_at) - min(delivered_at)) as s'))) as { s: string | null };
    const createCalls = fake.calls.filter((c) => c.method === 'POST' && c.path === '/Tickets');
    const creates = createCalls.length;
    const kinds = new Map<string, number>();
    for (const c of fake.calls) {
      const k = `${c.method} ${c.path.replace(/\/\d+/g, '/{id}')}`;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    if (fake.tickets.length !== tickets) throw new Error(`delivery bench: the stand-in holds ${fake.tickets.length} tickets, expected ${tickets}`);
    return {
      run,
      ratePerHour: rate,
      tickets,
      psaCalls: fake.calls.length,
      callsByKind: [...kinds].map(([k, n]) => `${k} ${n}`).join(', '),
      maxCallsPer60s: maxInWindow(fake.calls.map((c) => c.at), 60_000),
      maxCreatesPer60s: maxInWindow(createCalls.map((c) => c.at), 60_000),
      deliveriesPerSec: round(creates / Math.max(Number(span.s ?? 0), 0.001)),
      allDeliveredSeconds: round(allDeliveredSeconds),
    };
  } finally {
    await Promise.all([ctx.stopProcess(api), ctx.stopProcess(worker)]);
    await ctx.resetPipeline();
  }
}

async function costRun(
  ctx: BenchContext,
  fake: FakeAutotask,
  roundNo: number,
  psa: DeliveryCostRow['psa'],
  ratePerHour: number | null,
  alerts: number,
): Promise<{ row: DeliveryCostRow; counts: ProcessCounts[] | undefined }> {
  const rate = psa === 'none' ? null : (ratePerHour ?? Number(ctx.env.HUB_PSA_AUTOTASK_RATE_PER_HOUR ?? 5000));
  console.log(`▶ delivery: end to end, ${alerts} alerts, PSA: ${psa}${rate === null ? '' : ` (${rate} calls/h)`} (round ${roundNo})`);
  fake.reset();
  await connect(ctx, fake, psa !== 'none', ratePerHour);
  // What the previous run left to write (WAL, dirty pages) is written now, not during this run.
  await ctx.db.raw('CHECKPOINT');
  const { api, worker } = await startHub(ctx);
  let row: DeliveryCostRow;
  try {
    await ctx.startCounting([api, worker]);
    const cpu = await startCpuMeter({ db: ctx.db, database: ctx.database, redis: ctx.cpuRedis, api: api.pid, workers: [worker.pid] });
    const t0 = Date.now();
    let ticketsAt = 0;
    const progress = newProgress();
    const drained = ctx.waitUntil(
      async () => {
        const done = await allProcessed(ctx.db, progress, alerts);
        if (done) ticketsAt = Date.now();
        return done;
      },
      ctx.smoke ? 180_000 : 600_000,
      50,
    );
    const settled = drained.then(
      () => null,
      (e: unknown) => e,
    );
    await ctx.postAlerts(alerts, 50, `cost-${psa.replace(/\W/g, '')}-${roundNo}`, progress);
    const err = await settled;
    if (err) throw err;
    let allDeliveredSeconds: number | null = null;
    if (psa === 'no limit') {
      await ctx.waitUntil(async () => (await delivered(ctx)) >= alerts, ctx.smoke ? 180_000 : 600_000, 100);
      allDeliveredSeconds = round((Date.now() - t0) / 1000);
      if (fake.tickets.length !== alerts) throw new Error(`delivery bench: the stand-in holds ${fake.tickets.length} tickets, expected ${alerts}`);
    }
    const perAlert = await cpu.perAlert(alerts);
    const deliveredNow = fake.tickets.length;
    const tickets = await ctx.count('tickets');
    if (tickets !== alerts) throw new Error(`delivery bench: expected ${alerts} tickets, found ${tickets}`);
    const ticketSeconds = (ticketsAt - t0) / 1000;
    row = {
      round: roundNo,
      psa,
      ratePerHour: rate,
      alerts,
      ticketSeconds: round(ticketSeconds),
      alertsPerSec: Math.round(alerts / ticketSeconds),
      cpuTotalMs: perAlert.totalMs,
      cpuWorkersMs: perAlert.workersMs,
      cpuPgMs: perAlert.postgresMs,
      cpuRedisMs: perAlert.redisMs,
      delivered: deliveredNow,
      cpuPerDeliveredMs: null,
      allDeliveredSeconds,
    };
  } finally {
    await Promise.all([ctx.stopProcess(api), ctx.stopProcess(worker)]);
    await ctx.resetPipeline();
    // The stand-in lives in this process, beside the load generator: what it holds of this run (up to
    // 20,000 tickets and their calls) is let go now, not carried into the next run's heap.
    fake.reset();
  }
  return { row, counts: ctx.readCounts([api, worker]) };
}

/** The most timestamps in any window of `ms` (sliding). */
export function maxInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= ms) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export function printDelivery(r: DeliveryBenchResult): void {
  if (r.throughput.length > 0) {
    console.log('\nPSA delivery to the Autotask stand-in (one worker process)');
    console.table(r.throughput);
  }
  if (r.cost.length === 0) return;
  console.log('Intake → ticket with one PSA connection (no limit, at the rate limit) vs none (50 alerts per request, one worker process)');
  console.table(r.cost.map(({ extraPerDelivered, ...row }) => ({ ...row, ...(extraPerDelivered ? { pgStmtsPerDelivered: extraPerDelivered.pgStatements, pgTxPerDelivered: extraPerDelivered.pgTransactions, redisCmdsPerDelivered: extraPerDelivered.redisCommands } : {}) })));
  for (const c of r.cost) if (c.extraPerDelivered) console.log(`round ${c.round} ${c.psa}: per delivered ticket`, JSON.stringify(c.extraPerDelivered));
  const pct = (d: number) => `${d >= 0 ? `${d} % lower` : `${-d} % higher`}`;
  // Met only when both readings are under 10 %: the medians' ratio and the median of the rounds' own drops.
  const words = (d: number | null, p: number | null) =>
    d === null || p === null ? 'n/a' : `${pct(d)} than with none (median of the rounds' own drops: ${pct(p)}; target: less than 10 % lower: ${d < 10 && p < 10 ? 'met' : 'NOT met'})`;
  console.log(
    `End-to-end alerts/s with one PSA connection at no limit: ${words(r.endToEndDropPercent, r.endToEndDropPairedPercent)}; at the rate limit: ${words(r.endToEndDropAtRateLimitPercent, r.endToEndDropAtRateLimitPairedPercent)}; CPU per alert (no limit) ${r.cpuPerAlertExtraPercent === null ? 'n/a' : `${r.cpuPerAlertExtraPercent >= 0 ? '+' : ''}${r.cpuPerAlertExtraPercent} %`}`,
  );
}
