import { Router } from 'express';
import { z } from 'zod';
import { validationError } from '../../../core/errors';
import { WEEKDAYS, slaCalendarSchema, type WeeklyHours } from '../../../core/slas/business-calendar';
import { deleteSla, getSla, insertSla, listSlas, lockSla, replaceSla, type SlaInput, type SlaWithCalendar } from '../../../db/queries/slas';
import type { Priority } from '../../../db/tables';
import type { AppDeps } from '../../context';
import { codeSchema, instant, isoDate, listQuery, nameSchema, nonEmptyPatch, pageOf, parseId } from '../../openapi/schemas';
import { psaRefsInput, psaRefsOutput, refsOf, withPsaRefs } from '../psa-refs';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';
import { createAudited, deleteAudited, loadOr404, pageBody, pgErrors, updateAudited } from '../crud';

const MOUNT = '/slas';
const TAGS = ['slas'];
const PRIORITIES: readonly Priority[] = ['critical', 'high', 'medium', 'low'];

/** A year of minutes: a longer target is a typo, not an SLA. */
const MAX_TARGET_MINUTES = 366 * 24 * 60;
const minutes = z.number().int().min(0).max(MAX_TARGET_MINUTES, { message: `must be at most ${MAX_TARGET_MINUTES} (one year)` });

const targetSchema = z
  .strictObject({ firstResponseMinutes: minutes, resolutionPlanMinutes: minutes, resolutionMinutes: minutes })
  .superRefine((t, ctx) => {
    // Due dates are measured from the same start, so an earlier milestone cannot be due after the final one.
    if (t.firstResponseMinutes > t.resolutionMinutes)
      ctx.addIssue({ code: 'custom', path: ['firstResponseMinutes'], message: 'must not exceed resolutionMinutes' });
    if (t.resolutionPlanMinutes > t.resolutionMinutes)
      ctx.addIssue({ code: 'custom', path: ['resolutionPlanMinutes'], message: 'must not exceed resolutionMinutes' });
  });

const targetsSchema = z
  .strictObject({
    critical: targetSchema.optional(),
    high: targetSchema.optional(),
    medium: targetSchema.optional(),
    low: targetSchema.optional(),
  })
  .refine((t) => PRIORITIES.some((p) => t[p] !== undefined), { message: 'must set a target for at least one priority (critical, high, medium, low)' });

// The calendar parts come from core/slas so the API, config files and the due-date code agree on what a valid calendar is.
const calendarShape = slaCalendarSchema.shape;
const holidaysSchema = z.array(isoDate).max(2000).openapi({ description: 'Local dates (YYYY-MM-DD) without business hours.' });

/** Range checks that need the whole calendar (inverted or overlapping ranges, an empty week), reported at their field. */
function calendarIssues(cal: { timezone: string; businessHours: unknown; holidays: string[] }): Array<{ path: PropertyKey[]; message: string }> {
  const r = slaCalendarSchema.safeParse(cal);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path, message: i.message }));
}

const createBody = z
  .strictObject({
    name: nameSchema,
    code: codeSchema.optional(),
    timezone: calendarShape.timezone.openapi({ example: 'Europe/Berlin' }),
    businessHours: calendarShape.businessHours.openapi({ example: { mon: [['08:00', '17:00']] } }),
    holidays: holidaysSchema.optional(),
    targets: targetsSchema,
    psaRefs: psaRefsInput.optional(),
  })
  .superRefine((v, ctx) => {
    for (const i of calendarIssues({ timezone: v.timezone, businessHours: v.businessHours, holidays: v.holidays ?? [] }))
      ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });

const patchBody = nonEmptyPatch(
  z.strictObject({
    name: nameSchema.optional(),
    code: codeSchema.optional(),
    timezone: calendarShape.timezone.optional(),
    businessHours: calendarShape.businessHours.optional(),
    holidays: holidaysSchema.optional(),
    targets: targetsSchema.optional(),
    psaRefs: psaRefsInput.optional(),
  }),
);

const rangeOut = z.array(z.tuple([z.string(), z.string()]));
const targetOut = z.strictObject({ firstResponseMinutes: z.number(), resolutionPlanMinutes: z.number(), resolutionMinutes: z.number() });

export const slaSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    code: z.string().nullable(),
    timezone: z.string(),
    businessHours: z.union([
      z.literal('24x7'),
      z.strictObject(Object.fromEntries(WEEKDAYS.map((d) => [d, rangeOut.optional()])) as Record<(typeof WEEKDAYS)[number], z.ZodOptional<typeof rangeOut>>),
    ]),
    holidays: z.array(z.string()),
    targets: z.strictObject({
      critical: targetOut.optional(),
      high: targetOut.optional(),
      medium: targetOut.optional(),
      low: targetOut.optional(),
    }),
    psaRefs: psaRefsOutput,
    createdAt: instant,
    updatedAt: instant,
  })
  .openapi('Sla');

export type SlaOut = z.infer<typeof slaSchema>;

