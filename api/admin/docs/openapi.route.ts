import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../../context';
import { READINESS_STATES } from '../../health.route';
import { openApiDocument } from '../../openapi/registry';
import { defineRoute, registerDoc } from '../../route';

const MOUNT = '/openapi.json';

const openApiSchema = z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) }).openapi('OpenApiDocument');

/**
 * Routes outside the admin API that have no defineRoute of their own: documented here so the
 * document covers every route. (The webhook route documents itself in api/webhooks.)
 */
function documentPlatformRoutes(): void {
  registerDoc('/healthz', {
    method: 'get',
    summary: 'Liveness: the process is up',
    tags: ['operations'],
    response: z.strictObject({ status: z.literal('ok') }),
  });
  registerDoc('/readyz', {
    method: 'get',
    summary: 'Readiness: Postgres, Redis and the ruleset are ready (503 otherwise, same body; each check ok, down or timeout, never the error text)',
    tags: ['operations'],
    response: z.looseObject({ status: z.enum(['ready', 'not ready']), checks: z.record(z.string(), z.enum(READINESS_STATES)) }),
  });
}

/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the same zod schemas that
 * validate requests. Behind the admin token (any role): it is not secret, but it maps the whole
 * attack surface of an internal service, and the docs page sends the token it is given.
 */
export function openApiRouter(_deps: AppDeps): Router {
  documentPlatformRoutes();
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    { method: 'get', path: '', summary: 'The OpenAPI 3.1 document of this API', tags: ['docs'], role: 'viewer', response: openApiSchema },
    () => ({ body: openApiDocument() }),
  );
  return router;
}
