import type { Request } from 'express';
import type { Knex } from 'knex';
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
  /** Extra named services (queues, ruleset store, metrics, …) registered by the process. */
  services: HubServices;
}

// Filled in by later modules via declaration merging is overkill here: a plain open record, typed on read.
export interface HubServices {
  [name: string]: unknown;
}

export function service<T>(deps: AppDeps, name: string): T {
  const s = deps.services[name];
  if (s === undefined) throw new HubError('NOT_READY', `${name} is not available in this process`);
  return s as T;
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
