/**
 * Section "storm" of `npm run bench` (issue 18, "Done when"): 100,000 alerts from 10,000 devices at
 * 200 sites (20 companies × 10 sites × 50 devices, 10 alerts per device), 5 sites going down (their
 * gateway — device 0 of the site — alerts "Gateway unreachable", all their other devices "offline"),
 * 3 sites where a switch fails (12 devices "offline", no gateway alert), every other device a CPU and
 * a disk alert; each alert firing 5 or 10 times (repeats). Ruleset: the shipped rules with the
 * shipped storm examples of rules/10-storms.json switched on (inhibit: gateway mutes the site's
 * "offline" alerts; group: more than 10 "offline" alerts of one site in 300 s → one parent).
 *
 * Posted one alert per request, as fast as the hub takes them (autocannon, 32 connections), to one API
 * process with two worker processes. The 5 gateway alerts go first and are applied before the rest
 * (an inhibition mutes only alerts that come after its source's ticket; a target that comes first
 * opens its own ticket — rules/README.md), then the other 99,995 in a shuffled order.
 *
 * Figures: intake p50/p99 and requests/s, seconds until every alert is applied (every receipt
 * processed), tickets created beside the count expected — computed here from the generated alerts by
 * the rules' meaning, not read from the hub — (and parents, muted alerts), CPU per alert, peak RSS of
 * the API and worker processes. --smoke: 6 sites × 15 devices (1 down, 1 with a failed switch).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startCpuMeter, waitSettled } from './cpu';
import { round, type BenchContext } from './context';

export interface StormShape {
  companies: number;
  sitesPerCompany: number;
  devicesPerSite: number;
  downSites: number;
  switchSites: number;
  /** Devices offline at a site whose switch failed (more than the group rule's 10). */
  switchOffline: number;
}

export const FULL_STORM: StormShape = { companies: 20, sitesPerCompany: 10, devicesPerSite: 50, downSites: 5, switchSites: 3, switchOffline: 12 };
export const SMOKE_STORM: StormShape = { companies: 2, sitesPerCompany: 3, devicesPerSite: 15, downSites: 1, switchSites: 1, switchOffline: 12 };

export interface StormAlert {
  alertId: string;
  state: 'firing';
  severity: string;
  category: string;
  title: string;
  device: { id: string; hostname: string; site: string };
  occurredAt: string;
}

export interface StormExpectation {
  tickets: number;
  parents: number;
  mutedAlerts: number;
}

export interface StormBenchResult {
  alerts: number;
  devices: number;
  sites: number;
  downSites: number;
  requestsPerSec: number;
  intakeP50Ms: number;
  intakeP99Ms: number;
  appliedSeconds: number;
  ticketsExpected: number;
  ticketsCreated: number;
  parentsExpected: number;
  parentsCreated: number;
  mutedExpected: number;
  mutedSeen: number;
  cpuTotalMsPerAlert: number;
  peakRssApiMb: number;
  peakRssWorkersMb: number;
  matches: boolean;
}

const siteName = (s: number) => `storm-s${s}`;
/** Which company a site belongs to (the seed maps each site to one company). */
const companyOf = (shape: StormShape, s: number) => Math.floor(s / shape.sitesPerCompany);

/** Down sites and failed-switch sites, spread over the companies (deterministic). */
function siteRoles(shape: StormShape): { down: Set<number>; switched: Set<number> } {
  const sites = shape.companies * shape.sitesPerCompany;
  const down = new Set<number>();
  const switched = new Set<number>();
  for (let i = 0; i < shape.downSites; i++) down.add((i * 7 * shape.sitesPerCompany + 3) % sites);
  for (let i = 0; sites > 0 && switched.size < shape.switchSites; i++) {
    const s = (i * 11 * shape.sitesPerCompany + shape.sitesPerCompany + 5) % sites;
    if (!down.has(s)) switched.add(s);
  }
  return { down, switched };
}

/** The storm: every alert (repeats included), gateway alerts first occurrence first. */
export function stormAlerts(shape: StormShape, t0: Date, seed = 42): { first: StormAlert[]; rest: StormAlert[] } {
  const { down, switched } = siteRoles(shape);
  const sites = shape.companies * shape.sitesPerCompany;
  const first: StormAlert[] = [];
  const rest: StormAlert[] = [];
  const at = (r: number) => new Date(t0.getTime() + r * 1000).toISOString();
  const repeat = (n: number, make: (r: number) => StormAlert, firstGoesFirst = false) => {
    for (let r = 0; r < n; r++) (firstGoesFirst && r === 0 ? first : rest).push(make(r));
  };
  for (let s = 0; s < sites; s++) {
    for (let k = 0; k < shape.devicesPerSite; k++) {
      const d = s * shape.devicesPerSite + k;
      const device = { id: `storm-dev-${d}`, hostname: `storm-d${d}`, site: siteName(s) };
      if (down.has(s) && k === 0) {
        repeat(10, (r) => ({ alertId: `gw-s${s}`, state: 'firing', severity: 'critical', category: 'network', title: `Gateway unreachable at ${siteName(s)}`, device, occurredAt: at(r) }), true);
      } else if (down.has(s) || (switched.has(s) && k >= 1 && k <= shape.switchOffline)) {
        repeat(10, (r) => ({ alertId: `off-d${d}`, state: 'firing', severity: 'high', category: 'offline', title: `storm-d${d} offline`, device, occurredAt: at(r) }));
      } else {
        repeat(5, (r) => ({ alertId: `cpu-d${d}`, state: 'firing', severity: 'medium', category: 'cpu', title: 'CPU above 90%', device, occurredAt: at(r) }));
        repeat(5, (r) => ({ alertId: `disk-d${d}`, state: 'firing', severity: 'low', category: 'disk', title: 'Disk almost full', device, occurredAt: at(r) }));
      }
    }
  }
  // A deterministic shuffle (mulberry32), so runs are comparable.
  let x = seed >>> 0;
  const rnd = () => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return { first, rest };
}