const hhmm = (t: string): string => t.slice(0, 5);

function toInput(s: SlaWithCalendar): SlaInput {
  let businessHours: SlaInput['businessHours'] = '24x7';
  if (!s.is_24x7) {
    const weekly: WeeklyHours = {};
    for (const h of s.hours) {
      const day = WEEKDAYS[h.weekday - 1];
      if (day) (weekly[day] ??= []).push([hhmm(h.start_time), hhmm(h.end_time)]);
    }
    businessHours = weekly;
  }
  const targets: SlaInput['targets'] = {};
  for (const t of s.targets) {
    targets[t.priority] = {
      firstResponseMinutes: t.first_response_minutes,
      resolutionPlanMinutes: t.resolution_plan_minutes,
      resolutionMinutes: t.resolution_minutes,
    };
  }
  return { name: s.name, code: s.code, timezone: s.timezone, businessHours, holidays: s.holidays.map((h) => h.day), targets };
}

export function slaOut(s: SlaWithCalendar): SlaOut {
  const input = toInput(s);
  const targets: SlaOut['targets'] = {};
  for (const p of PRIORITIES) if (input.targets[p]) targets[p] = input.targets[p];
  return {
    id: String(s.id),
    name: s.name,
    code: s.code,
    timezone: s.timezone,
    businessHours: input.businessHours,
    holidays: input.holidays,
    targets,
    psaRefs: refsOf(s),
    createdAt: s.created_at.toISOString(),
    updatedAt: s.updated_at.toISOString(),
  };
}

const DB_ERRORS = pgErrors({
  slas_name_unique: 'name',
  slas_code_unique: 'code',
  sla_business_hours_unique: 'businessHours',
  sla_business_hours_check: 'businessHours',
});

/** SPEC §8 `POST /slas`: an SLA with its business calendar and per-priority targets (R-LINK-5). */
export function slasRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'List SLAs',
      tags: TAGS,
      role: 'viewer',
      query: listQuery({
        name: z.string().max(200).optional().openapi({ description: 'Case-insensitive substring of the name.' }),
        code: z.string().max(64).optional(),
        timezone: z.string().max(64).optional(),
      }),
      response: pageOf(slaSchema),
    },
    async ({ query }) => {
      return { body: pageBody(await listSlas(deps.db, query), slaOut) };
    },
  );

  defineRoute(router, MOUNT, { method: 'get', path: '/:id', summary: 'Get an SLA', tags: TAGS, role: 'viewer', response: slaSchema }, async ({ params }) => ({
    body: slaOut(await loadOr404('SLA', params.id, (id) => getSla(deps.db, id))),
  }));

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Create an SLA', tags: TAGS, role: 'admin', body: createBody, status: 201, response: slaSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'SLAs');
      const input: SlaInput = {
        name: body.name,
        code: body.code ?? null,
        timezone: body.timezone,
        businessHours: body.businessHours,
        holidays: body.holidays ?? [],
        targets: body.targets,
      };
      const created = await createAudited(deps.db, req, DB_ERRORS, 'sla', async (trx) => slaOut(await withPsaRefs(trx, 'slas', body.psaRefs, await insertSla(trx, input))));
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'patch',
      path: '/:id',
      summary: 'Update an SLA (each given field replaces the current one: businessHours, holidays and targets as a whole)',
      tags: TAGS,
      role: 'admin',
      body: patchBody,
      response: slaSchema,
    },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'SLAs');
      const id = parseId(params.id, 'SLA');
      const updated = await updateAudited(deps.db, req, DB_ERRORS, {
        entityType: 'sla',
        what: 'SLA',
        id,
        load: async (trx) => {
          await lockSla(trx, id);
          return getSla(trx, id);
        },
        update: async (trx, current) => {
          const base = toInput(current);
          const merged: SlaInput = {
            name: body.name ?? base.name,
            code: body.code === undefined ? base.code : body.code,
            timezone: body.timezone ?? base.timezone,
            businessHours: body.businessHours ?? base.businessHours,
            holidays: body.holidays ?? base.holidays,
            targets: body.targets ?? base.targets,
          };
          // A new zone or new hours must still make a valid calendar together with the parts kept.
          const issue = calendarIssues(merged)[0];
          if (issue) throw validationError(['body', ...issue.path.map(String)].join('.'), issue.message);
          return withPsaRefs(trx, 'slas', body.psaRefs, await replaceSla(trx, id, merged));
        },
        out: slaOut,
      });
      return { body: updated };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:id', summary: 'Delete an SLA (409 while contracts or tickets use it)', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      requireUnscoped(req, 'SLAs');
      const id = parseId(params.id, 'SLA');
      await deleteAudited(deps.db, req, DB_ERRORS, {
        entityType: 'sla',
        what: 'SLA',
        id,
        load: (trx) => getSla(trx, id),
        remove: (trx) => deleteSla(trx, id),
        out: slaOut,
      });
      res.status(204).end();
    },
  );

  return router;
}
