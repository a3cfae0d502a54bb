import { scopeIncludes } from '../../../core/access/company-scope';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { HubError, notFound, validationError } from '../../../core/errors';
import { isInWindow, parseTimeIntervals, timeIntervalsSchema } from '../../../core/maintenance/time-intervals';
import { isValidTimeZone } from '../../../core/dates';
import { checkWindowDefinition, type MatchableWindow } from '../../../core/maintenance/window-match';
import type { Db } from '../../../db/connection';
import {
  companyExists,
  deleteMaintenanceWindow,
  deviceCompany,
  getMaintenanceWindow,
  insertMaintenanceWindow,
  listMaintenanceWindows,
  listWindowAlerts,
  lockMaintenanceWindow,
  rulesetWindows,
  updateMaintenanceWindow,
  type MaintenanceWindowWrite,
  type WindowAlertRow,
} from '../../../db/queries/maintenance-windows';
import type { MaintenanceWindowRow } from '../../../db/tables';
import { scopeOf, type AppDeps } from '../../context';
import { idInputSchema, idString, instant, listQuery, nameSchema, nonEmptyPatch, pageOf, parseId, queryBoolean, toInstant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, noErrorMapping, pageBody, pgErrors } from '../crud';
import { rulesControl } from '../rules/live-rules';

/**
 * Maintenance windows (issue 6): while a window is in force, firing alerts in its scope are stored
 * and marked suppressed (listed under the window, never dropped); a resolve always passes; with
 * `processAfter`, alerts still firing when the window ends are processed then. Windows can also be
 * declared in rules files (`"maintenanceWindows"`); both kinds apply.
 */

const MOUNT = '/maintenance-windows';
const TAGS = ['maintenance windows'];

const scopeText = (max: number) => z.string().trim().min(1, { message: 'must not be empty (leave it out, or null, to match every alert)' }).max(max);

const isoInstant = z.iso.datetime({ offset: true });
const instantInput = z
  .string()
  .refine((s) => isoInstant.safeParse(s).success, { message: 'must be an ISO 8601 instant with offset, e.g. 2026-11-28T22:00:00+01:00' })
  .openapi({ format: 'date-time', example: '2026-11-28T22:00:00+01:00' });

const toDate = (s: string | null | undefined): Date | null | undefined => (s === undefined ? undefined : s === null ? null : new Date(s));

const fields = {
  name: nameSchema,
  companyId: idInputSchema.nullable().openapi({ description: 'Only alerts of this company.' }),
  site: scopeText(200).nullable().openapi({ description: "Only alerts of this site (the sender's site / customer id, or the device's site)." }),
  deviceId: idInputSchema.nullable().openapi({ description: 'Only alerts of this device.' }),
  category: scopeText(100).nullable().openapi({ description: 'Only alerts of this category (case-insensitive).' }),
  timezone: z
    .string({ error: 'is required: the IANA time zone the intervals are read in, e.g. "Europe/Berlin"' })
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin"' })
    .openapi({ description: 'IANA zone the time intervals are read in (an interval may set its own `location`).', example: 'Europe/Berlin' }),
  timeIntervals: timeIntervalsSchema.max(100).openapi({
    description: "Recurring part, Alertmanager `time_intervals` semantics (times, weekdays, days_of_month, months, years, location). Empty = no recurrence restriction.",
  }),
  startsAt: instantInput.nullable().openapi({ description: 'One-off start (inclusive).' }),
  endsAt: instantInput.nullable().openapi({ description: 'One-off end (exclusive).' }),
  processAfter: z.boolean().openapi({ description: 'Alerts still firing when the window ends are processed then.' }),
};

const definitionIssues = (w: { startsAt?: string | null | undefined; endsAt?: string | null | undefined; timeIntervals?: z.infer<typeof timeIntervalsSchema> | undefined }) =>
  checkWindowDefinition({ startsAt: toDate(w.startsAt) ?? null, endsAt: toDate(w.endsAt) ?? null, timeIntervals: w.timeIntervals ?? [] });

const createBody = z
  .strictObject({
    name: fields.name,
    companyId: fields.companyId.optional(),
    site: fields.site.optional(),
    deviceId: fields.deviceId.optional(),
    category: fields.category.optional(),
    timezone: fields.timezone,
    timeIntervals: fields.timeIntervals.optional(),
    startsAt: fields.startsAt.optional(),
    endsAt: fields.endsAt.optional(),
    processAfter: fields.processAfter.optional(),
  })
  .superRefine((w, ctx) => {
    for (const issue of definitionIssues(w)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  })
  .openapi('MaintenanceWindowInput');

const patchBody = nonEmptyPatch(
  z.strictObject({
    name: fields.name.optional(),
    companyId: fields.companyId.optional(),
    site: fields.site.optional(),
    deviceId: fields.deviceId.optional(),
    category: fields.category.optional(),
    timezone: fields.timezone.optional(),
    timeIntervals: fields.timeIntervals.optional(),
    startsAt: fields.startsAt.optional(),
    endsAt: fields.endsAt.optional(),
    processAfter: fields.processAfter.optional(),
  }),
);

export const maintenanceWindowSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    companyId: z.string().nullable(),
    site: z.string().nullable(),
    deviceId: z.string().nullable(),
    category: z.string().nullable(),
    timezone: z.string(),
    timeIntervals: timeIntervalsSchema,
    startsAt: instant.nullable(),
    endsAt: instant.nullable(),
    processAfter: z.boolean(),
    inForce: z.boolean().openapi({ description: 'The window is in force now (time only; scope aside).' }),
    createdAt: instant,
  })
  .openapi('MaintenanceWindow');

