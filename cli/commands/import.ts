import { ALL_COMPANIES } from '../../core/access/company-scope';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../config/env';
import { todayIn, type IsoDate } from '../../core/dates';
import { DEVICE_CSV_COLUMNS } from '../../core/imports/device-csv';
import { createDb } from '../../db/connection';
import { importDevices, type DeviceImportReport, type ImportProgress } from '../../app/devices/import-devices';

/** Where the command reads and writes; tests pass their own database, file reader and output. */
export interface ImportCliIo {
  openDb(): Knex;
  closeDb(db: Knex): Promise<void>;
  readFile(path: string): Promise<string>;
  out(line: string): void;
  err(line: string): void;
  /** A progress bar is drawn only on a terminal (never into a pipe or a log file). */
  isTTY(): boolean;
  /** Today in the hub's renewal zone: the first day of the links the import makes. */
  today(): IsoDate;
  /** The instant "today" is taken at for companies with their own zone. @defaultValue the system clock */
  now?(): Date;
}

const defaultIo: ImportCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  readFile: (path) => readFile(path, 'utf8'),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: () => Boolean(process.stderr.isTTY),
  today: () => todayIn(loadConfig().HUB_RENEWAL_TIMEZONE, new Date()),
};

/** Errors printed in text mode; --json prints up to 1000. */
const PRINTED_ERRORS = 50;

function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** The report as a person reads it. */
export function describeImport(r: DeviceImportReport): string[] {
  const verb = r.applied ? 'imported' : r.dryRun ? 'dry run, nothing written' : 'nothing imported';
  const lines = [
    `${r.rows} rows: ${r.valid} valid, ${r.invalid} invalid (${verb}, ${(r.durationMs / 1000).toFixed(1)} s)`,
    `devices: ${r.created} ${r.applied ? 'created' : 'to create'}, ${r.updated} ${r.applied ? 'updated' : 'to update'}, ${r.unchanged} unchanged`,
    `contract links: ${r.linked} ${r.applied ? 'set' : 'to set'} (from linkFrom, else today), ${r.linksUnchanged} unchanged`,
  ];
  for (const e of r.errors.slice(0, PRINTED_ERRORS)) lines.push(`  line ${e.line}, ${e.field}: ${e.message}`);
  if (r.errorCount > PRINTED_ERRORS) lines.push(`  … and ${r.errorCount - PRINTED_ERRORS} more errors (--json lists up to ${r.errors.length})`);
  return lines;
}

function progressBar(io: ImportCliIo): { onProgress: (p: ImportProgress) => void; stop: () => void } {
  if (!io.isTTY()) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: '{phase} [{bar}] {value}/{total} rows | {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    onProgress: (p) => {
      if (p.phase === 'done') return;
      const phase = p.phase.padEnd(5);
      if (!started) {
        bar.start(p.total, p.done, { phase });
        started = true;
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, { phase });
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * `hub import devices <file.csv> [--dry-run] [--skip-invalid] [--json]` (R-LINK-7/8): the same
 * import as `POST /api/v1/devices/import`, straight into the database. Exits non-zero when any
 * row is invalid, unless --skip-invalid imported the rest.
 */
export function registerImportCommands(program: Command, io: ImportCliIo = defaultIo): void {
  const group = program.command('import').description('import data from other systems');
  group
    .command('devices')
    .description(
      `create or update devices from an RMM's device export (CSV with header ${DEVICE_CSV_COLUMNS.join(',')}; ` +
        'site maps to a company through its sourceSites; contract by code, name or id and service by code or name, ' +
        "linked from linkFrom (YYYY-MM-DD), else from today in the company's zone; links are recorded with origin import)",
    )
    .argument('<file>', 'the CSV file')
    .option('--dry-run', 'check every row and report what would happen; write nothing')
    .option('--skip-invalid', 'import the valid rows and report the invalid ones (default: any invalid row, nothing imported)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { dryRun?: boolean; skipInvalid?: boolean; json?: boolean }) => {
      let text: string;
      try {
        text = await io.readFile(file);
      } catch (e) {
        throw new Error(`${file}: cannot read (${e instanceof Error ? e.message : String(e)})`, { cause: e });
      }
      const db = io.openDb();
      const bar = progressBar(io);
      let report: DeviceImportReport;
      try {
        report = await importDevices(db, text, {
          dryRun: opts.dryRun === true,
          skipInvalid: opts.skipInvalid === true,
          today: io.today(),
          ...(io.now ? { now: io.now() } : {}),
          actor: cliActor(),
          scope: ALL_COMPANIES,
          onProgress: bar.onProgress,
        });
      } finally {
        bar.stop();
        await io.closeDb(db);
      }
      if (opts.json) io.out(JSON.stringify(report));
      else for (const line of describeImport(report)) (report.errorCount > 0 ? io.err : io.out)(line);
      if (report.errorCount > 0 && !(report.applied && report.skipInvalid)) {
        throw new Error(`${file}: ${report.invalid} invalid rows${report.dryRun ? '' : '; nothing was imported (fix them, or use --skip-invalid)'}`);
      }
    });
}
