import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HubError, isHubError } from '../../core/errors';
import { isDatabaseBusy } from '../../db/pg-errors';
import type { Logger } from '../../lib/logger';

/** What a client is told to wait when Postgres is busy (a connection limit hit): long enough for a lock holder to finish. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/** An error as it is answered: status, extra headers and the `{ error }` body. */
export interface ErrorAnswer {
  status: number;
  code: string;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; details?: unknown } };
}

/**
 * The one place that maps errors to HTTP (STYLE.md principle 7). Clients get
 * `{ error: { code, message, details } }`; unknown errors are logged with the request id and
 * answered 500 without internals. Used by the Express error handler below and by the webhook intake,
 * which answers on the raw node:http request (api/webhooks/hooks-first.ts).
 */
export function errorAnswer(err: unknown, logger: Logger, req: { requestId?: string | undefined; path: string }): ErrorAnswer {
  let e: HubError;
  if (isHubError(err)) e = err;
  else if (isBodyParserError(err)) e = bodyParserError(err);
  else if (isDatabaseBusy(err)) {
    // A connection limit (db/connection.ts) ended the wait: retryable, not a bug (issue 13 item 6).
    logger.warn({ err, requestId: req.requestId, path: req.path }, 'database busy');
    e = new HubError('NOT_READY', 'the database is busy; retry later', { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS });
  } else {
    logger.error({ err, requestId: req.requestId, path: req.path }, 'unhandled error');
    e = new HubError('INTERNAL', `internal error (request ${req.requestId ?? '?'})`);
  }
  if (e.status >= 500 && isHubError(err)) logger.error({ err, requestId: req.requestId }, e.message);
  const headers: Record<string, string> = {};
  // 429 and 503 may say when to come back (rate limits, a full intake queue, a busy database).
  if (typeof e.details === 'object' && e.details && 'retryAfterSeconds' in e.details) {
    headers['Retry-After'] = String((e.details as { retryAfterSeconds: number }).retryAfterSeconds);
  }
  // An oversized body is not read to its end (a chunked one may never end): answer, then close
  // the connection, which is the only way to stop the sender without draining it (issue 13 item 3).
  if (e.code === 'PAYLOAD_TOO_LARGE') headers['Connection'] = 'close';
  return { status: e.status, code: e.code, headers, body: { error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } } };
}

/**
 * Node ends a `Connection: close` socket only once the request body has been read to its end,
 * which a sender streaming without end never reaches: end it ourselves once the answer is out.
 */
export function closeAfterAnswer(res: ServerResponse, socket: Socket): void {
  res.once('finish', () => setTimeout(() => socket.destroy(), 50).unref());
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const answer = errorAnswer(err, logger, req);
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    if (answer.code === 'PAYLOAD_TOO_LARGE') closeAfterAnswer(res, req.socket);
    res.status(answer.status).json(answer.body);
  };
}

interface BodyParserError {
  type: string;
  status?: number;
  limit?: number;
}
const isBodyParserError = (e: unknown): e is BodyParserError =>
  typeof e === 'object' && e !== null && 'type' in e && typeof (e as { type: unknown }).type === 'string' && 'status' in e;

function bodyParserError(e: BodyParserError): HubError {
  if (e.type === 'entity.too.large') return new HubError('PAYLOAD_TOO_LARGE', `body exceeds ${e.limit ?? '?'} bytes`);
  if (e.type === 'entity.parse.failed') return new HubError('INVALID_JSON', 'body: not valid JSON');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
    return new HubError('UNSUPPORTED_MEDIA_TYPE', 'body: unsupported encoding');
  return new HubError('VALIDATION_FAILED', `body: ${e.type}`);
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HubError('NOT_FOUND', `no route ${req.method} ${req.path}`));
};
