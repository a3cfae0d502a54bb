import type { Request, Router } from 'express';
import { z } from 'zod';
import { HubError } from '../../../core/errors';
import { REPLAY_FIELDS, requestReplay } from '../../../app/rules/replay-job';
import { checkPeriod, parseInstant, parsePeriodStart } from '../../../app/rules/replay-period';
import { getReplay, listReplayChanges, replayCounts } from '../../../db/queries/rule-replays';
import type { RuleReplayRow } from '../../../db/tables';
import { jobOptions } from '../../../workers/catalog';
import { principalOf, type AppDeps } from '../../context';
import { roleAtLeast } from '../../middleware/auth';
import { instant, parseId } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { audit } from '../audit/admin-write';
import { queuesOf } from '../queues/queues.route';
import { liveRuleset } from './live-rules';
import { editorFilesSchema } from './schemas';

/**
 * Replays for large periods (issue 17 item 2 "Replay"): the candidate is validated and the replay
 * queued (202); the `rule-replays` worker decides the period's alerts in batches and writes its
 * progress and every changed decision to Postgres, which these routes read (paged, per field).
 * Operators with an unscoped token only: a replay reads every company's alerts.
 */

const MOUNT = '/rules';
const TAGS = ['rules'];
const DEFAULT_PERIOD = '7d';

function requireReplayAccess(req: Request): void {
  const p = principalOf(req);
  if (!roleAtLeast(p.role, 'operator')) throw new HubError('FORBIDDEN', 'replays need the operator role');
  if (!p.scope.all) throw new HubError('FORBIDDEN', "a company-scoped token cannot replay rules over every company's alerts");
}

const valueSchema = z.union([z.string(), z.boolean(), z.null()]);
const fieldEnum = z.enum(REPLAY_FIELDS);

const replaySchema = z
  .strictObject({
    id: z.string(),
    state: z.enum(['queued', 'running', 'done', 'failed']),
    since: instant,
    until: instant,
    progress: z.strictObject({ done: z.number().int(), total: z.number().int().nullable().openapi({ description: 'Firing alerts of the period; null until the worker counted them.' }) }),
    counts: z.strictObject({
      total: z.number().int().openapi({ description: 'Alerts evaluated so far.' }),
      changed: z.number().int(),
      byField: z.record(z.string(), z.number().int()).openapi({ description: `Changed alerts per field (${REPLAY_FIELDS.join(', ')}).` }),
    }),
    error: z.string().nullable(),
    liveVersion: z.number().int().openapi({ description: 'The live version the candidate is compared with.' }),
    candidateHash: z.string(),
    createdAt: instant,
    createdBy: z.string(),
    startedAt: instant.nullable(),
    finishedAt: instant.nullable(),
  })
  .openapi('RulesReplay');

const changeSchema = z
  .strictObject({
    alertId: z.string(),
    occurredAt: instant,
    title: z.string(),
    device: z.strictObject({ id: z.string().nullable(), hostname: z.string().nullable() }),
    changes: z.array(z.strictObject({ field: fieldEnum, before: valueSchema, after: valueSchema })),
  })
  .openapi('RulesReplayChange');

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

async function replayOut(deps: AppDeps, row: RuleReplayRow): Promise<z.infer<typeof replaySchema>> {
  const counts = await replayCounts(deps.db, String(row.id));
  return {
    id: String(row.id),
    state: row.state,
    since: new Date(row.since).toISOString(),
    until: new Date(row.until).toISOString(),
    progress: { done: row.progress_done, total: row.progress_total },
    counts: { total: row.progress_done, changed: counts.changed, byField: Object.fromEntries(REPLAY_FIELDS.map((f) => [f, counts.byField[f] ?? 0])) },
    error: row.error,
    liveVersion: row.live_version,
    candidateHash: row.candidate_hash,
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

async function replayOr404(deps: AppDeps, raw: string | undefined): Promise<RuleReplayRow> {
  const id = parseId(raw, 'replay');
  const row = await getReplay(deps.db, id);
  if (!row) throw new HubError('NOT_FOUND', `replay ${id} not found`);
  return row;
}

export function registerReplayRoutes(router: Router, deps: AppDeps): void {
  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/replays',
      summary:
        'Replay a candidate ruleset over the stored alerts of a period (default the last 7 days) in the background: 202 with its id; progress and changed decisions at GET /rules/replays/{id}. Invalid candidate → 422 with details.problems',
      tags: TAGS,
      role: 'operator',
      body: z.strictObject({
        candidate: z.strictObject({ files: editorFilesSchema }),
        since: z.string().trim().min(1).optional().openapi({ description: 'A duration before now (`7d`, `24h`, `2w`) or an ISO 8601 instant. Default 7d.', example: '7d' }),
        until: z.string().trim().min(1).optional().openapi({ format: 'date-time', description: 'End of the period (exclusive). Default: now.' }),
      }),
      status: 202,
      response: z.strictObject({ id: z.string(), state: z.enum(['queued', 'running', 'done', 'failed']) }).openapi('RulesReplayQueued'),
    },
    async ({ body, req }) => {
      requireReplayAccess(req);
      const now = new Date();
      const since = parsePeriodStart(body.since ?? DEFAULT_PERIOD, now);
      const until = body.until === undefined ? now : parseInstant(body.until, 'until');
      checkPeriod(since, until);
      const live = liveRuleset(deps);
      const queue = queuesOf(deps)['rule-replays'];
      if (!queue) throw new HubError('NOT_READY', 'the rule-replays queue is not available in this process');
      const row = await requestReplay(deps.db, {
        files: body.candidate.files,
        since,
        until,
        liveVersion: live.version,
        by: `api:${principalOf(req).name}`,
        enqueue: async (replayId) => {
          await queue.add('replay', { v: 1, replayId }, { ...jobOptions('rule-replays'), jobId: `replay-${replayId}` });
        },
      });
      await audit(deps.db, req, {
        action: 'replay',
        entityType: 'rule_replay',
        entityId: String(row.id),
        after: { since: since.toISOString(), until: until.toISOString(), liveVersion: live.version, candidateHash: row.candidate_hash, files: Object.keys(body.candidate.files).sort() },
      });
      return { status: 202, body: { id: String(row.id), state: row.state } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/replays/:id', summary: 'A replay: state, period, progress, and how many decisions would change, per field', tags: TAGS, role: 'operator', response: replaySchema },
    async ({ params, req }) => {
      requireReplayAccess(req);
      return { body: await replayOut(deps, await replayOr404(deps, params.id)) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/replays/:id/changes',
      summary: 'The alerts whose decision a replay found changed, in alert order, each field before → after (paged; `field` keeps those where that field changed)',
      tags: TAGS,
      role: 'operator',
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(500).default(50),
        offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
        field: fieldEnum.optional(),
      }),
      response: z.strictObject({ items: z.array(changeSchema), total: z.number().int() }).openapi('RulesReplayChanges'),
    },
    async ({ params, query, req }) => {
      requireReplayAccess(req);
      const row = await replayOr404(deps, params.id);
      const page = await listReplayChanges(deps.db, { id: String(row.id), limit: query.limit, offset: query.offset, field: query.field });
      return {
        body: {
          items: page.items.map((c) => ({
            alertId: String(c.alert_id),
            occurredAt: new Date(c.occurred_at).toISOString(),
            title: c.title,
            device: c.device as { id: string | null; hostname: string | null },
            changes: c.changes as Array<{ field: (typeof REPLAY_FIELDS)[number]; before: string | boolean | null; after: string | boolean | null }>,
          })),
          total: page.total,
        },
      };
    },
  );
}
