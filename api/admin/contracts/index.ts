import { Router } from 'express';
import type { AppDeps } from '../../context';
import { registerContractRoutes } from './contracts.route';
import { registerContractExtraRoutes } from './extras.route';
import { registerLineRoutes } from './lines.route';
import { registerRenewalRoutes } from './renewal.route';

/**
 * `/api/v1/contracts`: contracts, their services and bundles with dated adjustments, billing
 * rules, notes, service mappings, charges, device links, and renewals (SPEC §3, §4, §8).
 */
export function contractsRouter(deps: AppDeps): Router {
  const router = Router();
  registerContractRoutes(router, deps);
  registerLineRoutes(router, deps);
  registerContractExtraRoutes(router, deps);
  registerRenewalRoutes(router, deps);
  return router;
}
