import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HubError } from '../../core/errors';

/**
 * Fixed-window request limits (issue 13 item 3), answered with 429 and `Retry-After` through the
 * one error handler. The counters live in the API process's memory: no Redis round trip on every
 * admin request, and the admin API and its sign-in keep working while Redis is down. With N API
 * processes behind a load balancer a client may get up to N times the limit (README "Rate limits").
 * Memory is bounded by the keys seen within one window: a key's counter is dropped when its window
 * ends.
 */
export function rateLimit(opts: {
  /** Requests allowed per key and window. */
  points: number;
  /** Window length in seconds. @defaultValue 60 */
  windowSeconds?: number;
  /** The key of a request (token id, client address); null = not limited. */
  keyOf: (req: Request) => string | null;
  /** What the 429's message names as over its limit. */
  what: string;
}): RequestHandler {
  const limiter = new RateLimiterMemory({ points: opts.points, duration: opts.windowSeconds ?? 60 });
  return (req, _res, next) => {
    const key = opts.keyOf(req);
    if (key === null) return next();
    limiter.consume(key).then(
      () => next(),
      (rejection: unknown) => {
        // consume() rejects with a RateLimiterRes when over the limit; anything else is a bug.
        if (!(rejection instanceof RateLimiterRes)) return next(rejection);
        const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        next(new HubError('RATE_LIMITED', `${opts.what} is over its limit of ${opts.points} requests per ${opts.windowSeconds ?? 60} s`, { retryAfterSeconds }));
      },
    );
  };
}

/** /api/v1: per token (after authentication); the bootstrap admin token counts as one token. 0 = off. */
export const perTokenRateLimit = (perMinute: number): RequestHandler =>
  perMinute === 0
    ? (_req, _res, next) => next()
    : rateLimit({ points: perMinute, keyOf: (req) => (req.principal ? (req.principal.tokenId ?? req.principal.name) : null), what: 'this token' });

/** /admin/login: per client address (`req.ip`, which honours `trust proxy` = loopback only). */
export const perAddressRateLimit = (perMinute: number): RequestHandler =>
  rateLimit({ points: perMinute, keyOf: (req) => req.ip ?? req.socket.remoteAddress ?? 'unknown', what: 'sign-in from this address' });
