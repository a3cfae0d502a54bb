import type { Job, JobType, Queue } from 'bullmq';
import { Router } from 'express';
import { z } from 'zod';
import { withTimeout as withTimeoutOf } from '../../../lib/timeout';
import { HubError } from '../../../core/errors';
import { auditJobRetry, discardJob, type DiscardedJob } from '../../../app/receipts/dead-letters';
import { jobCatalog } from '../../../workers/catalog';
import { actorOf, type AppDeps } from '../../context';
import { instant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { assertAllCompanies } from './scope';

const MOUNT = '/queues';
const TAGS = ['queues'];

/** The process's BullMQ queues by name (AppDeps.services.queues); 503 NOT_READY in a process that has none. */
export function queuesOf(deps: AppDeps): Readonly<Record<string, Queue>> {
  const q = deps.services.queues;
  if (!q) throw new HubError('NOT_READY', 'the job queues are not available in this process');
  return q;
}

/** Job states an operator sees counted (BullMQ's getJobCounts names). */
export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const satisfies readonly JobType[];

/** Redis answers in milliseconds; a scrape or a page must not hang when it is gone. */
export const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  withTimeoutOf(p, ms, () => new HubError('NOT_READY', `${what}: Redis did not answer within ${ms} ms`));

const countsSchema = z.record(z.string(), z.number().int());
const queueSchema = z.strictObject({ name: z.string(), counts: countsSchema, paused: z.boolean() });

const jobSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    queue: z.string(),
    data: z.unknown().openapi({ description: 'The payload: ids and small JSON (never secrets).' }),
    failedReason: z.string().nullable(),
    stacktrace: z.array(z.string()),
    attemptsMade: z.number().int(),
    attempts: z.number().int().nullable().openapi({ description: 'Attempts allowed by the job catalog.' }),
    createdAt: instant,
    processedAt: instant.nullable(),
    finishedAt: instant.nullable(),
  })
  .openapi('FailedJob');

const at = (ms: number | undefined | null): string | null =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null;

const jobOut = (queue: string, j: Job): z.infer<typeof jobSchema> => ({
  id: String(j.id),
  name: j.name,
  queue,
  data: j.data as unknown,
  failedReason: j.failedReason ?? null,
  // The top frames say where it broke; the rest is noise in an API answer.
  stacktrace: (j.stacktrace ?? []).slice(-3).map((s) => s.split('\n').slice(0, 8).join('\n')),
  attemptsMade: j.attemptsMade,
  attempts: typeof j.opts.attempts === 'number' ? j.opts.attempts : null,
  createdAt: new Date(j.timestamp).toISOString(),
  processedAt: at(j.processedOn),
  finishedAt: at(j.finishedOn),
});

const JOB_ID = /^[A-Za-z0-9:_.-]{1,200}$/;

/** A job as the receipt use cases see it: the receipt ids an alerts job carries (none for other queues). */
export function discardedJobOf(queue: string, j: Job): DiscardedJob {
  const parsed = queue === 'alerts' ? jobCatalog.alerts.payload.safeParse(j.data) : undefined;
  return {
    queue,
    jobId: String(j.id),
    receiptIds: parsed?.success ? parsed.data.receiptIds : [],
    failedReason: j.failedReason ?? null,
    attemptsMade: j.attemptsMade,
  };
}
const REDIS_TIMEOUT_MS = 3000;

/**
 * Queue operations for operators (SPEC §7): counts per queue, failed jobs with their reasons,
 * retry a failed job, discard a failed job. The same actions as the bull-board dashboard at
 * /admin/queues, for scripts. Retries and discards are audited; a discarded alerts job's receipts
 * are dead-lettered (issue 13 item 2). Tokens that see every company only (./scope.ts).
 */
