/**
 * Device import (issue: "100,000 rows in under 30 s"): `hub import devices` of an RMM export of
 * `rows` devices over 50 companies, each row linked to a contract and service, on a fresh
 * database. Three timed runs of the same code the CLI and the API use:
 *  1. a dry run of the new file (parse, check, look-ups; nothing written);
 *  2. the real import (every device created, its reference and its contract link);
 *  3. a re-import of a changed export (10 % renamed, 10 % moved to another service): updates.
 *
 * `npx tsx bench/import.bench.ts [rows]` prints the figures; bench/run.ts may call benchImport().
 */
import { ALL_COMPANIES } from '../core/access/company-scope';
import type { Knex } from 'knex';
import { createDb } from '../db/connection';
import { adminSql, withDatabase } from './bench-db';
import { importDevices, type DeviceImportReport } from '../app/devices/import-devices';

export interface ImportBenchRow {
  rows: number;
  dryRunSeconds: number;
  importSeconds: number;
  reimportSeconds: number;
  rowsPerSec: number;
  created: number;
  updated: number;
  linked: number;
}

const PG = process.env.BENCH_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COMPANIES = 50;
const SOURCE = 'bench-rmm';
const TODAY = '2026-06-15';

/** 50 companies with a site each, one contract each carrying two services. */
async function seed(db: Knex): Promise<void> {
  const services = (await db('services')
    .insert([
      { name: 'Bench monitoring', code: 'B-MON', unit_price: '10' },
      { name: 'Bench backup', code: 'B-BAK', unit_price: '20' },
    ])
    .returning('id')) as Array<{ id: string }>;
  for (let i = 0; i < COMPANIES; i++) {
    const [company] = (await db('companies').insert({ name: `Bench company ${i}` }).returning('id')) as Array<{ id: string }>;
    await db('company_source_sites').insert({ company_id: company!.id, source: SOURCE, site_id: `site-${i}`, site_name: `Site ${i}` });
    const [contract] = (await db('contracts')
      .insert({ company_id: company!.id, name: `Bench contract ${i}`, code: `BC-${i}`, type: 'recurring_service', period_type: 'monthly', start_date: '2026-01-01', end_date: '2027-12-31' })
      .returning('id')) as Array<{ id: string }>;
    await db('contract_services').insert(services.map((s) => ({ contract_id: contract!.id, service_id: s.id, units: '1', unit_price: '10' })));
  }
}

/** The export: one device a row, spread over the companies, half on each service. */
export function benchCsv(rows: number, variant: 'initial' | 'changed' = 'initial'): string {
  const lines = ['hostname,source,sourceDeviceId,site,contract,service'];
  for (let i = 0; i < rows; i++) {
    const c = i % COMPANIES;
    const renamed = variant === 'changed' && i % 10 === 0;
    const moved = variant === 'changed' && i % 10 === 5;
    const service = (i % 2 === 0) !== moved ? 'B-MON' : 'B-BAK';
    lines.push(`${renamed ? 'renamed-' : ''}host-${i},${SOURCE},dev-${i},site-${c},BC-${c},${service}`);
  }
  return `${lines.join('\n')}\n`;
}

async function timed(db: Knex, csv: string, dryRun: boolean): Promise<{ seconds: number; report: DeviceImportReport }> {
  const started = process.hrtime.bigint();
  const report = await importDevices(db, csv, { dryRun, today: TODAY, actor: 'bench', scope: ALL_COMPANIES });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (report.errorCount > 0) throw new Error(`bench import: unexpected errors, first ${JSON.stringify(report.errors[0])}`);
  return { seconds, report };
}

/**
 * Runs the three imports on `db` (seeded here; it must be a migrated, otherwise empty database),
 * or on a fresh database of its own when `db` is omitted.
 */
export async function benchImport(rows: number, db?: Knex): Promise<ImportBenchRow> {
  if (db) return run(db, rows);
  const name = `hub_bench_import_${process.pid}`;
  await adminSql(`DROP DATABASE IF EXISTS ${name}`, PG);
  await adminSql(`CREATE DATABASE ${name}`, PG);
  const own = createDb(withDatabase(PG, name), 4);
  try {
    await own.migrate.latest();
    return await run(own, rows);
  } finally {
    await own.destroy();
    await adminSql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, PG);
  }
}

async function run(db: Knex, rows: number): Promise<ImportBenchRow> {
  await seed(db);
  const initial = benchCsv(rows, 'initial');
  const dry = await timed(db, initial, true);
  const real = await timed(db, initial, false);
  const again = await timed(db, benchCsv(rows, 'changed'), false);
  return {
    rows,
    dryRunSeconds: round(dry.seconds),
    importSeconds: round(real.seconds),
    reimportSeconds: round(again.seconds),
    rowsPerSec: Math.round(rows / real.seconds),
    created: real.report.created,
    updated: again.report.updated,
    linked: real.report.linked + again.report.linked,
  };
}

const round = (s: number) => Math.round(s * 100) / 100;

if (require.main === module) {
  const rows = Number(process.argv[2] ?? 100_000);
  benchImport(rows)
    .then((r) => {
      console.log(JSON.stringify(r, null, 2));
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
