import type { Request, Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { HubError } from '../../../core/errors';
import { checkCandidateTexts, problemsOf } from '../../../app/rules/candidate';
import { getRulesetVersion, listRulesetHistory } from '../../../app/rules/ruleset-versions';
import { rollbackRules, saveRules, type SaveRulesResult } from '../../../app/rules/save-rules';
import { recentAlertSamples, type AlertSampleRow } from '../../../db/queries/alert-samples';
import { principalOf, scopeOf, type AppDeps } from '../../context';
import { roleAtLeast } from '../../middleware/auth';
import { instant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit, requireUnscoped } from '../audit/admin-write';
import { rulesControl } from './live-rules';
import { editorFilesSchema, problemSchema, testAlertSchema, versionDetailSchema, versionSchema } from './schemas';

/**
 * The rules editor's server side (issue 17 item 2, issue 15 item 9): the live ruleset with its
 * files, validating a candidate without making it live, saving it (atomically into RULES_DIR, a
 * new version with author and message), the history of versions and the rollback to one, and
 * recent stored alerts for the dry run's picker. Saving and rolling back need an unscoped admin
 * (the rules decide for every company) and are audited in the saving transaction.
 */

const MOUNT = '/rules';
const TAGS = ['rules'];

const requireRole = (req: Request, role: 'operator' | 'admin', what: string): void => {
  if (!roleAtLeast(principalOf(req).role, role)) throw new HubError('FORBIDDEN', `${what} needs the ${role} role`);
};

const validateResponse = z.strictObject({ ok: z.boolean(), problems: z.array(problemSchema) }).openapi('RulesValidation');

const saveBody = z.strictObject({
  files: editorFilesSchema,
  message: z.string().trim().min(1).max(1000).openapi({ description: 'Why: recorded with the version.' }),
  expectedVersion: z.number().int().min(0).optional().openapi({ description: 'The version the edit started from; another version recorded since → 409 CONFLICT.' }),
});

const saveResponse = z
  .strictObject({
    version: z.number().int(),
    contentHash: z.string(),
    createdAt: instant,
    createdBy: z.string(),
    message: z.string().nullable(),
    changed: z.boolean().openapi({ description: 'False when the content equals the latest version (only formatting changed): no new version.' }),
    warnings: z.array(problemSchema),
  })
  .openapi('RulesSaved');

const rollbackResponse = saveResponse.extend({ rolledBackTo: z.number().int() }).openapi('RulesRolledBack');

const versionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const sampleSchema = testAlertSchema
  .extend({
    storedAlertId: z.string().openapi({ description: 'The stored alert (ignored by POST /rules/test).' }),
    receivedAt: instant.openapi({ description: 'When it was stored (ignored by POST /rules/test).' }),
  })
  .openapi('RulesSampleAlert');

const parseVersion = (raw: string | undefined): number => {
  if (raw === undefined || !/^[1-9]\d{0,8}$/.test(raw)) throw new HubError('NOT_FOUND', `ruleset version ${raw ?? ''} not found`);
  return Number(raw);
};

const liveVersionOf = (deps: AppDeps): number | null => rulesControl(deps).current()?.version ?? null;

const savedOut = (s: SaveRulesResult): z.infer<typeof saveResponse> => ({
  version: s.version,
  contentHash: s.contentHash,
  createdAt: s.activatedAt,
  createdBy: s.activatedBy,
  message: s.message,
  changed: s.changed,
  warnings: problemsOf({ errors: [], warnings: s.warnings }),
});

const sampleOut = (a: AlertSampleRow): z.infer<typeof sampleSchema> => ({
  source: a.source_name,
  // The sender's id of the condition (what a generic payload calls alertId), so the dry run keys it as the worker did.
  alertId: typeof a.raw_alert_id === 'string' || (typeof a.raw_alert_id === 'number' && Number.isInteger(a.raw_alert_id)) ? a.raw_alert_id : a.source_alert_id,
  state: a.state,
  severity: a.severity,
  category: a.category,
  title: a.title,
  message: a.message,
  device: {
    ...(a.device_source_id !== null ? { id: a.device_source_id } : {}),
    ...(a.hostname !== null ? { hostname: a.hostname } : {}),
    ...(a.site !== null ? { site: a.site } : {}),
  },
  occurredAt: a.occurred_at.toISOString(),
  labels: a.labels,
  storedAlertId: String(a.id),
  receivedAt: a.created_at.toISOString(),
});

export function registerRulesEditorRoutes(router: Router, deps: AppDeps): void {
  const saveDeps = (req: Request, action: string, extra: Record<string, unknown> = {}) => {
    const control = rulesControl(deps);
    return {
      db: deps.db,
      dir: deps.config.RULES_DIR,
      adopt: () => control.adopt(),
      audit: async (trx: Knex.Transaction, s: SaveRulesResult) => {
        await audit(trx, req, {
          action,
          entityType: 'ruleset',
          entityId: String(s.version),
          after: { version: s.version, contentHash: s.contentHash, changed: s.changed, message: s.message, ...extra },
        });
      },
    };
  };

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '', summary: 'The live ruleset: version, who saved it and why, and every file with its text', tags: TAGS, role: 'viewer', response: versionDetailSchema },
    async () => {
      const live = rulesControl(deps).current();
      if (!live) throw new HubError('NOT_READY', 'no ruleset is live yet (see GET /api/v1/rules/status)');
      return { body: await getRulesetVersion(deps.db, live.version, live.version) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/validate',
      summary: "Check candidate rules files with the server's validator (as before they go live) without making them live: every problem with file, rule, JSON pointer, line and column",
      tags: TAGS,
      role: 'operator',
      body: z.strictObject({ files: editorFilesSchema }),
      status: 200,
      response: validateResponse,
    },
    async ({ body }) => {
      const checked = await checkCandidateTexts(deps.db, body.files);
      return { body: { ok: checked.ok, problems: problemsOf(checked) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'put',
      path: '',
      summary:
        'Save rules files (admin): validated (422 RULES_INVALID with details.problems, nothing written), written atomically into RULES_DIR (files left out are removed), recorded as a new version with author and message, live in every process; 409 when expectedVersion is stale',
      tags: TAGS,
      role: 'admin',
      body: saveBody,
      status: 200,
      response: saveResponse,
    },
    async ({ body, req }) => {
      requireRole(req, 'admin', 'saving the rules');
      requireUnscoped(req, 'the rules');
      const saved = await saveRules(saveDeps(req, 'save', { files: Object.keys(body.files).sort() }), {
        files: body.files,
        message: body.message,
        by: `api:${principalOf(req).name}`,
        expectedVersion: body.expectedVersion,
      });
      return { body: savedOut(saved) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/versions',
      summary: 'Every ruleset version that went live, newest first: who, when, why, and which one is live',
      tags: TAGS,
      role: 'viewer',
      query: versionsQuery,
      response: z.strictObject({ items: z.array(versionSchema), total: z.number().int() }).openapi('RulesetVersions'),
    },
    async ({ query }) => ({ body: await listRulesetHistory(deps.db, query, liveVersionOf(deps)) }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/versions/:version', summary: 'One ruleset version with its files', tags: TAGS, role: 'viewer', response: versionDetailSchema },
    async ({ params }) => ({ body: await getRulesetVersion(deps.db, parseVersion(params.version), liveVersionOf(deps)) }),
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/versions/:version/rollback',
      summary: "Roll back (admin): version v's content goes live again as a new version, written to RULES_DIR like a save; audited",
      tags: TAGS,
      role: 'admin',
      body: z.strictObject({ message: z.string().trim().min(1).max(1000).optional() }),
      status: 200,
      response: rollbackResponse,
    },
    async ({ body, params, req }) => {
      requireRole(req, 'admin', 'rolling back the rules');
      requireUnscoped(req, 'the rules');
      const version = parseVersion(params.version);
      const saved = await rollbackRules(saveDeps(req, 'rollback', { rolledBackTo: version }), {
        version,
        message: body.message ?? null,
        by: `api:${principalOf(req).name}`,
      });
      return { body: { ...savedOut(saved), rolledBackTo: saved.rolledBackTo } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/sample-alerts',
      summary: "Recent stored alerts in POST /rules/test's alert shape, for the dry run's picker (operator; a scoped token sees its companies' alerts)",
      tags: TAGS,
      role: 'operator',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
      response: z.strictObject({ items: z.array(sampleSchema) }).openapi('RulesSampleAlerts'),
    },
    async ({ query, req }) => {
      requireRole(req, 'operator', 'sample alerts');
      const rows = await recentAlertSamples(deps.db, { limit: query.limit, scope: scopeOf(req) });
      return { body: { items: rows.map(sampleOut) } };
    },
  );
}
