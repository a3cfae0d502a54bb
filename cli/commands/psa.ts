import os from 'node:os';
import { SingleBar } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import type { Knex } from 'knex';
import { importReferenceData, type ImportProgress, type ImportReport } from '../../app/psa/import-reference-data';
import { pollPsaStatus } from '../../app/psa/poll-status';
import { registerPsaWebhook } from '../../app/psa/register-webhook';
import { retryPsaDeliveries } from '../../app/psa/retry';
import { ALL_COMPANIES } from '../../core/access/company-scope';
import { listDeliveries } from '../../db/queries/psa-deliveries';
import { loadConfig } from '../../config/env';
import { todayIn } from '../../core/dates';
import { IMPORT_KINDS } from '../../core/psa/import-plan';
import { createDb } from '../../db/connection';
import { createRedis } from '../../lib/redis';
import { psaCallBudgetFor } from '../../main/psa-call-budget';
import type { PsaCallBudgetOf } from '../../app/psa/connections';
import { createLogger } from '../../lib/logger';

/** Where the command reads and writes; tests pass their own database, keys and output. */
export interface PsaCliIo {
  openDb(): Knex;
  closeDb(db: Knex): Promise<void>;
  secretKeys(): readonly string[];
  autotaskZoneLookupUrl(): string;
  timeoutMs(): number;
  out(line: string): void;
  /** A progress bar is drawn only on a terminal. */
  isTTY(): boolean;
  now(): Date;
  /**
   * The PSA call budget the command's calls take their slots from (shared with the running hub's
   * deliveries through Redis), and how to let it go; undefined: no budget (tests).
   */
  openCallBudget?(): { budget: PsaCallBudgetOf; close(): Promise<void> };
}

