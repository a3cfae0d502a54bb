import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import type { Role } from '../db/tables';
import { errorBodySchema, openApiRegistry } from './openapi/registry';
import { parseWith } from './validate';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: Method;
  /** Express path relative to the router's mount prefix, e.g. '/:id'. */
  path: string;
  summary: string;
  tags?: string[];
  /** Minimum role, for the docs (enforced by the router's policy). */
  role?: Role;
  /** Strict zod schema of the JSON body (unknown keys → 400). */
  body?: B;
  /** zod schema of the query string. */
  query?: Q;
  /** Success status and response schema, for the docs and conformance tests. */
  status?: number;
  response?: z.ZodType;
  /** Other content types the route can answer with (e.g. text/csv). */
  produces?: string[];
}

export interface Parsed<B, Q> {
  body: B;
  query: Q;
  params: Record<string, string>;
  req: Request;
  res: Response;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

/** What a handler returns: a JSON body (status from the spec, default 200) or nothing when it wrote the response itself. */
export type RouteResult = { status?: number; body: unknown } | undefined | void;

/**
 * Defines one route: parses body and query with its zod schemas (400 naming the field on failure),
 * registers it in the OpenAPI document under `/api/v1${mountPath}${path}`, and forwards errors to
 * the one error middleware.
 */
export function defineRoute<B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
  router: Router,
  mountPath: string,
  spec: RouteSpec<B, Q>,
  handler: (p: Parsed<Infer<B>, Infer<Q>>) => Promise<RouteResult> | RouteResult,
): void {
  registerDoc(`/api/v1${mountPath}${spec.path}`, spec);
  router[spec.method](spec.path, (req: Request, res: Response, next: NextFunction) => {
    try {
      const body = (spec.body ? parseWith(spec.body, req.body ?? {}, 'body') : undefined) as Infer<B>;
      const query = (spec.query ? parseWith(spec.query, req.query, 'query') : undefined) as Infer<Q>;
      const params = req.params as Record<string, string>;
      Promise.resolve(handler({ body, query, params, req, res }))
        .then((out) => {
          if (out === undefined || res.headersSent) return;
          res.status(out.status ?? spec.status ?? 200).json(out.body);
        })
        .catch(next);
    } catch (e) {
      next(e);
    }
  });
}

/** Documents a route that is not built with defineRoute (webhooks, metrics, dashboards). */
export function registerDoc(fullPath: string, spec: Omit<RouteSpec<z.ZodType | undefined, z.ZodType | undefined>, 'path'>): void {
  const openApiPath = fullPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  const paramNames = [...fullPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? '');
  const params = paramNames.length
    ? z.object(Object.fromEntries(paramNames.map((n) => [n, z.string()])))
    : undefined;
  const status = spec.status ?? 200;
  const content: Record<string, { schema: z.ZodType }> = {};
  if (spec.response) content['application/json'] = { schema: spec.response };
  for (const type of spec.produces ?? []) content[type] = { schema: z.string() };
  openApiRegistry.registerPath({
    method: spec.method,
    path: openApiPath,
    summary: spec.summary,
    tags: spec.tags,
    description: spec.role ? `Requires role: ${spec.role}.` : undefined,
    security: fullPath.startsWith('/api/') ? [{ bearer: [] }] : undefined,
    request: {
      ...(params ? { params } : {}),
      ...(spec.query && spec.query instanceof z.ZodObject ? { query: spec.query } : {}),
      ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
    },
    responses: {
      [status]: { description: 'success', ...(Object.keys(content).length ? { content } : {}) },
      default: { description: 'error', content: { 'application/json': { schema: errorBodySchema } } },
    },
  });
}
