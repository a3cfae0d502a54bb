#!/usr/bin/env node
import '../api/openapi/extend-zod';
import { Command } from 'commander';
import { registerContractCommands } from './commands/contracts';
import { registerDeviceCommands } from './commands/devices';
import { registerImportCommands } from './commands/import';
import { registerPsaCommands } from './commands/psa';
import { registerRulesCommands } from './commands/rules';
import { registerRulesDiffCommand } from './commands/rules-diff';
import { registerSecretsCommands } from './commands/secrets';
import { registerTokenCommands } from './commands/tokens';
import { registerStartCommand } from './start';

/** The `hub` command (npm run hub -- <command>): start, rules, contracts, import, tokens, devices, secrets. */
const program = new Command();
program.name('hub').description('contract-aware alert hub for managed-service providers').showHelpAfterError();
registerStartCommand(program);
registerRulesCommands(program);
registerRulesDiffCommand(program);
registerContractCommands(program);
registerTokenCommands(program);
registerImportCommands(program);
registerDeviceCommands(program);
registerSecretsCommands(program);
registerPsaCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
