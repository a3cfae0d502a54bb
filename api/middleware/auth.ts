import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { HubError } from '../../core/errors';
import type { Role } from '../../db/tables';
import { tokenAuthenticator } from '../../app/tokens';
import { ALL_COMPANIES } from '../../core/access/company-scope';
import { safeEqual } from '../../lib/tokens';

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Reads the bearer token from the Authorization header (or the hub_token cookie, for the queue dashboard). */
export function bearerOf(authorization: string | undefined, cookie: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (m?.[1]) return m[1];
  const c = /(?:^|;\s*)hub_token=([^;]+)/.exec(cookie ?? '');
  return c?.[1] ? decodeURIComponent(c[1]) : null;
}

/**
 * 401 without a token or with a bad/revoked one. HUB_ADMIN_TOKEN (compared in constant time)
 * bootstraps the first admin; every other token is looked up by its SHA-256.
 */
export function authenticate(db: Knex, bootstrapToken: string | undefined): RequestHandler {
  const authenticateToken = tokenAuthenticator(db);
  return (req, _res, next) => {
    const token = bearerOf(req.header('authorization'), req.header('cookie'));
    if (!token) return next(new HubError('UNAUTHORIZED', 'missing bearer token (Authorization: Bearer <token>)'));
    if (bootstrapToken && safeEqual(token, bootstrapToken)) {
      req.principal = { tokenId: null, name: 'bootstrap-admin', role: 'admin', scope: ALL_COMPANIES };
      return next();
    }
    authenticateToken(token)
      .then((principal) => {
        if (!principal) return next(new HubError('UNAUTHORIZED', 'invalid or revoked token'));
        req.principal = principal;
        next();
      })
      .catch(next);
  };
}

/** 403 when the caller's role is below `min`. */
export function requireRole(min: Role): RequestHandler {
  return (req, _res, next) => {
    const p = req.principal;
    if (!p) return next(new HubError('UNAUTHORIZED', 'missing bearer token'));
    if (ROLE_RANK[p.role] < ROLE_RANK[min]) return next(new HubError('FORBIDDEN', `requires role ${min} (token has ${p.role})`));
    next();
  };
}

/**
 * Role policy of a router: reads (GET/HEAD) need `read`, writes need `write`. The admin API uses
 * { read: 'viewer', write: 'admin' }; the queue routes { read: 'operator', write: 'operator' }.
 */
export function rolePolicy(p: { read: Role; write: Role }): RequestHandler {
  return (req, res, next) => requireRole(req.method === 'GET' || req.method === 'HEAD' ? p.read : p.write)(req, res, next);
}

export const roleAtLeast = (have: Role, need: Role): boolean => ROLE_RANK[have] >= ROLE_RANK[need];
