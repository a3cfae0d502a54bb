import { Router } from 'express';
import { z } from 'zod';
import { registerPsaWebhook } from '../../../app/psa/register-webhook';
import { actorOf, type AppDeps } from '../../context';
import { defineRoute } from '../../route';
import { requireUnscoped } from '../audit/admin-write';

const MOUNT = '/psa-connections';
const TAGS = ['psa'];

export const registerWebhookBody = z.strictObject({
  url: z.string().min(1).max(2000).openapi({ description: "The hub's public base URL (https; http only for localhost): the webhook posts to <url>/hooks/psa/<connection>.", example: 'https://hub.example.com' }),
  deactivationUrl: z.string().min(1).max(500).optional().openapi({ description: 'Where Autotask reports that it deactivated the webhook; default the webhook URL.' }),
  notificationEmail: z.email().max(150).optional().openapi({ description: 'Where Autotask e-mails threshold and deactivation notices; default none.' }),
});

export const registerWebhookSchema = z
  .strictObject({
    connection: z.string(),
    webhookUrl: z.string(),
    webhookId: z.string().openapi({ description: "Autotask's id of the TicketWebhooks entity." }),
    guid: z.string().nullable().openapi({ description: "The webhook's GUID (the callouts' Guid)." }),
    created: z.boolean().openapi({ description: 'false: a webhook for the same URL existed and was brought up to date (secret key, active, status field).' }),
    statusFieldAdded: z.boolean(),
    secretGenerated: z.boolean().openapi({ description: 'The connection had no webhookSecret: one was generated and stored encrypted (never shown).' }),
  })
  .openapi('PsaWebhookRegistration');

/**
 * `POST /api/v1/psa-connections/:name/webhook` (R-PSA-3, issue 16 item 4): the hub registers its own
 * Autotask ticket webhook. Admin, unscoped (it changes the connection: a generated webhookSecret);
 * audited by the use case, as `hub psa register-webhook` is (never the secret).
 */
export function psaWebhookRouter(deps: AppDeps): Router {
  const router = Router();
  defineRoute(
    router,
    MOUNT,
    {
      method: 'post',
      path: '/:name/webhook',
      summary: "Register the hub's Autotask ticket webhook (TicketWebhooks + its status field), idempotent by URL; a connection without webhookSecret gets a generated one",
      tags: TAGS,
      role: 'admin',
      body: registerWebhookBody,
      response: registerWebhookSchema,
    },
    async ({ body, params, req }) => {
      requireUnscoped(req, 'PSA connections');
      const name = params.name ?? '';
      const report = await registerPsaWebhook(
        {
          db: deps.db,
          secretKeys: deps.config.HUB_SECRET_KEYS,
          connectorDeps: { now: () => new Date(), autotaskZoneLookupUrl: deps.config.HUB_AUTOTASK_ZONE_LOOKUP_URL, timeoutMs: deps.config.HUB_PSA_TIMEOUT_MS },
          psaCallBudget: deps.services.psaCallBudget,
        },
        name,
        { url: body.url, deactivationUrl: body.deactivationUrl, notificationEmail: body.notificationEmail },
        { actor: actorOf(req), requestId: req.requestId ?? null },
      );
      return { body: report };
    },
  );
  return router;
}
