#!/usr/bin/env node
/**
 * `npm run demo [-- --once]`: the hub's main job, shown end to end on a demo MSP built on the
 * seed's example (contract-service.de.txt): migrate, seed, start the hub (API + workers), post
 * sample alerts through the real webhook routes of four plugins, wait for the workers, and print
 * alert → device → contract / service / SLA → priority → due dates → deciding rule → PSA ticket.
 * The PSA is a local stand-in of Autotask's REST API (`cli/stand-ins/fake-autotask.ts`, in this
 * process, on 127.0.0.1): the demo connects the hub to it (connection `demo-autotask`), gives the demo
 * MSP's records their Autotask ids (psaRefs) and waits, bounded, for the delivery worker.
 * Keeps running (so you can post your own alerts) until Ctrl-C, or exits with --once.
 *
 * One piece (about 350 lines): the demo is one script read top to bottom (seed, start, post, wait,
 * print); its helpers serve no other command.
 */
import '../api/openapi/extend-zod';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { ConfigError, loadConfig, type HubConfig } from '../config/env';
import { createDb } from '../db/connection';
import { ALERT_DECISION_SQL } from '../db/queries/alert-list';
import { createLogger } from '../lib/logger';
import { startHub, StartupError } from '../main/start';
import { issueToken } from '../app/tokens';
import { ALL_COMPANIES } from '../core/access/company-scope';
import { consoleIsStale, buildConsole } from '../scripts/build-console';
import { decryptSecrets, encryptSecrets, sourceSecretsContext, splitAuth, type SourceAuth } from '../plugins/auth';
import { createConnection } from '../app/psa/connections';
import { startFakeAutotask, type FakeAutotask } from './stand-ins/fake-autotask';

const once = process.argv.includes('--once');
const DEMO_TOKEN = 'demo-source-token-change-me-0001';
const DEMO_HMAC = 'demo-datto-hmac-secret-change-me-02';
/** The demo's PSA connection (to the stand-in); a user's own connections are left alone. */
const DEMO_PSA = 'demo-autotask';
/** How long the demo waits for the PSA deliveries before it prints "pending". */
const PSA_WAIT_MS = 20_000;

interface DemoAlert {
  label: string;
  source: string;
  body: unknown;
  headers: Record<string, string>;
}

