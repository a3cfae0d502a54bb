import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HubError, isHubError } from '../../core/errors';
import type { Logger } from '../../lib/logger';

/**
 * The one place that maps errors to HTTP (STYLE.md principle 7). Clients get
 * `{ error: { code, message, details } }`; unknown errors are logged with the request id and
 * answered 500 without internals.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let e: HubError;
    if (isHubError(err)) e = err;
    else if (isBodyParserError(err)) e = bodyParserError(err);
    else {
      logger.error({ err, requestId: req.requestId, path: req.path }, 'unhandled error');
      e = new HubError('INTERNAL', `internal error (request ${req.requestId ?? '?'})`);
    }
    if (e.status >= 500 && isHubError(err)) logger.error({ err, requestId: req.requestId }, e.message);
    if (res.headersSent) return;
    if (e.code === 'RATE_LIMITED' && typeof e.details === 'object' && e.details && 'retryAfterSeconds' in e.details) {
      res.setHeader('Retry-After', String((e.details as { retryAfterSeconds: number }).retryAfterSeconds));
    }
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
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
