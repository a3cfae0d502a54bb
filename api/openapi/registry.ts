import './extend-zod';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * One registry for the whole API: every route defined through api/route.ts registers itself here,
 * so /api/v1/openapi.json is generated from the same zod schemas that validate the requests.
 */
export const openApiRegistry = new OpenAPIRegistry();

openApiRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

export const errorBodySchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error');

type RouteConfig = Extract<(typeof openApiRegistry.definitions)[number], { type: 'route' }>['route'];

/**
 * Every documented route once. A route module that is built twice in one process (two apps in a
 * test, a server that rebuilds its app) registers its routes twice; the first registration wins.
 */
export function routeDefinitions(): RouteConfig[] {
  const seen = new Set<string>();
  const out: RouteConfig[] = [];
  for (const d of openApiRegistry.definitions) {
    if (d.type !== 'route') continue;
    const key = `${d.route.method} ${d.route.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d.route);
  }
  return out;
}

/** The documented route for `method` and OpenAPI `path` (e.g. '/api/v1/companies/{id}'). */
export function findRoute(method: string, path: string): RouteConfig | undefined {
  return routeDefinitions().find((r) => r.method === method.toLowerCase() && r.path === path);
}

/**
 * The zod schema of a route's JSON response for `status`, so a test can check a real response
 * against exactly what the document promises (no second JSON-schema validator needed).
 */
export function responseSchemaFor(method: string, path: string, status: number): z.ZodType | undefined {
  const response = findRoute(method, path)?.responses[String(status)];
  if (!response || !('content' in response) || !response.content) return undefined;
  const media = response.content['application/json'];
  const schema = media && 'schema' in media ? media.schema : undefined;
  return schema instanceof z.ZodType ? schema : undefined;
}

// Regenerated when routes were added since (routers are built after this module is loaded).
let cached: { count: number; doc: ReturnType<OpenApiGeneratorV31['generateDocument']> } | undefined;
export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const definitions = openApiRegistry.definitions;
  if (cached?.count === definitions.length) return cached.doc;
  const routes = new Set<unknown>(routeDefinitions());
  const unique = definitions.filter((d) => d.type !== 'route' || routes.has(d.route));
  const doc = new OpenApiGeneratorV31(unique).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Contract-aware alert hub',
      version: '1.0.0',
      description: 'Admin API and webhooks of the hub. Admin routes need `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
  });
  cached = { count: definitions.length, doc };
  return doc;
}
