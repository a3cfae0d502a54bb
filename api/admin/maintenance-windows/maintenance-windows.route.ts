import { scopeIncludes } from '../../../core/access/company-scope';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { HubError, notFound, validationError } from '../../../core/errors';
import type { Db } from '../../../db/connection';
import {
  companyExists,
  deleteMaintenanceWindow,
  deviceCompany,
  getMaintenanceWindow,
  insertMaintenanceWindow,
  listMaintenanceWindows,
  lockMaintenanceWindow,
  updateMaintenanceWindow,
  type MaintenanceWindowWrite,
} from '../../../db/queries/maintenance-windows';
import { rulesetWindows } from '../../../app/maintenance/ruleset-windows';
import { listWindowAlerts } from '../../../db/queries/window-receipts';
import { scopeOf, type AppDeps } from '../../context';
import { listQuery, pageOf, parseId, queryBoolean } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, noErrorMapping, pageBody, pgErrors } from '../crud';
import { rulesControl } from '../rules/live-rules';
import { createBody, definitionIssues, maintenanceWindowSchema, patchBody, rulesWindowsSchema, windowAlertSchema, type CreateInput } from './schemas';
import { rulesWindowOut, windowAlertOut, windowOut, writeOf } from './serialize';

/**
 * Maintenance windows (issue 6): while a window is in force, firing alerts in its scope are stored
 * and marked suppressed (listed under the window, never dropped); a resolve always passes; with
 * `processAfter`, alerts still firing when the window ends are processed then. Windows can also be
 * declared in rules files (`"maintenanceWindows"`); both kinds apply.
 */

const MOUNT = '/maintenance-windows';
const TAGS = ['maintenance windows'];

/** Rules-file windows are global configuration and list every company's alerts. */
function requireUnscopedRead(req: Request): void {
  if (!scopeOf(req).all) throw new HubError('FORBIDDEN', "a company-scoped token cannot read the rules files' maintenance windows");
}


/**
 * The scope checks a write needs beyond the body's shape: the company and device exist, the device
 * belongs to the window's company, and a company-scoped token writes only its companies' windows
 * (a window without a company would silence every company's alerts).
 */
async function checkScope(db: Db, req: Request, w: MaintenanceWindowWrite): Promise<void> {
  const scope = scopeOf(req);
  if (!scope.all && w.companyId === null) throw validationError('companyId', 'is required for a company-scoped token (a window without a company applies to every company)');
  if (w.companyId !== null) {
    if (!scopeIncludes(scope, w.companyId)) throw notFound('company', w.companyId);
    if (!(await companyExists(db, w.companyId))) throw validationError('companyId', `company ${w.companyId} does not exist`);
  }
  if (w.deviceId !== null) {
    const device = await deviceCompany(db, w.deviceId);
    const visible = device && scopeIncludes(scope, device.company_id);
    if (!device || !visible) throw validationError('deviceId', `device ${w.deviceId} does not exist`);
    if (w.companyId !== null && String(device.company_id) !== w.companyId) {
      throw validationError('deviceId', `device ${w.deviceId} belongs to another company than companyId ${w.companyId}`);
    }
  }
}

const DB_ERRORS = pgErrors({ company_id: 'companyId', device_id: 'deviceId', maintenance_windows_check: 'endsAt' });

