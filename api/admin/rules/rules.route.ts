import fs from 'node:fs/promises';
import path from 'node:path';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { HubError, validationError } from '../../../core/errors';
import { rulesetWindows } from '../../../app/maintenance/ruleset-windows';
import { SlaCache } from '../../../app/slas/sla-cache';
import type { RuleIssue } from '../../../rules/engine/types';
import { compileCandidateTexts, rulesInvalid } from '../../../app/rules/candidate';
import { diffRules, type RulesCandidate } from '../../../app/rules/diff-rules';
import { checkPeriod, parseInstant, parsePeriodStart } from '../../../app/rules/replay-period';
import { principalOf, scopeOf, type AppDeps } from '../../context';
import { roleAtLeast } from '../../middleware/auth';
import { instant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit, requireUnscoped } from '../audit/admin-write';
import { editorFilesSchema, namedRefSchema, testAlertSchema } from './schemas';
import { dryRunAlert } from '../../../app/rules/dry-run';
import { liveRuleset, rulesControl } from './live-rules';
import { registerRulesEditorRoutes } from './editor.route';
import { registerReplayRoutes } from './replays.route';

/**
 * The rules API (R-RUL-3, R-RUL-4, issue points 5, 7, 8): what is live and the last refused edit,
 * reload on demand, the dry run of one alert, and the replay of a candidate ruleset over the
 * stored alerts of a period. Only reload changes anything.
 *
 * One piece (about 300 lines): the four routes (status, reload, dry run, replay) with the response
 * schemas only they use; each route is a thin adapter over app/rules/ (request bodies: schemas.ts).
 */

const MOUNT = '/rules';
const TAGS = ['rules'];

const issueSchema = z
  .strictObject({
    severity: z.enum(['error', 'warning']),
    file: z.string(),
    rule: z.string().nullable(),
    pointer: z.string().openapi({ description: 'RFC 6901 JSON pointer into the file.' }),
    message: z.string(),
    line: z.number().optional(),
    column: z.number().optional(),
  })
  .openapi('RuleIssue');

const statusSchema = z
  .strictObject({
    live: z
      .strictObject({
        version: z.number(),
        contentHash: z.string(),
        activatedAt: instant.nullable(),
        activatedBy: z.string().nullable(),
        ruleCount: z.number(),
        warnings: z.array(issueSchema),
      })
      .nullable(),
    lastError: z
      .strictObject({ at: instant, contentHash: z.string(), by: z.string(), errors: z.array(issueSchema) })
      .nullable()
      .openapi({ description: 'The latest refused edit while it is pending (the live version stayed live).' }),
    watching: z.boolean(),
    dir: z.string(),
    maintenanceWindows: z.strictObject({
      count: z.number().openapi({ description: 'Valid windows declared in the live rules files.' }),
      issues: z.array(issueSchema).openapi({ description: 'Windows in the live rules files that are invalid and therefore ignored.' }),
    }),
  })
  .openapi('RulesStatus');

const reloadSchema = z
  .strictObject({
    changed: z.boolean(),
    version: z.number(),
    contentHash: z.string(),
    warnings: z.array(issueSchema),
    status: statusSchema,
  })
  .openapi('RulesReload');

const testBody = z.strictObject({
  alert: testAlertSchema,
  candidate: z
    .strictObject({ files: editorFilesSchema })
    .optional()
    .openapi({ description: 'Run these rules files (name → text) instead of the live ruleset; invalid → 422 RULES_INVALID with details.problems.' }),
  at: z
    .string()
    .optional()
    .openapi({ format: 'date-time', description: "Decide as of this instant (links, time facts, windows) instead of the alert's occurredAt." }),
});

const testResponse = z
  .strictObject({
    outcome: z.enum(['ticket', 'suppress', 'maintenance', 'resolve', 'occurrence', 'stale', 'inhibited']),
    contractId: z.string().nullable().openapi({ description: 'The contract the ticket would carry (null: none, left for triage, or no ticket).' }),
    serviceId: z.string().nullable(),
    slaId: z.string().nullable(),
    decision: z
      .looseObject({
        outcome: z.enum(['ticket', 'occurrence', 'suppress', 'maintenance', 'hold', 'none']),
        contract: namedRefSchema.nullable(),
        service: namedRefSchema.nullable(),
        sla: namedRefSchema.nullable(),
        priority: z.enum(['critical', 'high', 'medium', 'low']).nullable(),
        dueDates: z.strictObject({ response: instant, resolutionPlan: instant, resolution: instant }).nullable(),
        explanation: z.string().openapi({ description: 'In plain words: which rule chose the contract, from which link or default.' }),
      })
      .openapi({ description: "The engine's decision (assignment, rules fired, …) with what it names: contract, service and SLA by name, priority, due dates." }),
    trace: z.array(z.record(z.string(), z.unknown())),
    facts: z.record(z.string(), z.unknown()),
    referenceAgrees: z.boolean(),
    maintenanceWindow: z
      .strictObject({ key: z.string(), id: z.string().nullable(), name: z.string(), origin: z.enum(['api', 'rules']), file: z.string().nullable(), processAfter: z.boolean() })
      .nullable(),
    openTicket: z.strictObject({ id: z.string(), status: z.string() }).nullable(),
    alert: z.strictObject({ source: z.string(), sourceAlertId: z.string(), dedupKey: z.string(), occurredAt: instant }),
    company: z.strictObject({ id: z.string(), name: z.string() }).nullable(),
    device: z.strictObject({ id: z.string(), hostname: z.string() }).nullable(),
    ruleset: z.strictObject({ version: z.number(), contentHash: z.string() }),
    storm: z
      .strictObject({
        inhibitedBy: z.strictObject({ ticketId: z.string(), rule: z.string() }).nullable(),
        relatedTo: z.strictObject({ ticketId: z.string() }).nullable(),
        group: z
          .strictObject({
            rule: z.string(),
            by: z.record(z.string(), z.unknown()),
            openParentTicketId: z.string().nullable(),
            candidatesInWindow: z.number().int(),
            moreThan: z.number().int(),
            withinSeconds: z.number().int(),
            step: z.enum(['join', 'open-parent', 'candidate']),
          })
          .nullable(),
        says: z.array(z.string()),
      })
      .openapi({ description: 'R-STORM-1: what the inhibit and group rules would do ("would be inhibited by ticket #…", "would join group …").' }),
  })
  .openapi('RulesTestResult');

