import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError, isHubError } from '../../core/errors';
import { findDeliveryAlertIds, storeDelivery } from '../../db/queries/inbox';
import { metrics } from '../../lib/metrics';
import { normalizeDelivery } from '../../plugins';
import { verifySender } from '../../plugins/auth';
import type { AppDeps } from '../context';
import { closeAfterAnswer, errorAnswer } from '../middleware/error-handler';
import { DeliveryBatcher } from './delivery-batcher';
import { RateLimiter } from './rate-limiter';
import { headersOf, readBody } from './read-body';
import { SourceCache } from './source-cache';

/** Header names a sender may use to give its delivery an id (a retry then maps to the same delivery). */
const DELIVERY_ID_HEADERS = ['idempotency-key', 'x-delivery-id', 'x-request-id-sender'];

/** The one answer for "this sender is not let in", whatever the reason (issue 13 item 8: no enumeration). */
const notVerified = () => new HubError('UNAUTHORIZED', 'sender verification failed');

/**
 * One webhook request as the intake needs it, whoever dispatched it: the raw node:http server
 * (hooks-first.ts, the usual way) or Express (webhook.route.ts, for paths the raw matcher leaves to it).
 */
export interface HookRequest {
  req: IncomingMessage;
  res: ServerResponse;
  sourceName: string;
  requestId: string | undefined;
  /** The URL's path, for the log line of an unexpected error. */
  path: string;
  /** The parsed query string (a source may carry its secret in the URL). */
  query: Record<string, string | undefined>;
  /** The client's address (behind a trusted proxy, the forwarded one), read only when a delivery is stored. */
  remoteAddr: () => string | null;
}

export type WebhookIntake = (hook: HookRequest) => Promise<void>;

/**
 * POST /hooks/:source (R-ALR-1, R-ALR-5). Order matters: body cap 413 → sender verification over
 * the raw bytes 401 → rate limit 429 → parse/normalize 400 → store in Postgres in one transaction
 * (grouped with concurrent requests', DeliveryBatcher; 503 + Retry-After when its line is full) →
 * enqueue (best effort) → 202 { alertIds }. An unknown or disabled source gets exactly what a bad
 * credential gets — its body read up to the cap (413 past it), then the same 401 — so the answers
 * do not tell which source names exist. It answers every request itself, errors included (through
 * the error handler's mapping), and never rejects.
 */
