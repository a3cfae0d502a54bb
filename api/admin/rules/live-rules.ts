import { HubError } from '../../../core/errors';
import type { CompiledRuleset } from '../../../rules/engine/compile';
import { RulesetStore, type LoadOutcome, type RulesetStatus } from '../../../rules/engine/ruleset-store';
import type { AppDeps } from '../../context';

/**
 * What the rules routes need of the process's live ruleset (`deps.services.rules`, the object
 * app/rules/live-rules.ts builds around a RulesetStore). Reading through the store keeps these routes
 * on exactly the ruleset the worker decides with.
 */
export interface RulesControl {
  /** The live compiled ruleset, or null before one went live. */
  current(): CompiledRuleset | null;
  status(): RulesetStatus;
  /** Reads RULES_DIR again: validate, compile aside, record, swap (an invalid edit changes nothing live). */
  reload(by: string): Promise<LoadOutcome>;
  /** Adopts the latest recorded version now (after a save through the API) instead of at the next poll. */
  adopt(): Promise<boolean>;
}

const fromStore = (store: RulesetStore): RulesControl => ({
  current: () => store.current(),
  status: () => store.status(),
  reload: (by) => store.loadFromDir(store.dir, by),
  adopt: () => store.syncFromDb(),
});

/** The live rules of this process; 503 NOT_READY in a process that runs none. */
export function rulesControl(deps: AppDeps): RulesControl {
  const store = deps.services.rules?.store;
  if (store) return fromStore(store);
  throw new HubError('NOT_READY', 'the rules engine is not available in this process');
}

/** The live ruleset; 503 NOT_READY before one went live. */
export function liveRuleset(deps: AppDeps): CompiledRuleset {
  const live = rulesControl(deps).current();
  if (!live) throw new HubError('NOT_READY', 'no ruleset is live yet (see GET /api/v1/rules/status)');
  return live;
}
