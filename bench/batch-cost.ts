/**
 * `node --import tsx bench/batch-cost.ts` (issue 19): CPU per alert of the intake's store and of the
 * worker's apply at FIXED batch sizes — what one Postgres backend spends (/proc/<pid>/schedstat, ns)
 * and what this process spends (process.cpuUsage) — without HTTP, Redis or a second process.
 *
 * Why beside the end-to-end figures: at one alert per request the end-to-end CPU per alert follows
 * how many deliveries share an intake statement and how many receipts share a job, and those follow
 * the rate the machine allows; on a shared machine that swings the figures by ±20 % run to run and
 * hides a 10 % change. Here the batches are fixed, so two commits compare: run it at each, alternately.
 *
 * Environment: N alerts (default 12,000), of which the first W (2,000) warm up unmeasured; G deliveries
 * of one generic alert per intake statement (8, about what the group commit makes at ~1,000
 * requests/s); J receipts per job (80). Fresh database `hub_batchcost_<pid>`, dropped at the end.
 *
 * BENCH_EXPERIMENT_SQL: SQL run on the fresh database after migrating (drop a constraint, add an index),
 * like the end-to-end runs'. `applyWallUs` is the wall time of the apply per alert: below the worker
 * batcher's threshold one apply transaction runs at a time, so this bounds the end-to-end rate.
 *
 * PSA=1 (issue 16, "the extra cost per alert on the intake → ticket path"): an enabled Autotask
 * connection, the seeded company with its psaRefs entry, so every new ticket's apply also records its
 * PSA delivery (the outbox row, app/psa/outbox.ts) — nothing is sent; run it alternately with PSA=0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { applyReceiptJob } from '../app/alerts/apply-job';
import { createConnection } from '../app/psa/connections';
import type { PipelineDeps } from '../app/alerts/deps';
import { SlaCache } from '../app/slas/sla-cache';
import { createDb } from '../db/connection';
import { storeDeliveries, type NewDelivery } from '../db/queries/inbox';
import { createLogger } from '../lib/logger';
import { normalizeDelivery, plugins } from '../plugins';
import { compileRuleset } from '../rules/engine/compile';
import { decide } from '../rules/engine/decide';
import { validateRulesDir } from '../rules/engine/load-dir';
import { createSource, seedWorld } from '../test/helpers/seed';
import { adminSql, BENCH_PG, withDatabase } from './bench-db';

const SECRET_KEY = 'batch-cost-secret-key-0123456789abcdef';
const num = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const N = num('N', 12_000);
const W = num('W', 2_000);
const G = num('G', 8);
const J = num('J', 80);
const PSA = process.env.PSA === '1';

/** CPU time of a process in microseconds (schedstat: time on a CPU, ns). */
const cpuOfPid = (pid: number): number => Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
const cpuOfSelf = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function main(): Promise<void> {
  const name = `hub_batchcost_${process.pid}`;
  await adminSql(`CREATE DATABASE ${name}`);
  // One connection: every statement runs on the one backend whose CPU is read.
  const db = createDb(withDatabase(BENCH_PG, name), 1);
  try {
    await db.migrate.latest();
    // Like the end-to-end runs' BENCH_EXPERIMENT_SQL: try an index, a constraint or a storage setting.
    if (process.env.BENCH_EXPERIMENT_SQL) await db.raw(process.env.BENCH_EXPERIMENT_SQL);
    const source = await createSource(db, SECRET_KEY, { name: 'bench', plugin: 'generic', auth: { type: 'token', token: 'bench-source-token-0123456789abcdef' } });
    await seedWorld(db, { source: 'bench', site: 'site-1', year: new Date().getUTCFullYear() });
    if (PSA) {
      await db.transaction((trx) =>
        createConnection(
          trx,
          { name: 'bench-autotask', type: 'autotask', enabled: true, config: { username: 'bench@example.com', secret: 'bench-secret', integrationCode: 'BENCHCODE', baseUrl: 'http://127.0.0.1:9/atservicesrest' } },
          [SECRET_KEY],
        ),
      );
      await db('companies').update({ psa_refs: JSON.stringify({ 'bench-autotask': '174' }) });
    }
    const backend = Number(((await db.raw('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> }).rows[0]!.pid);
    const rules = await validateRulesDir(path.join(__dirname, '..', 'rules'));
    if (!rules.ok || !rules.ruleset) throw new Error('rules/ is not valid');
    const ruleset = compileRuleset(rules.ruleset, { version: 1, contentHash: rules.contentHash });
    const deps: PipelineDeps = { db, logger: createLogger('silent'), now: () => new Date(), rules: { decide: (facts) => decide(ruleset, facts) }, slas: new SlaCache() };

    const measured = { normalize: 0, intakeNode: 0, intakePg: 0, applyNode: 0, applyPg: 0, applyWall: 0 };
    const deliveries: NewDelivery[] = [];
    for (let seq = 1; seq <= N; seq++) {
      // The end-to-end benchmark's alert (bench/run.ts alertBody).
      const host = `host-${seq % 500}`;
      const body = JSON.stringify({ alertId: `cost-${seq}`, state: 'firing', severity: (['critical', 'high', 'medium', 'low'] as const)[seq % 4], category: 'disk', title: `Disk almost full on ${host}`, message: 'C: 95% used', device: { id: `dev-${host}`, hostname: host, site: 'site-1' }, occurredAt: new Date().toISOString() });
      const t0 = cpuOfSelf();
      const result = normalizeDelivery(plugins.generic, JSON.parse(body), { sourceName: 'bench', receivedAt: new Date(), config: {}, siteField: null });
      if (seq > W) measured.normalize += cpuOfSelf() - t0;
      if (result.kind !== 'alerts') throw new Error('the generic alert was ignored');
      deliveries.push({ sourceId: String(source.id), deliveryKey: null, bodySha256: 'a'.repeat(64), bodyBytes: body.length, remoteAddr: '127.0.0.1', alerts: result.alerts });
    }
    const receipts: Array<{ id: string; measured: boolean }> = [];
    for (let i = 0; i < N; i += G) {
      const group = deliveries.slice(i, i + G);
      const [n0, p0] = [cpuOfSelf(), cpuOfPid(backend)];
      const stored = await storeDeliveries(db, group);
      if (i >= W) {
        measured.intakeNode += cpuOfSelf() - n0;
        measured.intakePg += cpuOfPid(backend) - p0;
      }
      for (const s of stored) receipts.push(...s.receiptIds.map((id) => ({ id, measured: i >= W })));
    }
    let applied = 0;
    for (let i = 0; i < receipts.length; i += J) {
      const job = receipts.slice(i, i + J);
      const [n0, p0, w0] = [cpuOfSelf(), cpuOfPid(backend), performance.now()];
      await applyReceiptJob(deps, job.map((r) => r.id));
      if (job.every((r) => r.measured)) {
        measured.applyWall += (performance.now() - w0) * 1000;
        measured.applyNode += cpuOfSelf() - n0;
        measured.applyPg += cpuOfPid(backend) - p0;
        applied += job.length;
      }
    }
    const per = (us: number, n: number) => Math.round((us / n) * 10) / 10;
    // With PSA=1 every new ticket must have its outbox row (else the figure would measure nothing).
    const outbox = Number(((await db('psa_deliveries').count({ n: '*' }).first()) as { n: string }).n);
    const tickets = Number(((await db('tickets').count({ n: '*' }).first()) as { n: string }).n);
    if (PSA && outbox !== tickets) throw new Error(`PSA=1: ${outbox} outbox rows for ${tickets} tickets`);
    const alerts = N - W;
    console.table([
      {
        alerts,
        psa: PSA,
        outboxRows: outbox,
        deliveriesPerStatement: G,
        receiptsPerJob: J,
        normalizeUs: per(measured.normalize, alerts),
        intakeNodeUs: per(measured.intakeNode, alerts),
        intakePgUs: per(measured.intakePg, alerts),
        applyNodeUs: per(measured.applyNode, applied),
        applyPgUs: per(measured.applyPg, applied),
        // How long a job's transaction lasts (per alert): with one transaction in flight below the
        // batcher's threshold, this — not only CPU — bounds the end-to-end rate.
        applyWallUs: per(measured.applyWall, applied),
      },
    ]);
  } finally {
    await db.destroy();
    await adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

void main();