const MAX_CANDIDATE_FILES = 200;
const diffBody = z.strictObject({
  candidate: z.union([
    z.strictObject({
      files: z
        .record(z.string(), z.unknown())
        .refine((f) => Object.keys(f).length > 0, { message: 'give at least one rules file' })
        .refine((f) => Object.keys(f).length <= MAX_CANDIDATE_FILES, { message: `at most ${MAX_CANDIDATE_FILES} files` })
        .openapi({ description: 'Rules files by name ("10-backup.json"): each the parsed JSON content, or its text (then errors carry line and column).' }),
    }),
    z.strictObject({
      dir: z
        .string()
        .trim()
        .min(1)
        .max(1000)
        .openapi({ description: "Admin only: a directory on the server, inside RULES_DIR's parent (e.g. a sibling `rules.next/`)." }),
    }),
  ]),
  since: z.string().trim().min(1).openapi({ description: 'A duration before now (`7d`, `24h`, `90m`, `2w`) or an ISO 8601 instant.', example: '7d' }),
  until: z.string().trim().min(1).optional().openapi({ format: 'date-time', description: 'End of the period (exclusive). Default: now.' }),
  limit: z.number().int().min(1).max(100_000).optional().openapi({ description: 'At most this many alerts are evaluated. Default 10000.' }),
});

const materialSchema = z.strictObject({
  outcome: z.enum(['ticket', 'suppress', 'maintenance']),
  contract: z.string().nullable(),
  service: z.string().nullable(),
  sla: z.string().nullable(),
  priority: z.string().nullable(),
  queue: z.string().nullable(),
  needsTriage: z.boolean(),
  suppressReason: z.string().nullable(),
  maintenanceWindow: z.string().nullable(),
});

const diffResponse = z
  .strictObject({
    live: z.strictObject({ version: z.number(), contentHash: z.string() }),
    candidate: z.strictObject({ contentHash: z.string(), ruleCount: z.number(), warnings: z.array(issueSchema) }),
    since: instant,
    until: instant,
    alertsEvaluated: z.number(),
    truncated: z.boolean(),
    changed: z.number(),
    unchanged: z.number(),
    changes: z.array(z.strictObject({ from: materialSchema, to: materialSchema, count: z.number(), examples: z.array(z.string()) })),
    storms: z
      .strictObject({
        alertsEvaluated: z.number(),
        truncated: z.boolean(),
        live: z.strictObject({ muted: z.number(), ticketsPrevented: z.number() }),
        candidate: z.strictObject({ muted: z.number(), ticketsPrevented: z.number() }),
        ticketsPrevented: z.number(),
        examples: z.array(z.string()),
      })
      .nullable()
      .openapi({ description: 'R-STORM-1: the period replayed with both rulesets\' inhibit rules — tickets the candidate would prevent (null: no inhibit rules).' }),
  })
  .openapi('RulesDiff');

const DEFAULT_REPLAY_LIMIT = 10_000;

function requireAdmin(req: Request, what: string): void {
  if (!roleAtLeast(principalOf(req).role, 'admin')) throw new HubError('FORBIDDEN', `${what} needs the admin role`);
}

/**
 * A candidate directory on the server: only inside RULES_DIR's parent (so an admin can compare a
 * sibling copy such as `rules.next/`, but the API cannot be used to read arbitrary paths), after
 * resolving symlinks, and only its `*.json` files directly inside.
 */
