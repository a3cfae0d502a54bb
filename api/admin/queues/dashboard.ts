import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { isHubError } from '../../../core/errors';
import { findActiveTokenByHash } from '../../../db/queries/api-tokens';
import type { Role } from '../../../db/tables';
import { hashToken, safeEqual } from '../../../lib/tokens';
import type { AppDeps } from '../../context';
import { authenticate, requireRole, roleAtLeast } from '../../middleware/auth';
import { registerDoc } from '../../route';
import { QUEUES } from './queues.route';

/**
 * The queue dashboard (SPEC §7): bull-board at /admin/queues for admin and operator tokens.
 *
 * A browser cannot send an Authorization header, so /admin/login takes the token once and sets
 * it as the `hub_token` cookie that `bearerOf()` reads: HttpOnly (no script reads it),
 * SameSite=Strict (no other site can make the browser send it, which is what protects
 * bull-board's own retry/clean buttons from cross-site requests), Path=/admin (never sent to
 * /api/v1, whose writes therefore stay bearer-only), Secure when the request came over HTTPS.
 * Scripts keep using `Authorization: Bearer`.
 */
export const DASHBOARD_BASE = '/admin';
const BOARD_PATH = '/queues';
const COOKIE = 'hub_token';
const COOKIE_MAX_AGE_MS = 8 * 3600 * 1000;
const MIN_ROLE: Role = 'operator';

const wantsHtml = (req: Request): boolean => req.accepts(['application/json', 'text/html']) === 'text/html';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        '<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}' +
        'input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}button{padding:.5rem 1rem}.err{color:#b00020}</style>' +
        `</head><body>${body}</body></html>`,
    );
}

function loginPage(res: Response, status: number, error: string | null): void {
  page(
    res,
    status,
    'Alert hub · sign in',
    '<h1>Queue dashboard</h1>' +
      (error ? `<p class="err" role="alert">${escapeHtml(error)}</p>` : '') +
      `<form method="post" action="${DASHBOARD_BASE}/login">` +
      '<label for="token">API token (operator or admin)</label>' +
      '<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="512" autofocus>' +
      '<button type="submit">Sign in</button></form>',
  );
}

/** The role of a token, or null when it is unknown or revoked (same rules as the API's authenticate). */
async function roleOfToken(deps: AppDeps, token: string): Promise<Role | null> {
  const bootstrap = deps.config.HUB_ADMIN_TOKEN;
  if (bootstrap && safeEqual(token, bootstrap)) return 'admin';
  const row = await findActiveTokenByHash(deps.db, hashToken(token));
  return row ? row.role : null;
}

/**
 * /admin/login (GET form, POST sign in), /admin/logout (POST), and the bull-board UI and its API
 * under /admin/queues behind authentication and the operator role. Without a token a browser is
 * sent to the login form; other clients get the API's 401. Viewers get 403.
 */
export function adminDashboardRouter(deps: AppDeps): Router {
  const router = Router();
  const tags = ['operations'];
  registerDoc(`${DASHBOARD_BASE}${BOARD_PATH}`, {
    method: 'get',
    summary: 'Queue dashboard (bull-board UI and its API below this path); admin or operator token, as bearer or the hub_token cookie',
    tags,
    role: MIN_ROLE,
    produces: ['text/html'],
  });
  registerDoc(`${DASHBOARD_BASE}/login`, { method: 'get', summary: 'Sign-in form of the queue dashboard', tags, produces: ['text/html'] });
  registerDoc(`${DASHBOARD_BASE}/login`, {
    method: 'post',
    summary: 'Sign in with an API token (form field `token`); sets the HttpOnly, SameSite=Strict hub_token cookie and redirects to the dashboard',
    tags,
    status: 303,
  });
  registerDoc(`${DASHBOARD_BASE}/logout`, { method: 'post', summary: 'Sign out of the queue dashboard (clears the cookie)', tags, status: 303 });
  const cookieOptions = (req: Request) => ({ httpOnly: true, sameSite: 'strict' as const, path: DASHBOARD_BASE, secure: req.secure });

  router.get('/login', (_req, res) => loginPage(res, 200, null));

  router.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res, next) => {
    const raw: unknown = (req.body as Record<string, unknown> | undefined)?.token;
    const token = typeof raw === 'string' ? raw.trim() : '';
    if (!token || token.length > 512) return loginPage(res, 400, 'Enter an API token.');
    roleOfToken(deps, token)
      .then((role) => {
        if (!role) return loginPage(res, 401, 'That token is unknown or revoked.');
        if (!roleAtLeast(role, MIN_ROLE)) return loginPage(res, 403, `A ${role} token cannot open the queue dashboard; it needs ${MIN_ROLE} or admin.`);
        res.cookie(COOKIE, token, { ...cookieOptions(req), maxAge: COOKIE_MAX_AGE_MS });
        res.redirect(303, `${DASHBOARD_BASE}${BOARD_PATH}`);
      })
      .catch(next);
  });

  router.post('/logout', (req, res) => {
    res.clearCookie(COOKIE, cookieOptions(req));
    res.redirect(303, `${DASHBOARD_BASE}/login`);
  });

  const auth = authenticate(deps.db, deps.config.HUB_ADMIN_TOKEN);
  const operator = requireRole(MIN_ROLE);
  const gate: RequestHandler = (req, res, next) => {
    auth(req, res, (err?: unknown) => {
      if (err) {
        if (isHubError(err) && err.code === 'UNAUTHORIZED' && wantsHtml(req)) {
          // A stale or revoked cookie would otherwise loop between the board and the form.
          res.clearCookie(COOKIE, cookieOptions(req));
          return res.redirect(303, `${DASHBOARD_BASE}/login`);
        }
        return next(err);
      }
      operator(req, res, (roleErr?: unknown) => {
        if (roleErr && isHubError(roleErr) && wantsHtml(req)) {
          return page(res, roleErr.status, 'Alert hub · forbidden', `<h1>Forbidden</h1><p>${escapeHtml(roleErr.message)}</p>`);
        }
        next(roleErr);
      });
    });
  };

  const queues = deps.services[QUEUES];
  if (typeof queues === 'object' && queues !== null) {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(`${DASHBOARD_BASE}${BOARD_PATH}`);
    createBullBoard({
      queues: Object.values(queues as Record<string, ConstructorParameters<typeof BullMQAdapter>[0]>).map((q) => new BullMQAdapter(q)),
      // @bull-board/express 9.10.1 declares its adapter against its own nested copy of @bull-board/api
      // (9.10.1); the classes differ only in private fields, and the adapter needs nothing from that
      // copy at run time, so it is the same interface.
      serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'Alert hub queues', hideDocsLink: true } },
    });
    router.use(BOARD_PATH, gate, serverAdapter.getRouter() as RequestHandler);
  } else {
    router.use(BOARD_PATH, gate, (_req, res) => {
      res.status(503).json({ error: { code: 'NOT_READY', message: 'the job queues are not available in this process' } });
    });
  }
  return router;
}