export function createWebhookIntake(deps: AppDeps): WebhookIntake {
  const { config } = deps;
  // Shared with the sources routes (they invalidate it on an edit) through the service container.
  const sources = (deps.services.sourceCache ??= new SourceCache(deps.db, config.HUB_SECRET_KEYS, { ttlMs: config.HUB_SOURCE_REFRESH_MS, max: config.HUB_SOURCE_CACHE_MAX }));
  const limiter = new RateLimiter();
  const batcher = new DeliveryBatcher(deps.db, { maxQueued: config.HUB_INTAKE_QUEUE_MAX, maxQueuedBytes: config.HUB_INTAKE_QUEUE_MAX_BYTES });

  return async (hook) => {
    const { req, res, sourceName } = hook;
    const started = process.hrtime.bigint();
    let label = 'unknown';
    // Observed when the answer is written (accepted() below, or the error answer's, via 'finish').
    const observe = () => metrics.webhookLatency.observe({ source: label, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    const accepted = (body: unknown) => {
      acceptedResponse(res, body);
      observe();
    };
    try {
      const source = await sources.get(sourceName);
      if (!source) {
        // Read like a real source's body (same cap, nothing kept) so that neither the status nor
        // the time taken says whether the name exists; the metric label stays 'unknown' (bounded).
        await readBody(req, config.HUB_MAX_BODY_BYTES, { keep: false });
        metrics.alertsReceived.inc({ source: label, outcome: 'rejected' });
        throw notVerified();
      }
      label = source.row.name;
      const cap = source.row.max_body_bytes ?? deps.config.HUB_MAX_BODY_BYTES;
      const rawBody = await readBody(req, cap);

      const headers = headersOf(req);
      const verdict = verifySender(source.auth, { rawBody, headers, query: hook.query, now: new Date() });
      if (!verdict.ok) {
        metrics.alertsReceived.inc({ source: label, outcome: 'rejected' });
        throw notVerified();
      }

      if (source.row.rate_limit_per_second) {
        const wait = limiter.take(source.row.name, source.row.rate_limit_per_second, 1, Date.now());
        if (wait > 0) throw new HubError('RATE_LIMITED', `source ${source.row.name} is over its rate limit`, { retryAfterSeconds: wait });
      }

      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new HubError('INVALID_JSON', 'body: not valid JSON');
      }
      const result = normalizeDelivery(source.plugin, payload, {
        sourceName: source.row.name,
        receivedAt: new Date(),
        config: source.row.config,
        siteField: source.row.site_field,
      });
      if (result.kind === 'ignored') {
        metrics.alertsReceived.inc({ source: label, outcome: 'ignored' });
        accepted({ alertIds: [], ignored: result.reason });
        return;
      }

      // A delivery id the signature covers (Standard Webhooks' webhook-id) wins over unsigned headers:
      // a replay inside the tolerance is then recognised as the same delivery (issue 13 item 4).
      const deliveryKey = verdict.deliveryId ?? DELIVERY_ID_HEADERS.map((h) => headers[h]).find((v): v is string => !!v && v.length <= 200) ?? null;
      if (deliveryKey) {
        const seen = await findDeliveryAlertIds(deps.db, source.row.id, deliveryKey);
        if (seen) {
          metrics.alertsReceived.inc({ source: label, outcome: 'duplicate' }, seen.length);
          accepted({ alertIds: seen, duplicate: true });
          return;
        }
      }
      let stored;
      try {
        const delivery = {
          sourceId: source.row.id,
          deliveryKey,
          bodySha256: crypto.createHash('sha256').update(rawBody).digest('hex'),
          bodyBytes: rawBody.length,
          remoteAddr: hook.remoteAddr(),
          alerts: result.alerts,
        };
        // With a sender's delivery id, alone (a concurrent retry is decided by its unique constraint,
        // below); without, grouped with concurrent requests' deliveries (one statement, one commit).
        stored = deliveryKey ? await storeDelivery(deps.db, delivery) : await batcher.store(delivery);
      } catch (err) {
        // Two concurrent retries with one delivery id: the unique constraint decided; answer like a retry.
        if (deliveryKey && (err as { code?: string }).code === '23505') {
          const seen = await findDeliveryAlertIds(deps.db, source.row.id, deliveryKey);
          if (seen) {
            accepted({ alertIds: seen, duplicate: true });
            return;
          }
        }
        throw err;
      }
      metrics.alertsReceived.inc({ source: label, outcome: 'accepted' }, stored.alertIds.length);
      // The alerts are durable now: answer at once. The enqueue is coalesced with other requests'
      // and best effort — what it misses, the outbox relay enqueues.
      deps.services.alertEnqueuer?.enqueueSoon(stored.receiptIds);
      accepted({ alertIds: stored.alertIds });
      // Debug only: a line per accepted delivery at info level would cost more than the intake.
      deps.logger.debug({ requestId: hook.requestId, source: label, deliveryId: stored.deliveryId, alertIds: stored.alertIds }, 'alerts accepted');
    } catch (err) {
      res.once('finish', observe);
      if (isHubError(err) && err.code === 'VALIDATION_FAILED') metrics.alertsReceived.inc({ source: label, outcome: 'invalid' });
      if (isHubError(err) && err.status < 500) {
        deps.logger.debug({ requestId: hook.requestId, source: sourceName, code: err.code, msg: err.message }, 'webhook refused');
      }
      answerError(hook, err, deps);
    }
  };
}

/**
 * 202 with a JSON body, written directly in one write (status line, headers and body; a fixed
 * length, never chunked): Express' res.json() also hashes every body for an ETag and checks
 * freshness — for a webhook answer that nobody caches, a tenth of the intake's CPU.
 */
function acceptedResponse(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(202, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The error handler's answer (api/middleware/error-handler.ts), written without Express. */
function answerError(hook: HookRequest, err: unknown, deps: AppDeps): void {
  const { req, res } = hook;
  const answer = errorAnswer(err, deps.logger, { requestId: hook.requestId, path: hook.path });
  if (res.headersSent) return;
  if (answer.code === 'PAYLOAD_TOO_LARGE') closeAfterAnswer(res, req.socket);
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
