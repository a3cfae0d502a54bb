import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

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

let cached: ReturnType<OpenApiGeneratorV31['generateDocument']> | undefined;
export function openApiDocument(): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  cached ??= new OpenApiGeneratorV31(openApiRegistry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Contract-aware alert hub',
      version: '1.0.0',
      description: 'Admin API and webhooks of the hub. Admin routes need `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
  });
  return cached;
}