const defaultIo: PsaCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  secretKeys: () => loadConfig().HUB_SECRET_KEYS,
  autotaskZoneLookupUrl: () => loadConfig().HUB_AUTOTASK_ZONE_LOOKUP_URL,
  timeoutMs: () => loadConfig().HUB_PSA_TIMEOUT_MS,
  out: (line) => process.stdout.write(`${line}\n`),
  isTTY: () => Boolean(process.stderr.isTTY),
  now: () => new Date(),
  openCallBudget: () => {
    const config = loadConfig();
    const redis = createRedis(config.REDIS_URL);
    return {
      budget: psaCallBudgetFor(redis, config, { retryHint: 'run the command again later, or raise the connection’s rateLimitPerHour' }),
      close: async () => {
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  },
};

/** Runs `work` with the command's call budget (opened lazily, closed after). */
async function withCallBudget<T>(io: PsaCliIo, work: (budget: PsaCallBudgetOf | undefined) => Promise<T>): Promise<T> {
  const opened = io.openCallBudget?.();
  try {
    return await work(opened?.budget);
  } finally {
    await opened?.close();
  }
}

function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The summary as a person reads it. */
export function describePsaImport(r: ImportReport): string[] {
  const lines = [`${r.connection}: ${r.dryRun ? 'dry run, nothing written' : 'imported'}`];
  for (const kind of IMPORT_KINDS) {
    const c = r.counts[kind];
    lines.push(`${kind.padEnd(8)} ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.refused} refused`);
  }
  for (const x of r.refused.slice(0, 50)) lines.push(`  refused ${x.kind} ${x.externalId} "${x.name}": ${x.reason}`);
  for (const x of r.linkErrors.slice(0, 50)) lines.push(`  not linked: configuration item ${x.externalId}: ${x.reason}`);
  if (r.deliveriesResumed > 0)
    lines.push(`${r.deliveriesResumed} ticket deliver${r.deliveriesResumed === 1 ? 'y' : 'ies'} skipped for lack of the company's PSA id ${r.dryRun ? 'would be' : 'are'} sent now (a running worker sends them within HUB_PSA_SWEEP_MS)`);
  return lines;
}

function progressBar(io: PsaCliIo): { onProgress: (p: ImportProgress) => void; stop: () => void } {
  if (!io.isTTY()) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: '{phase} {kind} [{bar}] {value} records', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) {
        bar.start(p.read, p.read, { kind: p.kind, phase: p.phase });
        started = true;
      }
      bar.setTotal(Math.max(p.read, 1));
      bar.update(p.read, { kind: p.kind.padEnd(8), phase: p.phase.padEnd(5) });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * `hub psa import <connection> [--dry-run] [--json]` (R-PSA-4) — the same import as
 * `POST /api/v1/psa-connections/:name/import`, straight into the database, with a progress bar on
 * a terminal; `hub psa poll [connection]`, one status-back poll now (R-PSA-3); and
 * `hub psa register-webhook <connection> --url <public hub url>`, the hub's own Autotask ticket
 * webhook (as `POST /api/v1/psa-connections/:name/webhook`).
 */
export function registerPsaCommands(program: Command, io: PsaCliIo = defaultIo): void {
  const group = program.command('psa').description('PSA connections: import reference data, status back');
  group
    .command('import')
    .description('import companies, SLAs, services, contracts (with services and SLA) and configuration items from the PSA, linking each item to its contract')
    .argument('<connection>', 'the PSA connection name')
    .option('--dry-run', 'plan everything and print the summary; write nothing')
    .option('--json', 'print the summary as JSON')
    .action(async (connection: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const db = io.openDb();
      const bar = progressBar(io);
      let report: ImportReport;
      try {
        report = await withCallBudget(io, (psaCallBudget) =>
          importReferenceData(
            { db, secretKeys: io.secretKeys(), connectorDeps: { now: () => io.now(), autotaskZoneLookupUrl: io.autotaskZoneLookupUrl(), timeoutMs: io.timeoutMs() }, psaCallBudget },
            connection,
            { dryRun: opts.dryRun === true, actor: cliActor(), today: todayIn('UTC', io.now()), onProgress: bar.onProgress },
          ),
        );
      } finally {
        bar.stop();
        await io.closeDb(db);
      }
      if (opts.json) io.out(JSON.stringify(report, null, 2));
      else for (const line of describePsaImport(report)) io.out(line);
    });
  group
    .command('poll')
    .description('ask the PSA(s) once now for tickets closed there since the last poll, and close their hub tickets')
    .argument('[connection]', 'one connection (default: every enabled one)')
    .action(async (connection: string | undefined) => {
      const db = io.openDb();
      try {
        const results = await withCallBudget(io, (psaCallBudget) =>
          pollPsaStatus(
            { db, logger: createLogger('silent'), now: () => io.now(), secretKeys: io.secretKeys(), connectorDeps: { autotaskZoneLookupUrl: io.autotaskZoneLookupUrl(), timeoutMs: io.timeoutMs() }, psaCallBudget },
            connection === undefined ? {} : { connection },
          ),
        );
        for (const r of results) io.out(`${r.connection}: ${r.error ? `failed: ${r.error}` : r.polled ? `${r.reports} changed, ${r.closed} hub tickets closed` : 'cannot be polled'}`);
      } finally {
        await io.closeDb(db);
      }
    });
  group
    .command('register-webhook')
    .description("register the hub's Autotask ticket webhook (status back): <url>/hooks/psa/<connection>, subscribed to the ticket status; idempotent")
    .argument('<connection>', 'the Autotask connection name')
    .requiredOption('--url <url>', "the hub's public base URL (https; http only for localhost)")
    .option('--deactivation-url <url>', 'where Autotask reports a deactivation (default: the webhook URL)')
    .option('--notification-email <email>', 'where Autotask e-mails threshold and deactivation notices')
    .option('--json', 'print the result as JSON')
    .action(async (connection: string, opts: { url: string; deactivationUrl?: string; notificationEmail?: string; json?: boolean }) => {
      const db = io.openDb();
      try {
        const r = await withCallBudget(io, (psaCallBudget) =>
          registerPsaWebhook(
            { db, secretKeys: io.secretKeys(), connectorDeps: { now: () => io.now(), autotaskZoneLookupUrl: io.autotaskZoneLookupUrl(), timeoutMs: io.timeoutMs() }, psaCallBudget },
            connection,
            { url: opts.url, deactivationUrl: opts.deactivationUrl, notificationEmail: opts.notificationEmail },
            { actor: cliActor() },
          ),
        );
        if (opts.json) io.out(JSON.stringify(r, null, 2));
        else {
          io.out(`${r.connection}: webhook ${r.webhookId} ${r.created ? 'created' : 'already registered, brought up to date'} → ${r.webhookUrl}`);
          if (r.statusFieldAdded) io.out('  subscribed to the ticket status');
          if (r.secretGenerated) io.out('  a webhookSecret was generated and stored encrypted with the connection');
        }
      } finally {
        await io.closeDb(db);
      }
    });
  group
    .command('failed')
    .description('list PSA deliveries that failed (and, with --skipped, those not sent for a missing company ref), newest first')
    .option('--connection <name>', 'one connection only')
    .option('--skipped', 'list skipped deliveries instead of failed ones')
    .option('--limit <n>', 'at most this many (1–500)', '100')
    .option('--json', 'print them as JSON')
    .action(async (opts: { connection?: string; skipped?: boolean; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new InvalidArgumentError(`--limit: must be a whole number from 1 to 500, got "${opts.limit}"`);
      const db = io.openDb();
      try {
        const rows = await listDeliveries(db, { state: opts.skipped ? 'skipped' : 'failed', connection: opts.connection, limit }, ALL_COMPANIES);
        if (opts.json) {
          io.out(JSON.stringify(rows.map((d) => ({ id: String(d.id), ticketId: String(d.ticket_id), connection: d.connection_name, state: d.state, attempts: d.attempts, lastError: d.last_error, updatedAt: d.updated_at.toISOString() })), null, 2));
          return;
        }
        if (rows.length === 0) {
          io.out(`no ${opts.skipped ? 'skipped' : 'failed'} PSA deliveries${opts.connection ? ` for ${opts.connection}` : ''}`);
          return;
        }
        for (const d of rows) io.out(`${String(d.id).padEnd(8)} ticket ${String(d.ticket_id).padEnd(8)} ${d.connection_name.padEnd(16)} ${d.attempts} attempts  ${d.updated_at.toISOString()}  ${d.last_error ?? ''}`);
        io.out(`${rows.length} ${opts.skipped ? 'skipped' : 'failed'}; retry with: hub psa retry <id> | hub psa retry --all [--connection <name>]`);
      } finally {
        await io.closeDb(db);
      }
    });
  group
    .command('retry')
    .description('make failed or skipped PSA deliveries pending again (fresh attempts, audited); a running worker sends them within HUB_PSA_SWEEP_MS')
    .argument('[id]', 'the delivery id (from hub psa failed)')
    .option('--all', 'every failed and skipped delivery')
    .option('--connection <name>', 'with --all: of this connection only')
    .action(async (id: string | undefined, opts: { all?: boolean; connection?: string }) => {
      if ((id === undefined) === (opts.all !== true)) throw new InvalidArgumentError('name one delivery id or --all (not both)');
      if (id !== undefined && !/^\d{1,18}$/.test(id)) throw new InvalidArgumentError(`id: must be a delivery id (digits), got "${id.slice(0, 40)}"`);
      if (id !== undefined && opts.connection !== undefined) throw new InvalidArgumentError('--connection goes with --all');
      const db = io.openDb();
      try {
        const { retried, stillSkipped } = await retryPsaDeliveries(db, id !== undefined ? { ids: [id] } : { connection: opts.connection }, { scope: ALL_COMPANIES, actor: cliActor() });
        if (id !== undefined && stillSkipped[0]) throw new InvalidArgumentError(`delivery ${id} stays skipped: ${stillSkipped[0].reason}`);
        if (id !== undefined && retried.length === 0) throw new InvalidArgumentError(`delivery ${id} does not exist or is not failed or skipped`);
        for (const r of retried) io.out(`retrying ${r.id} (${r.connectionName})`);
        for (const s of stillSkipped) io.out(`still skipped ${s.id} (${s.connectionName}): ${s.reason}`);
        io.out(`${retried.length} deliveries pending again${stillSkipped.length > 0 ? `, ${stillSkipped.length} still skipped` : ''}`);
      } finally {
        await io.closeDb(db);
      }
    });
}
