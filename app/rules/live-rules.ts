import path from 'node:path';
import type { Knex } from 'knex';
import type { HubConfig } from '../../config/env';
import type { CompiledRuleset } from '../../rules/engine/compile';
import { RulesetStore } from '../../rules/engine/ruleset-store';
import type { Decision, DecisionFacts } from '../../rules/engine/types';
import type { Logger } from '../../lib/logger';
import { metrics } from '../../lib/metrics';

/**
 * The live ruleset of one process: the store loads RULES_DIR, records every ruleset that goes
 * live, watches the files and follows newer versions recorded by other processes (R-RUL-3). The
 * process wiring starts it once; the worker decides with it (app/alerts' `Decider`), the rules
 * routes read and reload it (api/admin/rules/live-rules.ts).
 */
export interface LiveRules {
  store: RulesetStore;
  decide(facts: DecisionFacts): Decision;
  /** The live compiled ruleset (its storm rules are read by app/alerts/storms.ts). */
  current(): CompiledRuleset | null;
  version(): number;
  assertReady(): void;
  close(): Promise<void>;
}

export async function startRules(opts: { db: Knex; config: HubConfig; logger: Logger; by: string }): Promise<LiveRules> {
  const store = new RulesetStore({
    db: opts.db,
    dir: path.resolve(opts.config.RULES_DIR),
    instance: opts.by,
    logger: opts.logger.child({ component: 'rules' }),
  });
  const outcome = await store.start(`startup:${opts.by}`);
  if (!outcome.ok) opts.logger.error({ errors: outcome.errors }, 'rules files are invalid; the last stored ruleset stays live');
  const version = () => store.current()?.version ?? 0;
  const gauge = setInterval(() => metrics.rulesetVersion.set(version()), 2000);
  gauge.unref();
  return {
    store,
    decide: (facts) => store.decide(facts),
    current: () => store.current(),
    version,
    assertReady: () => {
      store.require();
    },
    close: async () => {
      clearInterval(gauge);
      await store.close();
    },
  };
}
