import { Router } from 'express';
import { autotaskCalloutSchema, calloutEventKey, calloutField, verifyAutotaskCallout, AUTOTASK_SIGNATURE_HEADER } from '../../connectors/autotask/callout';
import { HubError, isHubError } from '../../core/errors';
import { reverseStatusMap } from '../../core/psa/status-back';
import { applyStatusReports } from '../../app/psa/status-back';
import { connectionConfig } from '../../app/psa/connection-secrets';
import { getPsaConnectionByName } from '../../db/queries/psa-connections';
import type { AppDeps } from '../context';
import { registerDoc } from '../route';
import { headersOf, readBody } from './webhook.route';

registerDoc('/hooks/psa/:connection', {
  method: 'post',
  summary: "Status back from a PSA (Autotask ticket webhook, signed X-Hook-Signature: sha1=<base64 HMAC-SHA1 of the raw body with the connection's webhookSecret>; no admin token).",
  tags: ['webhooks'],
  status: 200,
});

/** Callouts are small (a ticket's changed fields); anything larger is not Autotask's. */
export const PSA_HOOK_MAX_BYTES = 64 * 1024;
const CONNECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The one answer for "not let in" (unknown, disabled, wrong type, no secret, bad signature): no enumeration. */
const notVerified = () => new HubError('UNAUTHORIZED', 'PSA callout verification failed');

/**
 * POST /hooks/psa/:connection (R-PSA-3). Order: body cap 413 → the connection and its
 * webhookSecret (none = refused, never open) → signature over the raw bytes, constant time 401 →
 * JSON and payload 400 → the status report, applied once per event (replays answer `duplicate`).
 * The work is one short transaction (the ticket's close), so it is done before answering; Autotask
 * re-sends a callout that did not get a 2xx.
 */
export function psaHookRouter(deps: AppDeps): Router {
  const r = Router();
  r.post('/:connection', async (req, res, next) => {
    try {
      const name = String(req.params.connection);
      const rawBody = await readBody(req, PSA_HOOK_MAX_BYTES);
      if (!CONNECTION_NAME.test(name)) throw notVerified();
      const row = await getPsaConnectionByName(deps.db, name);
      if (!row || !row.enabled || row.type !== 'autotask') throw notVerified();
      let config: Record<string, unknown>;
      let statusMap: Record<string, string>;
      try {
        const c = connectionConfig(row, deps.config.HUB_SECRET_KEYS);
        config = c.config;
        statusMap = c.connector.statusMap(c.config);
      } catch {
        throw notVerified();
      }
      const secret = typeof config.webhookSecret === 'string' ? config.webhookSecret : undefined;
      const verdict = verifyAutotaskCallout(rawBody, headersOf(req)[AUTOTASK_SIGNATURE_HEADER], secret);
      if (!verdict.ok) {
        deps.logger.debug({ requestId: req.requestId, connection: name, reason: verdict.reason }, 'PSA callout refused');
        throw notVerified();
      }
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new HubError('INVALID_JSON', 'body: not valid JSON');
      }
      const parsed = autotaskCalloutSchema.safeParse(payload);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new HubError('VALIDATION_FAILED', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
      }
      const callout = parsed.data;
      if (callout.EntityType.toLowerCase() !== 'ticket') {
        res.status(200).json({ outcome: 'ignored', reason: `entity ${callout.EntityType} is not a ticket` });
        return;
      }
      const psaValue = calloutField(callout, 'status');
      const status = reverseStatusMap(statusMap as Parameters<typeof reverseStatusMap>[0], psaValue as string | number | undefined);
      const [result] = await applyStatusReports(
        deps.db,
        row,
        [
          {
            state: { externalId: callout.Id, hubTicketId: null, status, psaStatus: psaValue === undefined ? '' : String(psaValue), lastActivityAt: callout.EventTime ?? null },
            deleted: callout.Action.toLowerCase() === 'delete',
            eventKey: calloutEventKey(callout, rawBody),
          },
        ],
        { now: new Date(), requestId: req.requestId ?? null },
      );
      res.status(200).json({ outcome: result!.outcome, ticketId: result!.ticketId });
    } catch (err) {
      if (isHubError(err) && err.status < 500) deps.logger.debug({ requestId: req.requestId, code: err.code }, 'PSA callout refused');
      next(err);
    }
  });
  return r;
}
