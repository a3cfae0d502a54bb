import { Client } from 'pg';
import { createDb } from '../db/connection';
import { importDevices } from '../db/queries/device-import';
import { benchCsv } from './import.bench';
const PG = 'postgres://postgres@127.0.0.1:5432/test';
async function admin(sql: string) { const c = new Client({ connectionString: PG }); await c.connect(); await c.query(sql); await c.end(); }
async function main() {
  const name = `hub_prof_${process.pid}`;
  await admin(`CREATE DATABASE ${name}`);
  const db = createDb(PG.replace('/test', `/${name}`), 4);
  try {
    await db.migrate.latest();
    const starts = new Map<string, number>();
    db.on('query', (q: { __knexQueryUid: string }) => starts.set(q.__knexQueryUid, Date.now()));
    db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => { const ms = Date.now() - (starts.get(q.__knexQueryUid) ?? 0); if (ms > 100) console.log(ms, 'ms', q.sql.replace(/\s+/g, ' ').slice(0, 110)); });
    // seed via bench helper: reuse benchImport's seed by importing nothing... replicate quickly
    const services = await db('services').insert([{ name: 'Bench monitoring', code: 'B-MON', unit_price: '10' }, { name: 'Bench backup', code: 'B-BAK', unit_price: '20' }]).returning('id') as Array<{id: string}>;
    for (let i = 0; i < 50; i++) {
      const [co] = await db('companies').insert({ name: `C${i}` }).returning('id') as Array<{id: string}>;
      await db('company_source_sites').insert({ company_id: co!.id, source: 'bench-rmm', site_id: `site-${i}` });
      const [ct] = await db('contracts').insert({ company_id: co!.id, name: `K${i}`, code: `BC-${i}`, type: 'recurring_service', period_type: 'monthly', start_date: '2026-01-01', end_date: '2027-12-31' }).returning('id') as Array<{id: string}>;
      await db('contract_services').insert(services.map((s) => ({ contract_id: ct!.id, service_id: s.id, units: '1', unit_price: '10' })));
    }
    for (const [variant, dry] of [['initial', false], ['changed', false]] as const) {
      const t0 = Date.now();
      const r = await importDevices(db, benchCsv(100000, variant), { dryRun: dry, today: '2026-06-15', actor: 'x', companyIds: null, onProgress: (p) => console.log(Date.now() - t0, p.phase, p.done, p.total) });
      console.log(variant, Date.now() - t0, r.errorCount);
    }
  } finally { await db.destroy(); await admin(`DROP DATABASE ${name} WITH (FORCE)`); }
}
main().catch((e) => { console.error(e); process.exit(1); });