export function queuesRouter(deps: AppDeps): Router {
  const router = Router();

  const queueNamed = (name: string | undefined): Queue => {
    const queues = queuesOf(deps);
    const q = name !== undefined && Object.hasOwn(queues, name) ? queues[name] : undefined;
    if (!q) throw new HubError('NOT_FOUND', `queue ${name ?? ''} not found; queues: ${Object.keys(queues).join(', ')}`);
    return q;
  };
  const jobIn = async (q: Queue, id: string | undefined): Promise<Job> => {
    const job =
      id !== undefined && JOB_ID.test(id) ? await withTimeout(q.getJob(id), REDIS_TIMEOUT_MS, `job ${id}`) : undefined;
    if (!job) throw new HubError('NOT_FOUND', `job ${id ?? ''} not found in queue ${q.name}`);
    return job;
  };
  const assertFailed = async (job: Job, action: string): Promise<void> => {
    const state = await withTimeout(job.getState(), REDIS_TIMEOUT_MS, `job ${job.id}`);
    if (state !== 'failed')
      throw new HubError('CONFLICT', `job ${job.id} is ${state}; only failed jobs can be ${action}`);
  };

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'Job counts per queue and state',
      tags: TAGS,
      role: 'operator',
      response: z.strictObject({ items: z.array(queueSchema) }),
    },
    async ({ req }) => {
      assertAllCompanies(req, 'job queues');
      const items = await Promise.all(
        Object.entries(queuesOf(deps)).map(async ([name, q]) => {
          const [counts, paused] = await withTimeout(
            Promise.all([q.getJobCounts(...JOB_STATES), q.isPaused()]),
            REDIS_TIMEOUT_MS,
            `queue ${name}`,
          );
          return { name, counts, paused };
        }),
      );
      return { body: { items } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '/:name/failed',
      summary: 'Failed jobs of a queue with their reasons, newest first',
      tags: TAGS,
      role: 'operator',
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        offset: z.coerce.number().int().min(0).max(100_000).default(0),
      }),
      response: z.strictObject({ items: z.array(jobSchema), total: z.number().int() }),
    },
    async ({ params, query, req }) => {
      assertAllCompanies(req, 'job queues');
      const q = queueNamed(params.name);
      const [jobs, total] = await withTimeout(
        Promise.all([q.getFailed(query.offset, query.offset + query.limit - 1), q.getFailedCount()]),
        REDIS_TIMEOUT_MS,
        `queue ${q.name}`,
      );
      return { body: { items: jobs.filter((j): j is Job => Boolean(j)).map((j) => jobOut(q.name, j)), total } };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:name/jobs/:id/retry',
      summary: 'Retry a failed job now',
      tags: TAGS,
      role: 'operator',
      response: jobSchema,
    },
    async ({ params, req }) => {
      assertAllCompanies(req, 'job queues');
      const q = queueNamed(params.name);
      const job = await jobIn(q, params.id);
      await assertFailed(job, 'retried');
      await withTimeout(job.retry('failed'), REDIS_TIMEOUT_MS, `job ${job.id}`);
      await auditJobRetry(deps, discardedJobOf(q.name, job), { actor: actorOf(req), requestId: req.requestId ?? null, via: 'api' });
      const fresh = (await withTimeout(q.getJob(String(job.id)), REDIS_TIMEOUT_MS, `job ${job.id}`)) ?? job;
      return { body: jobOut(q.name, fresh) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'delete',
      path: '/:name/jobs/:id',
      summary: 'Discard a failed job; the alert receipts it carries are dead-lettered (GET /api/v1/dead-letters), not lost',
      tags: TAGS,
      role: 'operator',
      status: 204,
    },
    async ({ params, req, res }) => {
      assertAllCompanies(req, 'job queues');
      const q = queueNamed(params.name);
      const job = await jobIn(q, params.id);
      await assertFailed(job, 'discarded');
      // Its receipts are dead-lettered (audited, listed at /api/v1/dead-letters), never just dropped.
      await discardJob(deps, discardedJobOf(q.name, job), { actor: actorOf(req), requestId: req.requestId ?? null, via: 'api' }, async () => {
        await withTimeout(job.remove(), REDIS_TIMEOUT_MS, `job ${job.id}`);
      });
      res.status(204).end();
    },
  );

  return router;
}
