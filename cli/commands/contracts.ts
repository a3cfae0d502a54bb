import { ALL_COMPANIES } from '../../core/access/company-scope';
import os from 'node:os';
import readline from 'node:readline/promises';
import { Command, Option } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../config/env';
import { assertIsoDate, todayIn, type IsoDate } from '../../core/dates';
import { isHubError } from '../../core/errors';
import type { DefaultContractChoice, RenewalOverrides, RenewalProposal } from '../../core/contracts/renewal';
import { createDb } from '../../db/connection';
import { previewRenewal } from '../../app/renewals/preview-renewal';
import { renewContract } from '../../app/renewals/renew-contract';
import type { LeftBehindReport } from '../../core/contracts/left-behind';

/** Where the command reads and writes; tests pass their own database, clock, answers and capture output. */
export interface ContractCliIo {
  openDb(): Knex;
  closeDb(db: Knex): Promise<void>;
  out(line: string): void;
  err(line: string): void;
  /** Whether a person can answer a question (stdin and stdout are terminals). */
  isInteractive(): boolean;
  /** Asks a yes/no question; true only for yes. */
  confirm(question: string): Promise<boolean>;
  /** Today in the hub's renewal zone. */
  today(): IsoDate;
}

const defaultIo: ContractCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isInteractive: () => Boolean(process.stdin.isTTY && process.stdout.isTTY),
  confirm: async (question) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  },
  today: () => todayIn(loadConfig().HUB_RENEWAL_TIMEZONE, new Date()),
};

/** Audit actor of a CLI change: the OS user, since there is no token to name. */
function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Columns padded to their widest cell (console.table would print quotes and an index column). */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** The wizard's proposal as a person reads it (R-REN-15 preview). */
export function describeProposal(p: RenewalProposal, left: LeftBehindReport, originalName: string): string[] {
  const c = p.contract;
  const out: string[] = [
    `Renewal of contract ${p.originalId} (${originalName})`,
    `  name         ${c.name}`,
    `  term         ${c.startDate} – ${c.endDate} (${c.periodType})`,
    `  uplift       ${p.priceUpliftPercent === null ? 'none' : `${p.priceUpliftPercent} %`}`,
    `  original     ${p.original.endsEarly ? `ends ${p.original.newEndDate} (was ${p.original.currentEndDate}), deactivated on ${p.original.deactivatedOn ?? '?'}` : `keeps its end date ${p.original.currentEndDate}`}`,
    `  devices      move to the renewal on ${p.deviceLinks.moveOn}`,
    `  billing      ${p.billingRules.length} rule(s) copied inactive from ${c.startDate}`,
    `  mappings     ${p.serviceMappingsCopied ? `${p.serviceMappings.length} copied (integrated billing)` : 'not copied (no integrated billing)'}`,
    `  default desk ${p.defaultServiceDesk.renewalIsDefault ? 'renewal is the default service-desk contract' : p.defaultServiceDesk.choiceRequired ? 'CHOICE REQUIRED (--default-contract)' : 'renewal is not the default'}`,
    `  applies      ${p.schedule.scheduled ? `scheduled for ${p.schedule.effectiveDate}` : 'now'}`,
  ];
  const lines = (kind: string, items: RenewalProposal['services']) =>
    items.map((l) => [kind, l.itemId, l.units, l.originalUnitPrice, l.upliftedUnitPrice, `${l.unitPrice}${l.priceOverridden ? ' (edited)' : ''}`]);
  const rows = [...lines('service', p.services), ...lines('bundle', p.bundles)];
  if (rows.length) {
    out.push('', ...formatTable(['kind', 'id', 'units', 'price now', 'uplifted', 'renewal price'], rows));
  }
  out.push(
    '',
    `Not transferred (measured against ${left.originalEndDate}):`,
    `  open tickets ${left.openTickets.count}, open projects ${left.openProjects.count}, charges after the end ${left.chargesAfterEnd.count}, time entries after the end ${left.timeEntriesAfterEnd.count}`,
  );
  return out;
}

interface RenewOptions {
  start?: string;
  end?: string;
  uplift?: string;
  name?: string;
  dryRun?: boolean;
  yes?: boolean;
  defaultContract?: DefaultContractChoice;
}

