import os from 'node:os';
import { Command, Option } from 'commander';
import type { Knex } from 'knex';
import { loadConfig } from '../../config/env';
import { createDb } from '../../db/connection';
import { withPgErrors } from '../../db/pg-errors';
import { issueToken, listTokens, revokeTokenAudited, type TokenView } from '../../app/tokens';
import { ALL_COMPANIES, describeScope, onlyCompanies } from '../../core/access/company-scope';
import type { Role } from '../../db/tables';

/** Where the commands read and write; tests pass their own database and capture output. */
export interface TokenCliIo {
  openDb(): Knex;
  /** Closes what openDb() opened (the default destroys the pool so the process can exit). */
  closeDb(db: Knex): Promise<void>;
  out(line: string): void;
  err(line: string): void;
}

const defaultIo: TokenCliIo = {
  openDb: () => createDb(loadConfig().DATABASE_URL, 2),
  closeDb: (db) => db.destroy(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

const ROLES: Role[] = ['admin', 'operator', 'viewer'];

/** Audit actor of a CLI change: the OS user, since there is no token to name. */
function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return 'cli';
  }
}

const describe = (t: TokenView): string =>
  [
    t.id.padStart(4),
    t.prefix,
    t.role.padEnd(8),
    describeScope(t.allCompanies ? ALL_COMPANIES : onlyCompanies(t.companyIds)).padEnd(20),
    t.revokedAt ? `revoked ${t.revokedAt}` : `last used ${t.lastUsedAt ?? 'never'}`,
    t.name,
  ].join('  ');

async function withDb<T>(io: TokenCliIo, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = io.openDb();
  try {
    return await fn(db);
  } finally {
    await io.closeDb(db);
  }
}

/**
 * `hub tokens create|list|revoke`: API tokens straight in the database (no running API needed,
 * e.g. to mint the first admin token instead of keeping HUB_ADMIN_TOKEN). Same code path and
 * audit rows as POST/GET/DELETE /api/v1/tokens.
 */
export function registerTokenCommands(program: Command, io: TokenCliIo = defaultIo): void {
  const tokens = program.command('tokens').description('manage admin API tokens');

  tokens
    .command('create')
    .description('create a token; it is printed once, only its hash is stored')
    .requiredOption('--name <name>', 'what the token is for, e.g. "grafana dashboards"')
    .addOption(new Option('--role <role>', 'admin, operator or viewer').choices(ROLES).makeOptionMandatory())
    .option('--company <id...>', 'restrict the token to these company ids (repeatable); default: every company')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { name: string; role: Role; company?: string[]; json?: boolean }) => {
      const name = opts.name.trim();
      if (!name) throw new Error('--name: must not be empty');
      const companyIds = opts.company ?? [];
      const bad = companyIds.find((c) => !/^[1-9]\d{0,17}$/.test(c));
      if (bad !== undefined) throw new Error(`--company: "${bad}" is not a company id`);
      // No --company at all = every company; the flag is explicit in the row, never inferred from an empty list.
      const scope = companyIds.length === 0 ? ALL_COMPANIES : onlyCompanies(companyIds);
      const { token, view } = await withDb(io, (db) =>
        withPgErrors({ company_id: '--company' }, () => issueToken(db, { name, role: opts.role, scope, actor: cliActor() })),
      );
      if (opts.json) {
        io.out(JSON.stringify({ ...view, token }));
        return;
      }
      io.err(`created token ${view.id} (${view.prefix}, ${view.role}); it is shown this once:`);
      io.out(token);
    });

  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--all', 'include revoked tokens')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { all?: boolean; json?: boolean }) => {
      const views = await withDb(io, async (db) => {
        const out: TokenView[] = [];
        let cursor: string | undefined;
        do {
          const page = await listTokens(db, { limit: 200, cursor, includeRevoked: opts.all === true });
          out.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return out;
      });
      if (opts.json) io.out(JSON.stringify(views));
      else if (views.length === 0) io.err('no tokens');
      else for (const v of views) io.out(describe(v));
    });

  tokens
    .command('revoke')
    .description('revoke a token by id or prefix (hub_xxxxxxxx); it stops working at once')
    .argument('<idOrPrefix>', 'token id or prefix')
    .action(async (idOrPrefix: string) => {
      if (!/^(\d{1,18}|hub_[0-9a-f]{8})$/.test(idOrPrefix)) throw new Error(`"${idOrPrefix}" is neither a token id nor a prefix (hub_xxxxxxxx)`);
      const view = await withDb(io, (db) => revokeTokenAudited(db, idOrPrefix, cliActor()));
      if (!view) throw new Error(`no active token ${idOrPrefix}`);
      io.out(`revoked ${describe(view)}`);
    });
}
