import type { Queue } from 'bullmq';
import type { Request } from 'express';
import type { Knex } from 'knex';
import type { PsaCallBudgetOf } from '../app/psa/connections';
import type { ReceiptJobs } from '../app/receipts/receipt-jobs';
import type { LiveRules } from '../app/rules/live-rules';
import type { SourceCache } from './webhooks/source-cache';
import type { HubConfig } from '../config/env';
import type { Logger } from '../lib/logger';
import type { Role } from '../db/tables';
import { HubError } from '../core/errors';
import { scopeIncludes, type CompanyScope } from '../core/access/company-scope';

/**
 * Who is calling the admin API. `scope` is `{ all: true }` or an explicit list (issue 6); a list
 * that became empty (its companies were deleted) grants nothing, never everything (issue 13 item 1).
 */
export interface Principal {
  tokenId: string | null;
  name: string;
  role: Role;
  scope: CompanyScope;
}

/**
 * What route modules get. Optional parts are absent in processes that do not run them; a route
 * that needs one answers 503 NOT_READY instead of crashing.
 */
export interface AppDeps {
  config: HubConfig;
  db: Knex;
  logger: Logger;
  /** The services the process built (main/start.ts), each typed; tests give only the ones they use. */
  services: HubServices;
}

/** A readiness check /readyz runs (Postgres, Redis, ruleset). */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/** A figure /readyz reports beside its checks without failing on them (e.g. the receipt backlog). */
export interface ReadinessDetail {
  name: string;
  read: () => Promise<unknown>;
}

/**
 * The typed service container: everything a process may hand the API beyond config, db and logger.
 * Every field is optional — an API-only test app has none of them.
 */
export interface HubServices {
  /** /readyz checks (main/start.ts registers postgres, redis, ruleset). */
  readiness?: readonly ReadinessCheck[];
  /** /readyz details (the receipt backlog). */
  readinessDetails?: readonly ReadinessDetail[];
  /** Puts stored receipts on the alerts queue (workers/alert-queue.ts AlertEnqueuer); absent = the relay does it. */
  alertEnqueuer?: { enqueueSoon(receiptIds: string[]): void };
  /** The receipt use cases' port on the alerts queue (dead-letter re-drive). */
  receiptJobs?: ReceiptJobs;
  /** The process's BullMQ queues by name (a running hub registers `{ alerts, renewals, upkeep }`). */
  queues?: Readonly<Record<string, Queue>>;
  /** The live ruleset (app/rules/live-rules.ts): the rules routes use its store, /metrics its version. */
  rules?: Partial<Pick<LiveRules, 'store' | 'version'>>;
  /** The clock the contract and ticket routes read "today" and "now" from; absent = the system clock. */
  clock?: () => Date;
  /** The webhook route's cache of sources; the sources routes invalidate it on an edit. Set by the webhook router when absent. */
  sourceCache?: SourceCache;
  /** Issue 16: puts PSA deliveries on their connection's queue (workers/psa-delivery.ts PsaEnqueuer); absent = the worker's sweep does it. */
  psaEnqueuer?: { enqueue(refs: ReadonlyArray<{ id: string; connectionName: string; rank: number; unique?: boolean }>): Promise<void> };
  /** Issue 16: the PSA call budget an import, webhook registration or connection test takes its calls from (main/psa-call-budget.ts); absent = no limit. */
  psaCallBudget?: PsaCallBudgetOf;
}

/** A service the process must have for this route; 503 NOT_READY where it does not run. */
export function service<K extends keyof HubServices>(deps: AppDeps, name: K): NonNullable<HubServices[K]> {
  const s = deps.services[name];
  if (s === undefined || s === null) throw new HubError('NOT_READY', `${name} is not available in this process`);
  return s;
}

export function principalOf(req: Request): Principal {
  const p = req.principal;
  if (!p) throw new HubError('UNAUTHORIZED', 'missing bearer token');
  return p;
}

/** The company scope of the caller. Every scoped query takes it. */
export const scopeOf = (req: Request): CompanyScope => principalOf(req).scope;

/** 404 (never 403) when a scoped token asks for another company's object, so ids do not leak. */
export function assertInScope(req: Request, companyId: string | null | undefined, what: string, id: string): void {
  if (!scopeIncludes(scopeOf(req), companyId)) throw new HubError('NOT_FOUND', `${what} ${id} not found`);
}

export const actorOf = (req: Request): string => {
  const p = req.principal;
  return p ? (p.tokenId ? `token:${p.tokenId}:${p.name}` : p.name) : 'anonymous';
};

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    requestId?: string;
    rawBody?: Buffer;
  }
}
