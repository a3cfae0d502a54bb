#!/usr/bin/env node
import { Command } from 'commander';
import { registerStartCommand } from './start';

/** The `hub` command (npm run hub -- <command>): start, rules, contracts, import, tokens. */
const program = new Command();
program.name('hub').description('contract-aware alert hub for managed-service providers').showHelpAfterError();
registerStartCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