async function candidateDir(rulesDir: string, dir: string): Promise<string> {
  const root = await fs.realpath(path.dirname(path.resolve(rulesDir))).catch(() => path.dirname(path.resolve(rulesDir)));
  let target: string;
  try {
    target = await fs.realpath(path.resolve(root, dir));
  } catch {
    throw validationError('candidate.dir', `${dir} does not exist`);
  }
  if (!target.startsWith(`${root}${path.sep}`)) throw validationError('candidate.dir', "must be a directory inside RULES_DIR's parent directory");
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) throw validationError('candidate.dir', `${dir} is not a directory`);
  return target;
}

const statusBody = (deps: AppDeps): z.infer<typeof statusSchema> => {
  const control = rulesControl(deps);
  const s = control.status();
  const windows = rulesetWindows(control.current());
  return {
    live: s.live ? { ...s.live, warnings: [...s.live.warnings] } : null,
    lastError: s.lastError ?? null,
    watching: s.watching,
    dir: s.dir,
    maintenanceWindows: { count: windows.windows.length, issues: windows.issues },
  };
};

export function rulesRouter(deps: AppDeps): Router {
  const router = Router();
  const slas = new SlaCache();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/status',
      summary: 'The live ruleset (version, content hash, when and by whom), and the last refused edit with file, rule and pointer',
      tags: TAGS,
      role: 'viewer',
      response: statusSchema,
    },
    () => ({ body: statusBody(deps) }),
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/reload',
      summary: 'Read RULES_DIR now (admin). An invalid edit is refused (422 RULES_INVALID naming file, rule and pointer); the live ruleset stays',
      tags: TAGS,
      role: 'admin',
      status: 200,
      response: reloadSchema,
    },
    async ({ req }) => {
      requireAdmin(req, 'reloading the rules');
      requireUnscoped(req, 'the rules');
      const by = `api:${principalOf(req).name}`;
      const outcome = await rulesControl(deps).reload(by);
      if (!outcome.ok) {
        await audit(deps.db, req, { action: 'reload-refused', entityType: 'ruleset', entityId: null, after: { contentHash: outcome.contentHash, errors: outcome.errors.slice(0, 50) } });
        const err = rulesInvalid(outcome.errors, 'the rules files');
        throw new HubError('RULES_INVALID', err.message, { errors: outcome.errors, warnings: outcome.warnings, liveVersion: outcome.liveVersion });
      }
      await audit(deps.db, req, {
        action: 'reload',
        entityType: 'ruleset',
        entityId: String(outcome.version),
        after: { version: outcome.version, contentHash: outcome.contentHash, changed: outcome.changed },
      });
      return { body: { changed: outcome.changed, version: outcome.version, contentHash: outcome.contentHash, warnings: outcome.warnings, status: statusBody(deps) } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/test',
      summary: 'Dry run: the decision for one alert (generic shape) and its trace — each rule fired or not, the failed condition, the fact values; nothing is created',
      tags: TAGS,
      role: 'operator',
      body: testBody,
      status: 200,
      response: testResponse,
    },
    async ({ body, req }) => {
      const at = body.at === undefined ? undefined : parseInstant(body.at, 'at');
      const ruleset = body.candidate ? (await compileCandidateTexts(deps.db, body.candidate.files)).ruleset : liveRuleset(deps);
      const result = await dryRunAlert(deps.db, slas, ruleset, { alert: body.alert, at, now: new Date(), scope: scopeOf(req), fallbackZone: deps.config.HUB_RENEWAL_TIMEZONE });
      return { body: result };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/diff',
      summary: 'Replay: decide the stored alerts of a period with a candidate ruleset and the live one; report which decisions would change (no ticket is touched)',
      tags: TAGS,
      role: 'operator',
      body: diffBody,
      status: 200,
      response: diffResponse,
    },
    async ({ body, req }) => {
      // The replay reads every company's alerts.
      if (!scopeOf(req).all) throw new HubError('FORBIDDEN', 'a company-scoped token cannot replay rules over every company\'s alerts');
      const now = new Date();
      const since = parsePeriodStart(body.since, now);
      const until = body.until === undefined ? now : parseInstant(body.until, 'until');
      checkPeriod(since, until);
      const live = liveRuleset(deps);

      let candidate: RulesCandidate;
      if ('dir' in body.candidate) {
        requireAdmin(req, 'a candidate directory on the server');
        candidate = { dir: await candidateDir(deps.config.RULES_DIR, body.candidate.dir) };
      } else {
        candidate = { files: Object.entries(body.candidate.files).map(([name, content]) => ({ name, content })) };
      }
      const { candidate: compiled, report, storms } = await diffRules(deps.db, { live, candidate, since, until, limit: body.limit ?? DEFAULT_REPLAY_LIMIT, slas, fallbackZone: deps.config.HUB_RENEWAL_TIMEZONE });
      const warnings: RuleIssue[] = compiled.warnings;
      return {
        body: {
          live: { version: live.version, contentHash: live.contentHash },
          candidate: { contentHash: compiled.ruleset.contentHash, ruleCount: compiled.ruleset.ruleCount, warnings },
          since: since.toISOString(),
          until: until.toISOString(),
          ...report,
          storms,
        },
      };
    },
  );

  registerRulesEditorRoutes(router, deps);
  registerReplayRoutes(router, deps);
  return router;
}
