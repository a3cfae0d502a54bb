import type { Command } from 'commander';
import { runHub } from '../main/run';

/** `hub start [--api|--worker]`: SPEC §8 `npm start`, `npm run start:api`, `npm run start:worker`. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the hub: API and workers in one process (default), or only one of them')
    .option('--api', 'only the HTTP API (webhooks and admin API)')
    .option('--worker', 'only the workers')
    .action(async (o: { api?: boolean; worker?: boolean }) => {
      const both = !o.api && !o.worker;
      await runHub({ api: both || !!o.api, worker: both || !!o.worker });
    });
}
