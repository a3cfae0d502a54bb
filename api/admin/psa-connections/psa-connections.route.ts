import { Router } from 'express';
import { z } from 'zod';
import { createConnection, connectionView, findConnection, removeConnection, testConnection, updateConnection } from '../../../app/psa/connections';
import { listPsaConnections } from '../../../db/queries/psa-connections';
import type { AppDeps } from '../../context';
import { defineRoute } from '../../route';
import { audit, requireUnscoped } from '../audit/admin-write';
import { createAudited, pgErrors } from '../crud';
import { connectionSchema, connectionTestSchema, createConnectionBody, patchConnectionBody } from './schemas';

const MOUNT = '/psa-connections';
const TAGS = ['psa'];
const DB_ERRORS = pgErrors({ psa_connections_name_unique: 'name', psa_connections_name_check: 'name' });

/**
 * SPEC §9 PSA connections. Global objects (admin, unscoped tokens only for writes); secrets are
 * sealed at rest, never returned, logged or audited (the audit rows carry the API view, which has
 * none, plus whether secrets changed).
 */
export function psaConnectionsRouter(deps: AppDeps): Router {
  const router = Router();
  const keys = deps.config.HUB_SECRET_KEYS;
  const view = (row: Parameters<typeof connectionView>[0]) => connectionView(row, keys);

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '', summary: 'List PSA connections (secrets are never shown)', tags: TAGS, role: 'admin', response: z.strictObject({ items: z.array(connectionSchema) }) },
    async () => ({ body: { items: (await listPsaConnections(deps.db)).map(view) } }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '/:name', summary: 'Get a PSA connection', tags: TAGS, role: 'admin', response: connectionSchema },
    async ({ params }) => ({ body: view(await findConnection(deps.db, params.name ?? '')) }),
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '', summary: 'Configure a PSA connection (autotask, connectwise, webhook)', tags: TAGS, role: 'admin', body: createConnectionBody, status: 201, response: connectionSchema },
    async ({ body, req }) => {
      requireUnscoped(req, 'PSA connections');
      const created = await createAudited(deps.db, req, DB_ERRORS, 'psa_connection', async (trx) => view(await createConnection(trx, body, keys)));
      deps.logger.info({ connection: created.name, type: created.type }, 'PSA connection created');
      return { status: 201, body: created };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'patch', path: '/:name', summary: 'Change a PSA connection (config merged key by key; the name is fixed: records refer to it in psaRefs)', tags: TAGS, role: 'admin', body: patchConnectionBody, response: connectionSchema },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'PSA connections');
      const after = await DB_ERRORS(() =>
        deps.db.transaction(async (trx) => {
          const r = await updateConnection(trx, params.name ?? '', body, keys);
          const out = view(r.after);
          await audit(trx, req, { action: 'update', entityType: 'psa_connection', entityId: out.id, before: view(r.before), after: { ...out, secretsChanged: r.secretsChanged } });
          return out;
        }),
      );
      return { body: after };
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'delete', path: '/:name', summary: 'Delete a PSA connection (its deliveries go with it; tickets already in the PSA stay there)', tags: TAGS, role: 'admin', status: 204 },
    async ({ params, req, res }) => {
      requireUnscoped(req, 'PSA connections');
      await deps.db.transaction(async (trx) => {
        const row = await removeConnection(trx, params.name ?? '');
        await audit(trx, req, { action: 'delete', entityType: 'psa_connection', entityId: String(row.id), before: view(row) });
      });
      res.status(204).end();
    },
  );

  defineRoute(
    router,
    MOUNT,
    { method: 'post', path: '/:name/test', summary: 'Call the PSA with the stored config: what worked and what did not', tags: TAGS, role: 'admin', response: connectionTestSchema },
    async ({ params }) => ({
      body: await testConnection(deps.db, params.name ?? '', keys, {
        now: () => new Date(),
        autotaskZoneLookupUrl: deps.config.HUB_AUTOTASK_ZONE_LOOKUP_URL,
        timeoutMs: deps.config.HUB_PSA_TIMEOUT_MS,
      }, deps.services.psaCallBudget),
    }),
  );

  return router;
}