async function main(): Promise<void> {
  let config: HubConfig;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`${e.message}\nTip: cp .env.example .env (scripts/demo.sh does this for you).`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.DEMO_LOG_LEVEL);
  const db = createDb(config.DATABASE_URL, 4);
  step('migrating the database');
  await db.migrate.latest();
  step('seeding the demo MSP (idempotent)');
  await seed(db, config);
  step('starting the PSA stand-in (a local Autotask REST subset) and connecting the hub to it');
  const psa = await startFakeAutotask();
  await connectDemoPsa(db, config, psa);
  console.log(`  Autotask stand-in at ${psa.baseUrl} — connection "${DEMO_PSA}", psaRefs set on the demo's company, contracts, services, SLAs and devices`);
  await db.destroy();

  if (consoleIsStale()) {
    step('building the admin console (console/ → console/dist)');
    const built = await buildConsole();
    console.log(`  ${(built.gzipBytes / 1024).toFixed(0)} kB gzipped`);
  }

  step('starting the hub (API + workers)');
  let hub;
  try {
    hub = await startHub({ api: true, worker: true, config, logger });
  } catch (e) {
    if (e instanceof StartupError) {
      console.error(e.message);
      await psa.close();
      process.exit(1);
    }
    if ((e as { code?: string }).code === 'EADDRINUSE') {
      await psa.close();
      console.error(`port ${config.PORT} is in use: set PORT in .env (or stop the other process)`);
      process.exit(1);
    }
    throw e;
  }
  const base = `http://127.0.0.1:${hub.port}`;
  const alerts = demoAlerts(new Date());
  step(`posting ${alerts.length} sample alerts to ${base}/hooks/<source>`);
  const posted: Array<{ label: string; source: string; alertIds: string[] }> = [];
  for (const a of alerts) {
    const raw = JSON.stringify(a.body);
    const res = await fetch(`${base}/hooks/${a.source}`, { method: 'POST', headers: { 'content-type': 'application/json', ...sign(a, raw) }, body: raw });
    const json = (await res.json()) as { alertIds?: string[]; error?: { message: string } };
    if (res.status !== 202) throw new Error(`${a.label}: webhook answered ${res.status} ${json.error?.message ?? ''}`);
    posted.push({ label: a.label, source: a.source, alertIds: json.alertIds ?? [] });
    console.log(`  202  POST /hooks/${a.source.padEnd(10)} ${a.label}`);
  }

  step('waiting for the workers');
  const ids = posted.flatMap((p) => p.alertIds);
  const until = Date.now() + 30_000;
  for (;;) {
    const pending = (await hub.db('alerts').whereIn('id', ids).where('status', 'received').count({ n: '*' }).first()) as { n: string };
    if (pending.n === '0') break;
    if (Date.now() > until) throw new Error('workers did not process the demo alerts within 30 s (is Redis up?)');
    await new Promise((r) => setTimeout(r, 100));
  }
  const ticketIds = (await hub.db('alerts').whereIn('id', ids).whereNotNull('ticket_id').distinct('ticket_id').pluck('ticket_id')) as string[];
  step(`waiting for the PSA deliveries (at most ${PSA_WAIT_MS / 1000} s)`);
  const psaUntil = Date.now() + PSA_WAIT_MS;
  for (;;) {
    const pending = (await hub.db('psa_deliveries as d')
      .join('psa_connections as c', 'c.id', 'd.connection_id')
      .where('c.name', DEMO_PSA)
      .whereIn('d.ticket_id', ticketIds)
      .where('d.state', 'pending')
      .count({ n: '*' })
      .first()) as { n: string };
    if (pending.n === '0' || Date.now() > psaUntil) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await printTable(hub.db, posted);
  console.log(`\nPSA stand-in: ${psa.tickets.length} ticket(s) created in this run — ${psa.tickets.map((t) => `${t.ticketNumber} "${String(t.fields.title)}"`).join(', ') || 'none'}`);

  // A token of its own for the console (the fragment never reaches a server; the page keeps it in
  // sessionStorage and drops it from the address bar).
  const { token: consoleToken } = await issueToken(hub.db, { name: 'demo console', role: 'admin', scope: ALL_COMPANIES, actor: 'cli:demo' });
  console.log(`\nConsole: ${base}/console#token=${consoleToken}${once ? '   (run without --once to keep the hub up)' : ''}`);
  console.log(`API docs: ${base}/docs (after signing in to the console)`);

  if (once) {
    step('resolving the demo alerts (so the next run opens fresh tickets) and stopping');
    for (const p of posted) await resolveDemo(hub.db, p.alertIds);
    await hub.close();
    await psa.close();
    return;
  }
  console.log(`\nThe hub keeps running: API ${base}  (admin token: HUB_ADMIN_TOKEN from .env); PSA stand-in ${psa.baseUrl} (stops with the demo)`);
  console.log(`  curl -s -H "Authorization: Bearer $HUB_ADMIN_TOKEN" ${base}/api/v1/tickets | head`);
  console.log(`  curl -s -X POST ${base}/hooks/monitoring -H 'Authorization: Bearer ${DEMO_TOKEN}' -H 'content-type: application/json' \\`);
  console.log(`       -d '{"alertId":"my-1","state":"firing","severity":"high","title":"Test","device":{"hostname":"mail01","site":"acme-hq"},"occurredAt":"${new Date().toISOString()}"}'`);
  console.log('Ctrl-C stops it.');
  const stop = () => {
    void hub
      .close()
      .then(() => psa.close())
      .then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const step = (s: string) => console.log(`\n▶ ${s}`);

function sign(a: DemoAlert, raw: string): Record<string, string> {
  if (a.source !== 'datto') return a.headers;
  const sig = crypto.createHmac('sha256', DEMO_HMAC).update(raw).digest('hex');
  return { ...a.headers, 'x-hub-signature-256': `sha256=${sig}` };
}

/** The demo's alerts: four plugins, the seed's three devices, and one unknown site (triage). */
function demoAlerts(now: Date): DemoAlert[] {
  const iso = now.toISOString();
  const bearer = { authorization: `Bearer ${DEMO_TOKEN}` };
  const amFixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../plugins/alertmanager/fixtures/alertmanager-0.25-webhook-firing.json'), 'utf8')) as {
    alerts?: Array<{ startsAt?: string }>;
  };
  // The capture as if it fired now: with its recorded startsAt, a second demo run would (rightly) be a
  // late retry of a firing that was already resolved (issue 15 item 7) and open nothing.
  for (const a of amFixture.alerts ?? []) a.startsAt = iso;
  const stamp = now.getTime().toString(36);
  return [
    {
      label: 'mail server: disk full (Alertmanager 0.25 capture)',
      source: 'prometheus',
      body: amFixture,
      headers: bearer,
    },
    {
      label: 'mail server: queue stuck (generic)',
      source: 'monitoring',
      body: {
        alertId: `mailq-${stamp}`,
        state: 'firing',
        severity: 'high',
        category: 'mail',
        title: 'Mail queue above 500 messages',
        message: 'Postfix queue: 812 deferred messages',
        device: { id: 'mon-mail01', hostname: 'mail01', site: 'acme-hq' },
        occurredAt: iso,
      },
      headers: bearer,
    },
    {
      label: 'third-floor printer: toner low (Datto RMM, HMAC)',
      source: 'datto',
      body: {
        event: 'alert',
        alert_uid: `toner-${stamp}`,
        alert_type: 'Printer',
        alert_priority: 'Moderate',
        alert_message: 'Toner black below 5% on printer-3og',
        device_id: 'datto-dev-printer-3og',
        device_hostname: 'printer-3og',
        site_id: 'datto-site-acme',
        site_name: 'ACME HQ',
        timestamp: iso,
      },
      headers: {},
    },
    {
      label: 'unlinked workstation: CPU (NinjaOne)',
      source: 'ninja',
      body: {
        id: Number(String(now.getTime()).slice(-9)),
        activityTime: now.getTime() / 1000,
        deviceId: 17,
        severity: 'MAJOR',
        priority: 'HIGH',
        seriesUid: 'cpu-ge-90-ws017',
        activityType: 'CONDITION',
        statusCode: 'TRIGGERED',
        status: 'TRIGGERED',
        subject: 'CPU above 90%',
        message: 'CPU Utilization exceeded 90% for 15 minutes',
        type: 'Condition',
        device: { id: 17, organizationId: 2, systemName: 'ws-017', displayName: 'ws-017', dnsName: 'ws-017.acme.local', nodeClass: 'WINDOWS_WORKSTATION' },
      },
      headers: { 'x-hub-token': DEMO_TOKEN },
    },
    {
      label: 'unknown site: backup failed (generic)',
      source: 'monitoring',
      body: {
        alertId: `backup-${stamp}`,
        state: 'firing',
        severity: 'medium',
        category: 'backup',
        title: 'Nightly backup failed',
        device: { hostname: 'nas-unknown', site: 'site-not-mapped' },
        occurredAt: iso,
      },
      headers: bearer,
    },
  ];
}

async function printTable(db: Knex, posted: Array<{ label: string; source: string; alertIds: string[] }>): Promise<void> {
  const rows: string[][] = [['alert', 'device', 'contract / service / SLA', 'priority', 'first response due', 'resolution due', 'deciding rule', 'ticket', 'PSA ticket (Autotask stand-in)']];
  for (const p of posted) {
    for (const alertId of p.alertIds) {
      const r = (await db('alerts as a')
        .leftJoin('tickets as t', 't.id', 'a.ticket_id')
        .leftJoin('devices as d', 'd.id', 't.device_id')
        .leftJoin('contracts as c', 'c.id', 't.contract_id')
        .leftJoin('services as s', 's.id', 't.service_id')
        .leftJoin('slas as l', 'l.id', 't.sla_id')
        .where('a.id', alertId)
        .first(
          'a.title',
          'a.outcome',
          'a.hostname',
          db.raw(ALERT_DECISION_SQL),
          't.id as ticket_id',
          'd.hostname as device',
          'c.name as contract',
          's.name as service',
          'l.name as sla',
          't.priority',
          't.needs_triage',
          't.first_response_due_at',
          't.resolution_due_at',
        )) as Record<string, unknown> & { decision: { rulesFired?: Array<{ name: string }> } | null };
      const fired = r.decision?.rulesFired ?? [];
      rows.push([
        `${p.source}: ${String(r.title).slice(0, 34)}`,
        String(r.device ?? r.hostname ?? '?'),
        r.contract ? `${String(r.contract)} / ${String(r.service ?? '-')} / ${String(r.sla ?? '-')}` : r.ticket_id ? 'none: marked for triage' : String(r.outcome),
        String(r.priority ?? '-'),
        fmt(r.first_response_due_at),
        fmt(r.resolution_due_at),
        fired.map((f) => f.name).join(', ') || '-',
        r.ticket_id ? `#${String(r.ticket_id)} (${String(r.outcome)})` : '-',
        r.ticket_id ? await psaColumn(db, String(r.ticket_id)) : '-',
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join(' │ ');
  console.log(`\n${line(rows[0]!)}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
  for (const row of rows.slice(1)) console.log(line(row));
}

/** The demo connection's delivery of a ticket: the PSA's ticket number, or why there is none (yet). */
async function psaColumn(db: Knex, ticketId: string): Promise<string> {
  const d = (await db('psa_deliveries as d')
    .join('psa_connections as c', 'c.id', 'd.connection_id')
    .where({ 'c.name': DEMO_PSA, 'd.ticket_id': ticketId })
    .first('d.state', 'd.external_id', 'd.external_number', 'd.last_error')) as
    | { state: string; external_id: string | null; external_number: string | null; last_error: string | null }
    | undefined;
  if (!d) return 'not sent (no delivery)';
  if (d.state === 'delivered') return `${d.external_number ?? '?'} (id ${d.external_id ?? '?'})`;
  if (d.state === 'pending') return 'pending';
  const why = (d.last_error ?? '').replace(/^not sent to [^:]+: /, '');
  return `${d.state === 'skipped' ? 'not sent' : d.state}: ${why.length > 60 ? `${why.slice(0, 59)}…` : why}`;
}

/**
 * The demo's PSA connection, made anew each run: the stand-in keeps its tickets in memory and listens on
 * a new port each run, so the previous run's connection (and its deliveries, which name tickets the old
 * stand-in held) goes. The demo MSP's records get their Autotask ids, merged into their psaRefs.
 */
async function connectDemoPsa(db: Knex, config: HubConfig, psa: FakeAutotask): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('psa_connections').where({ name: DEMO_PSA }).delete();
    await createConnection(
      trx,
      { name: DEMO_PSA, type: 'autotask', enabled: true, config: { ...psa.credentials, baseUrl: psa.baseUrl, queueId: 29683 } },
      config.HUB_SECRET_KEYS,
    );
    const refs: Array<[string, Record<string, unknown>, string]> = [
      ['companies', { name: 'ACME GmbH' }, '174'],
      ['contracts', { code: 'ACME-MAIL' }, '2001'],
      ['contracts', { code: 'ACME-PRINT' }, '2002'],
      ['contracts', { code: 'ACME-DESK' }, '2003'],
      ['services', { code: 'MAIL' }, '31'],
      ['services', { code: 'PRINT' }, '32'],
      ['services', { code: 'DESK' }, '33'],
      ['slas', { code: 'PREMIUM' }, '5'],
      ['slas', { code: 'STANDARD' }, '6'],
      ['devices', { hostname: 'mail01' }, '4411'],
      ['devices', { hostname: 'printer-3og' }, '4412'],
    ];
    for (const [table, key, id] of refs) {
      await trx(table)
        .where(key)
        .update({ psa_refs: trx.raw(`coalesce(psa_refs, '{}'::jsonb) || ?::jsonb`, [JSON.stringify({ [DEMO_PSA]: id })]) });
    }
  });
}

const fmt = (d: unknown): string => (d instanceof Date ? d.toISOString().replace(/:\d\d\.\d+Z$/, 'Z') : '-');

async function resolveDemo(db: Knex, alertIds: string[]): Promise<void> {
  const ticketIds = (await db('alerts').whereIn('id', alertIds).whereNotNull('ticket_id').pluck('ticket_id')) as string[];
  await db('tickets').whereIn('id', ticketIds).whereNotIn('status', ['resolved', 'closed']).update({ status: 'resolved', resolved_at: db.fn.now() });
}

/** The seed's example, as a small MSP: idempotent (upserts by name/code), so the demo can run again. */
async function seed(db: Knex, config: HubConfig): Promise<void> {
  const year = new Date().getUTCFullYear();
  const up = async (table: string, key: Record<string, unknown>, values: Record<string, unknown> = {}): Promise<string> => {
    const found = (await db(table).where(key).first('id')) as { id: string } | undefined;
    if (found) return found.id;
    const [row] = (await db(table).insert({ ...key, ...values }).returning('id')) as { id: string }[];
    return row!.id;
  };
  const company = await up('companies', { name: 'ACME GmbH' }, { code: 'ACME' });
  for (const [source, site] of [
    ['monitoring', 'acme-hq'],
    ['prometheus', 'acme-hq'],
    ['datto', 'datto-site-acme'],
    ['ninja', '2'],
  ] as const) {
    await up('company_source_sites', { source, site_id: site }, { company_id: company });
  }
  const premium = await up('slas', { name: 'Premium 24x7' }, { code: 'PREMIUM', timezone: 'Europe/Berlin', is_24x7: true });
  const standard = await up('slas', { name: 'Standard office hours' }, { code: 'STANDARD', timezone: 'Europe/Berlin', is_24x7: false });
  if (!(await db('sla_business_hours').where({ sla_id: standard }).first())) {
    await db('sla_business_hours').insert([1, 2, 3, 4, 5].map((weekday) => ({ sla_id: standard, weekday, start_time: '08:00', end_time: '17:00' })));
  }
  const targets: Array<[string, string, number, number, number]> = [
    [premium, 'critical', 15, 60, 240],
    [premium, 'high', 30, 120, 480],
    [premium, 'medium', 60, 240, 960],
    [premium, 'low', 120, 480, 1440],
    [standard, 'critical', 60, 240, 960],
    [standard, 'high', 120, 480, 1440],
    [standard, 'medium', 240, 960, 2880],
    [standard, 'low', 480, 1440, 4800],
  ];
  for (const [sla_id, priority, fr, rp, rs] of targets) {
    await db('sla_targets')
      .insert({ sla_id, priority, first_response_minutes: fr, resolution_plan_minutes: rp, resolution_minutes: rs })
      .onConflict(['sla_id', 'priority'])
      .ignore();
  }
  const mailSvc = await up('services', { name: 'Mail server management' }, { code: 'MAIL', unit_price: '120.00', unit_cost: '60.00' });
  const printSvc = await up('services', { name: 'Printer care' }, { code: 'PRINT', unit_price: '15.00', unit_cost: '5.00' });
  const deskSvc = await up('services', { name: 'Service desk' }, { code: 'DESK', unit_price: '40.00', unit_cost: '25.00' });
  const contract = (code: string, name: string, sla: string, isDefault: boolean) =>
    up('contracts', { code }, {
      company_id: company,
      name,
      type: 'recurring_service',
      period_type: 'yearly',
      start_date: `${year - 1}-01-01`,
      end_date: `${year + 1}-12-31`,
      sla_id: sla,
      is_default_service_desk: isDefault,
    });
  const mail = await contract('ACME-MAIL', 'Mail server contract', premium, false);
  const printer = await contract('ACME-PRINT', 'Printer contract', standard, false);
  const desk = await contract('ACME-DESK', 'Service desk contract', standard, true);
  for (const [contract_id, service_id, units, unit_price] of [
    [mail, mailSvc, 1, '120.00'],
    [printer, printSvc, 3, '15.00'],
    [desk, deskSvc, 25, '40.00'],
  ] as const) {
    await db('contract_services').insert({ contract_id, service_id, units, unit_price }).onConflict(['contract_id', 'service_id']).ignore();
  }
  const device = (hostname: string) => up('devices', { company_id: company, hostname }, { site: 'acme-hq' });
  const mail01 = await device('mail01');
  const printer3 = await device('printer-3og');
  for (const [device_id, contract_id, service_id] of [
    [mail01, mail, mailSvc],
    [printer3, printer, printSvc],
  ] as const) {
    if (!(await db('device_contract_links').where({ device_id }).first())) {
      await db('device_contract_links').insert({ device_id, contract_id, service_id, valid_from: `${year - 1}-01-01` });
    }
  }
  const source = async (name: string, plugin: string, auth: SourceAuth) => {
    const { settings, secrets } = splitAuth(auth);
    const { type, ...rest } = settings;
    const existing = (await db('sources').where({ name }).first()) as { auth_secrets_enc: string | null } | undefined;
    if (existing) {
      // The demo's own source, sealed by an earlier demo run with another .env's key (a new clone on a
      // machine whose demo database stayed): sealed again with this .env's key, or every sample is refused.
      let opens = true;
      try {
        if (existing.auth_secrets_enc) decryptSecrets(existing.auth_secrets_enc, config.HUB_SECRET_KEYS, sourceSecretsContext(name));
      } catch {
        opens = false;
      }
      if (!opens) {
        console.log(`  demo source ${name}: its secrets were sealed with another HUB_SECRET_KEY; sealed again with this .env's`);
        await db('sources')
          .where({ name })
          .update({ auth_secrets_enc: encryptSecrets(secrets, config.HUB_SECRET_KEYS, sourceSecretsContext(name)) });
      }
      return;
    }
    await db('sources').insert({
      name,
      plugin,
      config: '{}',
      auth_type: type,
      auth_settings: JSON.stringify(rest),
      auth_secrets_enc: encryptSecrets(secrets, config.HUB_SECRET_KEYS, sourceSecretsContext(name)),
    });
  };
  await source('monitoring', 'generic', { type: 'token', token: DEMO_TOKEN });
  await source('prometheus', 'alertmanager', { type: 'token', token: DEMO_TOKEN });
  // Signs the body alone, as senders that cannot sign a time do: the explicit opt-out of replay protection (issue 13 item 4).
  await source('datto', 'datto-rmm', { type: 'hmac', scheme: 'body-only', secret: DEMO_HMAC, prefix: 'sha256=' });
  await source('ninja', 'ninjaone', { type: 'token', token: DEMO_TOKEN, header: 'x-hub-token' });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