/**
 * What the storm rules should make of the alerts, worked out from the alerts themselves by the rules'
 * meaning (rules/README.md, "Alert storms"), independent of the hub's code: a firing *source* (category
 * network, title naming gateway / WAN / internet) mutes the *targets* (category offline) with the same
 * company and site, which then open no ticket; every other alert id opens one ticket (repeats count on
 * it); more than 10 unmuted "offline" alert ids of one company and site add one parent ticket.
 * Assumes the sources are applied before their targets (the bench posts them first).
 */
export function expectedStorm(shape: StormShape, alerts: StormAlert[]): StormExpectation {
  const siteIndex = (site: string) => Number(site.slice('storm-s'.length));
  const key = (a: StormAlert) => `${companyOf(shape, siteIndex(a.device.site))}|${a.device.site}`;
  const isSource = (a: StormAlert) => a.category === 'network' && ['gateway', 'wan', 'internet'].some((w) => a.title.toLowerCase().includes(w));
  const isTarget = (a: StormAlert) => a.category === 'offline';
  const sourceKeys = new Set(alerts.filter(isSource).map(key));
  const muted = (a: StormAlert) => isTarget(a) && !isSource(a) && sourceKeys.has(key(a));
  const ticketIds = new Set<string>();
  const offlineByKey = new Map<string, Set<string>>();
  let mutedAlerts = 0;
  for (const a of alerts) {
    if (muted(a)) {
      mutedAlerts++;
      continue;
    }
    ticketIds.add(a.alertId);
    if (a.category === 'offline') {
      const set = offlineByKey.get(key(a)) ?? new Set<string>();
      set.add(a.alertId);
      offlineByKey.set(key(a), set);
    }
  }
  const parents = [...offlineByKey.values()].filter((s) => s.size > 10).length;
  return { tickets: ticketIds.size + parents, parents, mutedAlerts };
}

/** The shipped rules with the shipped storm examples switched on, in a directory of their own. */
export function stormRulesDir(rulesDir: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-bench-storm-rules-'));
  for (const f of fs.readdirSync(rulesDir).filter((n) => n.endsWith('.json'))) {
    const file = JSON.parse(fs.readFileSync(path.join(rulesDir, f), 'utf8')) as { inhibit?: Array<{ enabled?: boolean }>; group?: Array<{ enabled?: boolean }> };
    for (const r of [...(file.inhibit ?? []), ...(file.group ?? [])]) r.enabled = true;
    fs.writeFileSync(path.join(dir, f), JSON.stringify(file, null, 2));
  }
  return dir;
}

async function seedStorm(ctx: BenchContext, shape: StormShape): Promise<void> {
  const sla = (await ctx.db('slas').orderBy('id').first('id')) as { id: string } | undefined;
  const year = new Date().getUTCFullYear();
  for (let c = 0; c < shape.companies; c++) {
    const [company] = (await ctx.db('companies').insert({ name: `Storm company ${c}`, code: `STORM${c}` }).returning('id')) as Array<{ id: string }>;
    await ctx.db('contracts').insert({
      company_id: company!.id,
      name: `Storm service desk ${c}`,
      code: `STORM-DESK-${c}`,
      type: 'recurring_service',
      period_type: 'yearly',
      start_date: `${year - 1}-01-01`,
      end_date: `${year + 1}-12-31`,
      sla_id: sla?.id ?? null,
      is_default_service_desk: true,
    });
    await ctx.db('company_source_sites').insert(
      Array.from({ length: shape.sitesPerCompany }, (_, i) => ({ company_id: company!.id, source: ctx.source, site_id: siteName(c * shape.sitesPerCompany + i) })),
    );
  }
}