export function maintenanceWindowsRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: "List maintenance windows declared through the API (a scoped token sees only its companies')",
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        companyId: z.string().regex(/^\d+$/).optional(),
        deviceId: z.string().regex(/^\d+$/).optional(),
        ended: queryBoolean.optional().openapi({ description: 'true: only windows whose endsAt has passed; false: only those that can still apply.' }),
      }),
      response: pageOf(maintenanceWindowSchema),
    },
    async ({ query, req }) => {
      const now = new Date();
      const page = await listMaintenanceWindows(deps.db, {
        limit: query.limit,
        cursor: query.cursor,
        scope: scopeOf(req),
        companyId: query.companyId,
        deviceId: query.deviceId,
        ...(query.ended === 'true' ? { endedBefore: now } : query.ended === 'false' ? { notEndedAt: now } : {}),
      });
      return { body: pageBody(page, (w) => windowOut(w, now)) };
    },
  );

  // Before '/:id', which would otherwise take "rules" for an id.
  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/rules',
      summary: "The maintenance windows declared in the live rules files (\"maintenanceWindows\"), and those ignored as invalid",
      tags: TAGS,
      role: 'viewer',
      response: rulesWindowsSchema,
    },
    ({ req }) => {
      requireUnscopedRead(req);
      const now = new Date();
      const { windows, issues } = rulesetWindows(rulesControl(deps).current());
      return { body: { items: windows.map((w) => rulesWindowOut(w, now)), issues } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/rules/:name/alerts',
      summary: 'Alerts a rules-file window (by name) silenced, newest first, and what became of each',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({}),
      response: pageOf(windowAlertSchema),
    },
    async ({ params, query, req }) => {
      requireUnscopedRead(req);
      const page = await listWindowAlerts(deps.db, { key: `rules:${params.name ?? ''}`, limit: query.limit, cursor: query.cursor });
      return { body: pageBody(page, windowAlertOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:id', summary: 'Get a maintenance window', tags: TAGS, role: 'viewer', response: maintenanceWindowSchema },
    async ({ params, req }) => ({
      body: windowOut(await loadOr404('maintenance window', params.id, (id) => getMaintenanceWindow(deps.db, id, scopeOf(req))), new Date()),
    }),
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:id/alerts',
      summary: 'Alerts this window silenced (newest first), and what became of each when the window ended',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({}),
      response: pageOf(windowAlertSchema),
    },
    async ({ params, query, req }) => {
      const id = parseId(params.id, 'maintenance window');
      const row = await getMaintenanceWindow(deps.db, id, scopeOf(req));
      if (!row) throw notFound('maintenance window', id);
      const page = await listWindowAlerts(deps.db, { key: `api:${id}`, limit: query.limit, cursor: query.cursor });
      return { body: pageBody(page, windowAlertOut) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '',
      summary: 'Create a maintenance window (needs endsAt or timeIntervals: without either it would suppress forever)',
      tags: TAGS,
      role: 'operator',
      body: createBody,
      status: 201,
      response: maintenanceWindowSchema,
    },
    async ({ body, req }) => {
      const w = writeOf(body);
      const created = await createAudited(
        deps.db,
        req,
        DB_ERRORS,
        'maintenance_window',
        async (trx) => {
          await checkScope(trx, req, w);
          return windowOut(await insertMaintenanceWindow(trx, w), new Date());
        },
        (after) => after.companyId,
      );
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Update a maintenance window (null clears a scope field or a bound); the result is checked like a new window',
      tags: TAGS,
      role: 'operator',
      body: patchBody,
      response: maintenanceWindowSchema,
    },
    async ({ body, params, req }) => {
      const id = parseId(params.id, 'maintenance window');
      // Not updateAudited: the merge works on the API shape of `before`, and the audit row keeps the old company when the new one is cleared.
      const updated = await DB_ERRORS(() =>
        deps.db.transaction(async (trx) => {
          await lockMaintenanceWindow(trx, id);
          const before = await getMaintenanceWindow(trx, id, scopeOf(req));
          if (!before) throw notFound('maintenance window', id);
          const now = new Date();
          const b = windowOut(before, now);
          const merged: CreateInput = {
            name: body.name ?? b.name,
            companyId: body.companyId === undefined ? b.companyId : body.companyId,
            site: body.site === undefined ? b.site : body.site,
            deviceId: body.deviceId === undefined ? b.deviceId : body.deviceId,
            category: body.category === undefined ? b.category : body.category,
            timezone: body.timezone ?? b.timezone,
            timeIntervals: body.timeIntervals ?? b.timeIntervals,
            startsAt: body.startsAt === undefined ? b.startsAt : body.startsAt,
            endsAt: body.endsAt === undefined ? b.endsAt : body.endsAt,
            processAfter: body.processAfter ?? b.processAfter,
          };
          const issue = definitionIssues(merged)[0];
          if (issue) throw validationError(issue.path.join('.'), issue.message);
          const w = writeOf(merged);
          await checkScope(trx, req, w);
          const row = await updateMaintenanceWindow(trx, id, w);
          if (!row) throw notFound('maintenance window', id);
          const after = windowOut(row, now);
          await audit(trx, req, { action: 'update', entityType: 'maintenance_window', entityId: id, companyId: after.companyId ?? b.companyId, before: b, after });
          return after;
        }),
      );
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:id',
      summary: 'Delete a maintenance window (alerts it holds with processAfter are processed at the next window-end run)',
      tags: TAGS,
      role: 'operator',
      status: 204,
    },
    async ({ params, req, res }) => {
      const id = parseId(params.id, 'maintenance window');
      await deleteAudited(deps.db, req, noErrorMapping, {
        entityType: 'maintenance_window',
        what: 'maintenance window',
        id,
        load: async (trx) => {
          await lockMaintenanceWindow(trx, id);
          return getMaintenanceWindow(trx, id, scopeOf(req));
        },
        remove: async (trx) => {
          if (!(await deleteMaintenanceWindow(trx, id))) throw notFound('maintenance window', id);
        },
        out: (row) => windowOut(row, new Date()),
        companyOf: (before) => before.companyId,
      });
      res.status(204).end();
    },
  );

  return router;
}
