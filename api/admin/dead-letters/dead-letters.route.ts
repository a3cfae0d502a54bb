import { Router } from 'express';
import { z } from 'zod';
import { deadLetterPage, redriveDeadLetter } from '../../../app/receipts/dead-letters';
import { HubError } from '../../../core/errors';
import { actorOf, service, type AppDeps } from '../../context';
import { instant } from '../../openapi/schemas';
import { defineRoute } from '../../route';
import { assertAllCompanies } from '../queues/scope';

const MOUNT = '/dead-letters';
const TAGS = ['queues'];


const deadLetterSchema = z
  .strictObject({
    receiptId: z.string(),
    alertId: z.string(),
    source: z.string(),
    sourceAlertId: z.string(),
    title: z.string(),
    severity: z.string(),
    hostname: z.string().nullable(),
    receivedAt: instant,
    deadLetteredAt: instant,
    deadLetteredBy: z.string().openapi({ description: 'The operator (token) who discarded its job, or receipt-sweeper.' }),
    reason: z.string(),
    lastError: z.string().nullable().openapi({ description: 'The last error a worker recorded for the receipt.' }),
    attempts: z.number().int(),
    redrives: z.number().int(),
    jobId: z.string().nullable(),
  })
  .openapi('DeadLetter');

const RECEIPT_ID = /^\d{1,19}$/;

/**
 * Dead-lettered alert receipts (issue 13 item 2): accepted alerts that are not applied because an
 * operator discarded their job or the sweeper gave up on them. Listed for operators, each
 * re-drivable; both audited. Tokens that see every company only (api/admin/queues/scope.ts).
 */
export function deadLettersRouter(deps: AppDeps): Router {
  const router = Router();

  defineRoute(
    router,
    MOUNT,
    {
      method: 'get',
      path: '',
      summary: 'Dead-lettered alert receipts (not processed; discarded by an operator or given up by the sweeper), newest first',
      tags: TAGS,
      role: 'operator',
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(500).default(50),
        offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      }),
      response: z.strictObject({ items: z.array(deadLetterSchema), total: z.number().int() }),
    },
    async ({ query, req }) => {
      assertAllCompanies(req, 'dead letters');
      return { body: await deadLetterPage(deps, query) };
    },
  );

  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:receiptId/redrive',
      summary: 'Re-drive a dead-lettered receipt: it leaves the dead letters and is enqueued again (audited)',
      tags: TAGS,
      role: 'operator',
      status: 202,
      response: z.strictObject({ receiptId: z.string(), jobId: z.string() }),
    },
    async ({ params, req }) => {
      assertAllCompanies(req, 'dead letters');
      const id = params.receiptId ?? '';
      if (!RECEIPT_ID.test(id)) throw new HubError('VALIDATION_FAILED', `receiptId: must be a receipt id (digits), got "${id.slice(0, 40)}"`, [{ field: 'receiptId', message: 'must be digits' }]);
      const jobs = service(deps, 'receiptJobs');
      return { status: 202, body: await redriveDeadLetter({ db: deps.db, jobs }, id, { actor: actorOf(req), requestId: req.requestId ?? null }) };
    },
  );

  return router;
}
