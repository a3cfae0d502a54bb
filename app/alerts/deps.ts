import type { Knex } from 'knex';
import type { ReceiptOutcome } from '../../core/tickets/receipt-effect';
import type { WorkAlert } from '../../db/queries/alert-batch';
import type { SlaCache } from '../slas/sla-cache';
import type { Logger } from '../../lib/logger';
import type { CompiledRuleset } from '../../rules/engine/compile';
import type { Decision, DecisionFacts } from '../../rules/engine/types';

export type { ReceiptOutcome } from '../../core/tickets/receipt-effect';

/** The live ruleset as the pipeline uses it (app/rules/live-rules.ts's LiveRules, or a compiled store in tests). */
export interface Decider {
  decide(facts: DecisionFacts): Decision;
  /** The ruleset `decide` uses now, for its storm rules (R-STORM-1); absent or null: no storm rules. */
  current?(): CompiledRuleset | null;
}

/** What applying alert receipts needs; the process wiring (main/start.ts) builds it once per worker. */
export interface PipelineDeps {
  db: Knex;
  logger: Logger;
  now: () => Date;
  rules: Decider;
  slas: SlaCache;
  /** The zone an alert's date is counted in when neither its company nor its SLA has one (HUB_RENEWAL_TIMEZONE). @defaultValue 'UTC' */
  fallbackZone?: string;
  /** Schedules the receipt to run again after `delayMs` (hold-off). Without it, hold-off only drops blips that already cleared. */
  scheduleHoldOff?: (receiptId: string, delayMs: number) => Promise<void>;
  /** Maintenance window check: a window name when the alert falls in one (and it records that it silenced the receipt). */
  maintenanceWindow?: (
    db: Knex.Transaction,
    ctx: { alert: WorkAlert; receiptId?: string; companyId: string | null; deviceId: string | null; at: Date },
  ) => Promise<string | null>;
}

/** What applying one receipt came to. */
export interface ReceiptResult {
  receiptId: string;
  outcome: ReceiptOutcome;
  ticketId: string | null;
  alertId: string | null;
  /** For the metrics (counted once the transaction committed): the source and the rules that fired. */
  source?: string;
  rulesFired?: string[];
  /** R-STORM-1: tickets this receipt put under a group parent (its own, and candidates it adopted). */
  grouped?: number;
}
