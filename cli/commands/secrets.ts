import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { reencryptSourceSecrets, type ReencryptProgress, type ReencryptSummary } from '../../app/sources/reencrypt-secrets';
import { loadConfig } from '../../config/env';
import { createDb } from '../../db/connection';

/** Where the command reads and writes; tests pass their own database, keys and output. */
export interface SecretsCliIo {
  openDb(): Knex;
  closeDb(db: Knex): Promise<void>;
  /** HUB_SECRET_KEYS, newest first. */
  keys(): readonly string[];
  out(line: string): void;
  err(line: string): void;
  /** A progress bar only on a terminal; otherwise a line every PROGRESS_EVERY sources. */
  isTTY(): boolean;
}

const defaultIo: SecretsCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  keys: () => loadConfig().HUB_SECRET_KEYS,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: () => Boolean(process.stderr.isTTY),
};

const PROGRESS_EVERY = 100;

export function describeReencrypt(s: ReencryptSummary, dryRun: boolean): string[] {
  const verb = dryRun ? 'to re-encrypt (dry run, nothing written)' : 're-encrypted';
  const lines = [
    `${s.total} sources: ${s.reencrypted} ${verb} (${s.legacyUnbound} of them legacy values bound to no source), ${s.alreadyCurrent} already current, ${s.failed.length} failed`,
  ];
  for (const f of s.failed) lines.push(`  source ${f.id} (${f.name}): no key of HUB_SECRET_KEYS opens its secrets; send its auth again (PATCH /api/v1/sources/${f.id}) or add the key it was sealed with`);
  if (!dryRun && s.failed.length === 0) lines.push('every source is sealed with the newest key: the older keys can be removed from HUB_SECRET_KEYS');
  return lines;
}

function progress(io: SecretsCliIo): { onProgress: (p: ReencryptProgress) => void; stop: () => void } {
  if (!io.isTTY()) {
    return {
      onProgress: (p) => {
        if (p.done % PROGRESS_EVERY === 0) io.err(`… ${p.done}/${p.total} sources`);
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({ format: 'sources [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) {
        bar.start(p.total, p.done);
        started = true;
      } else bar.update(p.done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/**
 * `hub secrets reencrypt [--dry-run] [--json]` (issue 13 item 8): after putting a new key first in
 * HUB_SECRET_KEYS, seal every source's secrets with it (and bind legacy values to their source).
 * Safe to run again and while the hub runs. Exit code 1 when any source could not be opened.
 */
export function registerSecretsCommands(program: Command, io: SecretsCliIo = defaultIo): void {
  const secrets = program.command('secrets').description('source secrets at rest (HUB_SECRET_KEYS)');
  secrets
    .command('reencrypt')
    .description('seal every source secret with the newest key of HUB_SECRET_KEYS, bound to its source; idempotent')
    .option('--dry-run', 'count what would change, write nothing')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const keys = io.keys();
      const db = io.openDb();
      const bar = progress(io);
      let summary: ReencryptSummary;
      try {
        summary = await reencryptSourceSecrets({ db, keys, dryRun: opts.dryRun === true, onProgress: bar.onProgress });
      } finally {
        bar.stop();
        await io.closeDb(db);
      }
      if (opts.json) io.out(JSON.stringify({ ...summary, dryRun: opts.dryRun === true }));
      else for (const line of describeReencrypt(summary, opts.dryRun === true)) io.out(line);
      // hub.ts turns this into exit code 1 after the summary above was printed.
      if (summary.failed.length > 0) throw new Error(`secrets reencrypt: ${summary.failed.length} source(s) could not be opened with HUB_SECRET_KEYS (listed above)`);
    });
}
