import type { Router } from 'express';
import type { AppDeps } from '../context';

/**
 * Every admin resource router, mounted under /api/v1 behind authentication and its role policy.
 * Add one line per resource (a module may add several entries, one per prefix). `policy` defaults to reads: viewer, writes: admin.
 */
export interface AdminRouterEntry {
  /** Mount prefix under /api/v1 (e.g. '/companies'); the policy applies to this prefix only. */
  path: string;
  router: Router;
  policy?: { read: 'viewer' | 'operator' | 'admin'; write: 'viewer' | 'operator' | 'admin' };
}

export function adminRouters(_deps: AppDeps): AdminRouterEntry[] {
  return [];
}
