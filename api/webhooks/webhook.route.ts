import crypto from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { HubError, isHubError } from '../../core/errors';
import { findDeliveryAlertIds, storeDelivery } from '../../db/queries/inbox';
import { metrics } from '../../lib/metrics';
import { normalizeDelivery } from '../../plugins';
import { verifySender } from '../../plugins/auth';
import type { AppDeps } from '../context';
import { registerDoc } from '../route';
import { RateLimiter } from './rate-limiter';
import { SourceCache } from './source-cache';
import { DeliveryBatcher } from './delivery-batcher';

/** Header names a sender may use to give its delivery an id (a retry then maps to the same delivery). */
const DELIVERY_ID_HEADERS = ['idempotency-key', 'x-delivery-id', 'x-request-id-sender'];

registerDoc('/hooks/:source', {
  method: 'post',
  summary: 'Webhook intake of one source (authenticated per source: HMAC, token or basic; no admin token).',
  tags: ['webhooks'],
  status: 202,
});

/** The one answer for "this sender is not let in", whatever the reason (issue 13 item 8: no enumeration). */
const notVerified = () => new HubError('UNAUTHORIZED', 'sender verification failed');

/**
 * POST /hooks/:source (R-ALR-1, R-ALR-5). Order matters: body cap 413 → sender verification over
 * the raw bytes 401 → rate limit 429 → parse/normalize 400 → store in Postgres in one transaction
 * (grouped with concurrent requests', DeliveryBatcher; 503 + Retry-After when its line is full) →
 * enqueue (best effort) → 202 { alertIds }. An unknown or disabled source gets exactly what a bad
 * credential gets — its body read up to the cap (413 past it), then the same 401 — so the answers
 * do not tell which source names exist.
 */
export function webhookRouter(deps: AppDeps): Router {
  const r = Router();
  const { config } = deps;
  // Shared with the sources routes (they invalidate it on an edit) through the service container.
  const sources = (deps.services.sourceCache ??= new SourceCache(deps.db, config.HUB_SECRET_KEYS, { ttlMs: config.HUB_SOURCE_REFRESH_MS, max: config.HUB_SOURCE_CACHE_MAX }));
  const limiter = new RateLimiter();
  const batcher = new DeliveryBatcher(deps.db, { maxQueued: config.HUB_INTAKE_QUEUE_MAX, maxQueuedBytes: config.HUB_INTAKE_QUEUE_MAX_BYTES });

  r.post('/:source', async (req, res, next) => {
    const started = process.hrtime.bigint();
    const sourceName = String(req.params.source);
    let label = 'unknown';
    // Observed when the answer is written (accepted() below, or the error handler's, via 'finish').
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
      const verdict = verifySender(source.auth, {
        rawBody,
        headers,
        query: req.query as Record<string, string | undefined>,
        now: new Date(),
      });
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
          remoteAddr: req.ip ?? null,
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
      deps.logger.debug({ requestId: req.requestId, source: label, deliveryId: stored.deliveryId, alertIds: stored.alertIds }, 'alerts accepted');
    } catch (err) {
      res.once('finish', observe);
      if (isHubError(err) && err.code === 'VALIDATION_FAILED') metrics.alertsReceived.inc({ source: label, outcome: 'invalid' });
      if (isHubError(err) && err.status < 500) {
        deps.logger.debug({ requestId: req.requestId, source: sourceName, code: err.code, msg: err.message }, 'webhook refused');
      }
      next(err);
    }
  });
  return r;
}

/**
 * 202 with a JSON body, written directly: Express' res.json() also hashes every body for an ETag
 * and checks freshness — for a webhook answer that nobody caches, a tenth of the intake's CPU.
 */
function acceptedResponse(res: Response, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = 202;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Header names as Node gives them (already lower-case); repeated headers joined. */
function headersOf(req: Request): Record<string, string | undefined> {
  const h = req.headers;
  for (const v of Object.values(h)) {
    if (Array.isArray(v)) {
      const out: Record<string, string | undefined> = {};
      for (const [k, x] of Object.entries(h)) out[k] = Array.isArray(x) ? x.join(', ') : x;
      return out;
    }
  }
  return h as Record<string, string | undefined>;
}

/**
 * Reads the raw body with a hard cap: 413 from Content-Length before reading, or as soon as the cap
 * is passed. Past the cap nothing more is read — the error handler answers 413 with `Connection:
 * close`, which ends the connection — so a sender streaming a chunked body without end costs
 * neither memory nor the time to drain it (issue 13 item 3). `keep: false` counts the bytes without
 * keeping them (a body that will be refused anyway).
 */
function readBody(req: Request, cap: number, opts: { keep?: boolean } = {}): Promise<Buffer> {
  const keep = opts.keep ?? true;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    return Promise.reject(new HubError('PAYLOAD_TOO_LARGE', `body exceeds ${cap} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > cap) {
        done = true;
        // Stop reading: the bytes already buffered are dropped with the connection.
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        reject(new HubError('PAYLOAD_TOO_LARGE', `body exceeds ${cap} bytes`));
        return;
      }
      if (keep) chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(keep ? Buffer.concat(chunks, size) : Buffer.alloc(0));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}