async function post(ctx: BenchContext, bodies: string[], connections: number): Promise<autocannon.Result> {
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: `http://127.0.0.1:${ctx.apiPort}/hooks/${ctx.source}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.sourceToken}` },
        connections: Math.min(connections, bodies.length),
        amount: bodies.length,
        requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
  });
  if (result.non2xx || result.errors || result.timeouts) throw new Error(`storm: posting failed: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return result;
}

export async function benchStorm(ctx: BenchContext): Promise<StormBenchResult> {
  const shape = ctx.smoke ? SMOKE_STORM : FULL_STORM;
  await seedStorm(ctx, shape);
  const { first, rest } = stormAlerts(shape, new Date());
  const all = [...first, ...rest];
  const expected = expectedStorm(shape, all);
  const sites = shape.companies * shape.sitesPerCompany;
  console.log(`▶ storm: ${all.length} alerts from ${sites * shape.devicesPerSite} devices at ${sites} sites, ${shape.downSites} down; expecting ${expected.tickets} tickets (${expected.parents} parents), ${expected.mutedAlerts} muted alerts`);
  const rulesDir = stormRulesDir(String(ctx.env.RULES_DIR));
  const env = { ...ctx.env, RULES_DIR: rulesDir };
  const api = await ctx.startProcess(['start', '--api'], { ...env, PORT: String(ctx.apiPort) });
  const workers = [await ctx.startProcess(['start', '--worker'], env), await ctx.startProcess(['start', '--worker'], env)];
  try {
    await ctx.waitHttp(`http://127.0.0.1:${ctx.apiPort}/readyz`, 120_000);
    await waitSettled([api.pid, ...workers.map((w) => w.pid)], { minMs: ctx.smoke ? 500 : 1500 });
    const rss = ctx.sampleRss(api, workers);
    const cpu = await startCpuMeter({ db: ctx.db, database: ctx.database, redis: ctx.cpuRedis, api: api.pid, workers: workers.map((w) => w.pid) });
    const t0 = Date.now();
    const applied = (n: number) => async () => (await ctx.count('alert_receipts', 'processed_at IS NOT NULL')) >= n;
    // The sources first, applied before the rest (see the header).
    await post(ctx, first.map((a) => JSON.stringify(a)), 4);
    await ctx.waitUntil(applied(first.length), 60_000, 50);
    const bodies = rest.map((a) => JSON.stringify(a));
    let appliedAt = 0;
    const drained = ctx
      .waitUntil(
        async () => {
          const done = await applied(all.length)();
          if (done) appliedAt = Date.now();
          return done;
        },
        ctx.smoke ? 300_000 : 1_800_000,
        250,
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    const intake = await post(ctx, bodies, 32);
    const err = await drained;
    if (err) throw err;
    const peaks = rss.stop();
    const perAlert = await cpu.perAlert(all.length);
    const ticketsCreated = await ctx.count('tickets');
    const parentsCreated = await ctx.count('tickets', 'storm_parent');
    const mutedSeen = await ctx.count('alerts', `outcome = 'inhibited'`);
    const result: StormBenchResult = {
      alerts: all.length,
      devices: sites * shape.devicesPerSite,
      sites,
      downSites: shape.downSites,
      requestsPerSec: Math.round(intake.requests.average),
      intakeP50Ms: intake.latency.p50,
      intakeP99Ms: intake.latency.p99,
      appliedSeconds: round((appliedAt - t0) / 1000),
      ticketsExpected: expected.tickets,
      ticketsCreated,
      parentsExpected: expected.parents,
      parentsCreated,
      mutedExpected: expected.mutedAlerts,
      mutedSeen,
      cpuTotalMsPerAlert: perAlert.totalMs,
      peakRssApiMb: peaks.api,
      peakRssWorkersMb: peaks.workers,
      matches: ticketsCreated === expected.tickets && parentsCreated === expected.parents && mutedSeen === expected.mutedAlerts,
    };
    return result;
  } finally {
    await Promise.all([ctx.stopProcess(api), ...workers.map((w) => ctx.stopProcess(w))]);
    await ctx.resetPipeline();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  }
}

export function printStorm(r: StormBenchResult): void {
  console.log('\nAlert storm (one alert per request, 1 API + 2 worker processes)');
  console.table([
    {
      alerts: r.alerts,
      devices: r.devices,
      sites: r.sites,
      'down sites': r.downSites,
      'req/s': r.requestsPerSec,
      'intake p50 ms': r.intakeP50Ms,
      'intake p99 ms': r.intakeP99Ms,
      'all applied s': r.appliedSeconds,
      'CPU ms/alert': r.cpuTotalMsPerAlert,
      'peak RSS API MB': r.peakRssApiMb,
      'peak RSS workers MB': r.peakRssWorkersMb,
    },
  ]);
  console.table([
    { what: 'tickets', expected: r.ticketsExpected, seen: r.ticketsCreated },
    { what: 'of which parents', expected: r.parentsExpected, seen: r.parentsCreated },
    { what: 'muted alerts (inhibited)', expected: r.mutedExpected, seen: r.mutedSeen },
  ]);
  console.log(r.matches ? 'storm: tickets, parents and muted alerts as expected' : 'storm: MISMATCH between the expected and the created counts');
}
