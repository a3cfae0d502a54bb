import crypto from 'node:crypto';
import type { RequestHandler } from 'express';

/** Every request gets an id (the caller's X-Request-Id when sane), echoed back and on every log line. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.header('x-request-id');
  req.requestId = given && /^[\w.-]{1,64}$/.test(given) ? given : crypto.randomUUID();
  res.setHeader('X-Request-Id', req.requestId);
  next();
};
