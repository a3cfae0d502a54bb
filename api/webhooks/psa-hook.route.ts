import { Router } from 'express';
import { receiveAutotaskCallout } from '../../app/psa/autotask-callout';
import { isHubError } from '../../core/errors';
import type { AppDeps } from '../context';
import { registerDoc } from '../route';
import { headersOf, readBody } from './read-body';

registerDoc('/hooks/psa/:connection', {
  method: 'post',
  summary: "Status back from a PSA (Autotask ticket webhook, signed X-Hook-Signature: sha1=<base64 HMAC-SHA1 of the raw body with the connection's webhookSecret>; no admin token).",
  tags: ['webhooks'],
  status: 200,
});

/** Callouts are small (a ticket's changed fields); anything larger is not Autotask's. */
export const PSA_HOOK_MAX_BYTES = 64 * 1024;

/**
 * POST /hooks/psa/:connection (R-PSA-3), an adapter: body cap 413 first (before any look-up), then
 * app/psa/autotask-callout (connection and secret, signature 401, payload 400, the report applied
 * once per event). The work is one short transaction, so it is done before answering; Autotask
 * re-sends a callout that did not get a 2xx.
 */
export function psaHookRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/:connection', async (req, res, next) => {
    try {
      const rawBody = await readBody(req, PSA_HOOK_MAX_BYTES);
      const result = await receiveAutotaskCallout(
        {
          db: deps.db,
          secretKeys: deps.config.HUB_SECRET_KEYS,
          onRefused: (reason) => deps.logger.debug({ requestId: req.requestId, connection: req.params.connection, reason }, 'PSA callout refused'),
        },
        { connection: String(req.params.connection), rawBody, signature: headersOf(req)['x-hook-signature'], requestId: req.requestId ?? null, now: new Date() },
      );
      res.status(200).json(result);
    } catch (err) {
      if (isHubError(err) && err.status < 500) deps.logger.debug({ requestId: req.requestId, code: err.code }, 'PSA callout refused');
      next(err);
    }
  });
  return r;
}