function overridesOf(opts: RenewOptions): RenewalOverrides {
  if (opts.start !== undefined) assertIsoDate(opts.start, '--start');
  if (opts.end !== undefined) assertIsoDate(opts.end, '--end');
  return {
    name: opts.name,
    startDate: opts.start,
    endDate: opts.end,
    priceUpliftPercent: opts.uplift,
    defaultContract: opts.defaultContract,
  };
}

/** A HubError as one line naming its code; other errors unchanged. */
const cliError = (e: unknown): Error => (isHubError(e) ? new Error(`${e.code}: ${e.message}`) : e instanceof Error ? e : new Error(String(e)));

/**
 * `hub contracts renew <id>`: the renewal wizard on the command line (SPEC §4). Shows the
 * proposal, asks for confirmation on a terminal (or takes --yes), then renews through the same
 * code path and audit rows as POST /api/v1/contracts/:id/renewal, with actor cli:<os user>.
 */
export function registerContractCommands(program: Command, io: ContractCliIo = defaultIo): void {
  const contracts = program.command('contracts').description('service contracts: renewals');

  contracts
    .command('renew')
    .description('renew a recurring service contract (preview, confirm, apply)')
    .argument('<id>', 'contract id')
    .option('--start <YYYY-MM-DD>', "renewal start date (default: the day after the original's end)")
    .option('--end <YYYY-MM-DD>', "renewal end date (default: the original's full term from the start)")
    .option('--uplift <percent>', 'raise every service and bundle price by this percentage (0–1000.00)')
    .option('--name <name>', 'renewal name (default: "Renewal of <old name>")')
    .option('--dry-run', 'show the proposal only; change nothing')
    .option('--yes', 'do not ask for confirmation')
    .addOption(new Option('--default-contract <which>', 'when another contract is already the default service-desk contract: which one is from now on').choices(['renewal', 'existing']))
    .action(async (id: string, opts: RenewOptions) => {
      if (!/^[1-9]\d{0,17}$/.test(id)) throw new Error(`"${id}" is not a contract id`);
      const db = io.openDb();
      try {
        const overrides = overridesOf(opts);
        const ctx = { scope: ALL_COMPANIES, actor: cliActor(), today: io.today() };
        const preview = await previewRenewal({ db }, id, overrides, ctx).catch((e: unknown) => {
          throw cliError(e);
        });
        for (const line of describeProposal(preview.proposal, preview.leftBehind, preview.original.name)) io.out(line);
        const d = preview.proposal.defaultServiceDesk;
        if (d.choiceRequired) {
          io.err('');
          io.err(
            `contract ${preview.original.id} is the default service-desk contract, but ${d.conflicts.map((c) => `contract ${c.id} (${c.name}, ${c.startDate} – ${c.endDate})`).join(', ')} is already the default on the renewal's dates.`,
          );
          throw new Error('DEFAULT_CONTRACT_CHOICE_REQUIRED: pass --default-contract renewal (the renewal becomes the default) or --default-contract existing (the other one stays)');
        }
        if (opts.dryRun) {
          io.err('dry run: nothing changed');
          return;
        }
        if (!opts.yes) {
          if (!io.isInteractive()) throw new Error('not a terminal: refusing to renew without confirmation; pass --yes (or --dry-run to only look)');
          if (!(await io.confirm(`Renew contract ${preview.original.id}?`))) {
            io.err('cancelled: nothing changed');
            return;
          }
        }
        const r = await renewContract({ db }, id, overrides, ctx).catch((e: unknown) => {
          throw cliError(e);
        });
        io.out(
          `renewed contract ${r.original.id} as contract ${r.renewal.id} "${r.renewal.name}" (${r.renewal.start_date} – ${r.renewal.end_date}); ` +
            `${r.deviceLinks.moved + r.deviceLinks.rescheduled} device link(s) moved; ` +
            (r.application.applied_at === null ? `date-dependent effects scheduled for ${r.application.effective_date}` : 'applied now'),
        );
      } finally {
        await io.closeDb(db);
      }
    });
}
