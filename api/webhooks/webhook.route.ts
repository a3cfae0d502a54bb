import { Router } from 'express';
import { registerDoc } from '../route';
import type { WebhookIntake } from './webhook-intake';

registerDoc('/hooks/:source', {
  method: 'post',
  summary: 'Webhook intake of one source (authenticated per source: HMAC, token or basic; no admin token).',
  tags: ['webhooks'],
  status: 202,
});

/**
 * POST /hooks/:source through Express: only what the raw node:http dispatch (hooks-first.ts) leaves
 * to Express reaches it (a name with percent-escapes, `/hooks/psa` itself); both call the same
 * intake (webhook-intake.ts), so the answers are the same either way.
 */
export function webhookRouter(intake: WebhookIntake): Router {
  const r = Router();
  r.post('/:source', (req, res) =>
    intake({ req, res, sourceName: String(req.params.source), requestId: req.requestId, path: req.path, query: req.query as Record<string, string | undefined>, remoteAddr: () => req.ip ?? null }),
  );
  return r;
}