type WindowOut = z.infer<typeof maintenanceWindowSchema>;

const windowOut = (row: MaintenanceWindowRow, now: Date): WindowOut => {
  const timeIntervals = parseTimeIntervals(row.time_intervals);
  return {
    id: String(row.id),
    name: row.name,
    companyId: row.company_id === null ? null : String(row.company_id),
    site: row.site,
    deviceId: row.device_id === null ? null : String(row.device_id),
    category: row.category,
    timezone: row.timezone,
    timeIntervals,
    startsAt: toInstant(row.starts_at),
    endsAt: toInstant(row.ends_at),
    processAfter: row.process_after,
    inForce: isInWindow({ timezone: row.timezone, timeIntervals, startsAt: row.starts_at, endsAt: row.ends_at }, now),
    createdAt: row.created_at.toISOString(),
  };
};

const windowAlertSchema = z
  .strictObject({
    alertId: z.string(),
    receiptId: z.string(),
    source: z.string(),
    sourceAlertId: z.string(),
    dedupKey: z.string(),
    state: z.enum(['firing', 'resolved']),
    severity: z.string(),
    category: z.string().nullable(),
    title: z.string(),
    hostname: z.string().nullable(),
    site: z.string().nullable(),
    occurredAt: instant,
    receivedAt: instant,
    status: z.string().openapi({ description: "The alert's status now: suppressed while held; processed once released." }),
    outcome: z.string().nullable(),
    ticketId: z.string().nullable(),
    release: z
      .enum(['requeued', 'resolved', 'superseded', 'kept'])
      .nullable()
      .openapi({ description: 'What happened when the window ended: requeued (processed then), resolved (a resolve came first), superseded (a later firing carried it), kept (no processAfter); null while held.' }),
    releasedAt: instant.nullable(),
  })
  .openapi('MaintenanceWindowAlert');

const windowAlertOut = (r: WindowAlertRow): z.infer<typeof windowAlertSchema> => ({
  alertId: String(r.alert_id),
  receiptId: String(r.receipt_id),
  source: r.source_name,
  sourceAlertId: r.source_alert_id,
  dedupKey: r.dedup_key,
  state: r.state,
  severity: r.severity,
  category: r.category,
  title: r.title,
  hostname: r.hostname,
  site: r.site,
  occurredAt: r.occurred_at.toISOString(),
  receivedAt: r.received_at.toISOString(),
  status: r.status,
  outcome: r.outcome,
  ticketId: r.ticket_id === null ? null : String(r.ticket_id),
  release: r.window_release === null ? null : (r.window_release as 'requeued' | 'resolved' | 'superseded' | 'kept'),
  releasedAt: toInstant(r.window_released_at),
});

const rulesWindowsSchema = z
  .strictObject({
    items: z.array(
      z.strictObject({
        key: z.string(),
        name: z.string(),
        file: z.string().nullable(),
        company: z.string().nullable().openapi({ description: "A company's code or name." }),
        site: z.string().nullable(),
        device: z.string().nullable().openapi({ description: "A device's hostname." }),
        category: z.string().nullable(),
        timezone: z.string(),
        timeIntervals: timeIntervalsSchema,
        startsAt: instant.nullable(),
        endsAt: instant.nullable(),
        processAfter: z.boolean(),
        inForce: z.boolean(),
      }),
    ),
    issues: z.array(
      z.strictObject({ severity: z.literal('error'), file: z.string(), rule: z.null(), pointer: z.string(), message: z.string() }),
    ),
  })
  .openapi('RulesFileMaintenanceWindows');

const rulesWindowOut = (w: MatchableWindow, now: Date) => ({
  key: w.key,
  name: w.name,
  file: w.file,
  company: w.scope.companyRef ?? null,
  site: w.scope.site ?? null,
  device: w.scope.deviceHostname ?? null,
  category: w.scope.category ?? null,
  timezone: w.timing.timezone,
  timeIntervals: [...w.timing.timeIntervals],
  startsAt: toInstant(w.timing.startsAt ?? null),
  endsAt: toInstant(w.timing.endsAt ?? null),
  processAfter: w.processAfter,
  inForce: isInWindow(w.timing, now),
});

/** Rules-file windows are global configuration and list every company's alerts. */
function requireUnscopedRead(req: Request): void {
  if (!scopeOf(req).all) throw new HubError('FORBIDDEN', "a company-scoped token cannot read the rules files' maintenance windows");
}

type CreateInput = z.infer<typeof createBody>;

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

const writeOf = (b: CreateInput): MaintenanceWindowWrite => ({
  name: b.name,
  companyId: b.companyId === undefined || b.companyId === null ? null : idString(b.companyId),
  site: b.site ?? null,
  deviceId: b.deviceId === undefined || b.deviceId === null ? null : idString(b.deviceId),
  category: b.category ?? null,
  timezone: b.timezone,
  timeIntervals: b.timeIntervals ?? [],
  startsAt: toDate(b.startsAt) ?? null,
  endsAt: toDate(b.endsAt) ?? null,
  processAfter: b.processAfter ?? false,
});

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
