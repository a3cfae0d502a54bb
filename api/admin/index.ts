import type { Router } from 'express';
import type { AppDeps } from '../context';
import { alertsRouter } from './alerts/alerts.route';
import { auditRouter } from './audit/audit.route';
import { bundlesRouter } from './bundles/bundles.route';
import { companiesRouter } from './companies/companies.route';
import { contractsRouter } from './contracts';
import { deadLettersRouter } from './dead-letters/dead-letters.route';
import { deviceLinksRouter } from './device-links';
import { devicesRouter } from './devices/devices.route';
import { IMPORT_MOUNT, importsRouter } from './imports/imports.route';
import { openApiRouter } from './docs/openapi.route';
import { queuesRouter } from './queues/queues.route';
import { reportsRouter } from './reports/reports.route';
import { meRouter } from './me/me.route';
import { maintenanceWindowsRouter } from './maintenance-windows/maintenance-windows.route';
import { rulesRouter } from './rules/rules.route';
import { servicesRouter } from './services/services.route';
import { slasRouter } from './slas/slas.route';
import { psaConnectionsRouter, psaImportRouter, psaWebhookRouter } from './psa-connections';
import { psaDeliveriesRouter } from './psa-deliveries/psa-deliveries.route';
import { sourcesRouter } from './sources/sources.route';
import { ticketsRouter } from './tickets/tickets.route';
import { tokensRouter } from './tokens/tokens.route';

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

export function adminRouters(deps: AppDeps): AdminRouterEntry[] {
  return [
    { path: '/companies', router: companiesRouter(deps) },
    { path: '/slas', router: slasRouter(deps) },
    { path: '/services', router: servicesRouter(deps) },
    { path: '/service-bundles', router: bundlesRouter(deps) },
    // Before '/devices' so that POST /devices/import never reaches a '/:id' route there.
    { path: IMPORT_MOUNT, router: importsRouter(deps) },
    { path: '/devices', router: devicesRouter(deps) },
    { path: '/devices', router: deviceLinksRouter(deps) },
    { path: '/contracts', router: contractsRouter(deps) },
    { path: '/sources', router: sourcesRouter(deps) },
    // PSA connections hold credentials: admin only, reads included.
    { path: '/psa-connections', router: psaConnectionsRouter(deps), policy: { read: 'admin', write: 'admin' } },
    { path: '/psa-connections', router: psaImportRouter(deps), policy: { read: 'admin', write: 'admin' } },
    { path: '/psa-connections', router: psaWebhookRouter(deps), policy: { read: 'admin', write: 'admin' } },
    { path: '/psa-deliveries', router: psaDeliveriesRouter(deps), policy: { read: 'operator', write: 'operator' } },
    { path: '/tokens', router: tokensRouter(deps), policy: { read: 'admin', write: 'admin' } },
    { path: '/audit', router: auditRouter(deps) },
    // Operators schedule maintenance; rules test/diff change nothing (reload and server dirs need admin, checked in the routes).
    { path: '/maintenance-windows', router: maintenanceWindowsRouter(deps), policy: { read: 'viewer', write: 'operator' } },
    { path: '/rules', router: rulesRouter(deps), policy: { read: 'viewer', write: 'operator' } },
    // Operators work tickets (status, time entries); reports and alerts are reads.
    { path: '/tickets', router: ticketsRouter(deps), policy: { read: 'viewer', write: 'operator' } },
    { path: '/alerts', router: alertsRouter(deps) },
    { path: '/reports', router: reportsRouter(deps) },
    { path: '/queues', router: queuesRouter(deps), policy: { read: 'operator', write: 'operator' } },
    { path: '/dead-letters', router: deadLettersRouter(deps), policy: { read: 'operator', write: 'operator' } },
    { path: '/openapi.json', router: openApiRouter(deps) },
    // Any token may ask who it is (the console offers only what the token may do).
    { path: '/me', router: meRouter(deps) },
  ];
}
