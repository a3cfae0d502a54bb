import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Job, Queue } from 'bullmq';
import { auditJobRetry, discardJob } from '../../../app/receipts/dead-letters';
import { HubError, isHubError } from '../../../core/errors';
import { writeAudit } from '../../../db/queries/audit';
import { actorOf, type AppDeps } from '../../context';
import { findActiveTokenByHash } from '../../../db/queries/api-tokens';
import type { Role } from '../../../db/tables';
import { hashToken, safeEqual } from '../../../lib/tokens';
import { authenticate, requireRole, roleAtLeast } from '../../middleware/auth';
import { registerDoc } from '../../route';
import { discardedJobOf } from './queues.route';
import { assertAllCompanies } from './scope';

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

  // Company-scoped tokens see no queue (./scope.ts); a browser gets the page, a script the API error.
  const scoped: RequestHandler = (req, res, next) => {
    try {
      assertAllCompanies(req, 'job queues');
      next();
    } catch (e) {
      if (isHubError(e) && wantsHtml(req)) return page(res, e.status, 'Alert hub · forbidden', `<h1>Forbidden</h1><p>${escapeHtml(e.message)}</p>`);
      next(e);
    }
  };
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

  const queues = deps.services.queues;
  if (queues) {
    const list = Object.values(queues);
    // Two boards on the same path: operators get a read-only one (no buttons; their writes are
    // refused below as well), admins the full one behind the interceptor (issue 13 item 7).
    const board = (readOnlyMode: boolean): RequestHandler => {
      const serverAdapter = new ExpressAdapter();
      serverAdapter.setBasePath(`${DASHBOARD_BASE}${BOARD_PATH}`);
      createBullBoard({
        queues: list.map((q) => new BullMQAdapter(q, { readOnlyMode })),
        // @bull-board/express 9.10.1 declares its adapter against its own nested copy of @bull-board/api
        // (9.10.1); the classes differ only in private fields, and the adapter needs nothing from that
        // copy at run time, so it is the same interface.
        serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
        options: { uiConfig: { boardTitle: readOnlyMode ? 'Alert hub queues (read-only)' : 'Alert hub queues', hideDocsLink: true } },
      });
      return serverAdapter.getRouter() as RequestHandler;
    };
    const readOnlyBoard = board(true);
    const fullBoard = board(false);
    const intercept = dashboardWrites(deps, queues as Record<string, Queue>);
    router.use(BOARD_PATH, gate, scoped, (req, res, next) => {
      if (req.principal?.role === 'admin') return intercept(req, res, (err?: unknown) => (err ? next(err) : fullBoard(req, res, next)));
      if (isWrite(req)) return next(new HubError('FORBIDDEN', 'the queue dashboard is read-only for operators; retry or discard failed jobs with /api/v1/queues (audited)'));
      readOnlyBoard(req, res, next);
    });
  } else {
    router.use(BOARD_PATH, gate, (_req, res) => {
      res.status(503).json({ error: { code: 'NOT_READY', message: 'the job queues are not available in this process' } });
    });
  }
  return router;
}

const isWrite = (req: Request): boolean => req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS';
const ONE_JOB = /^\/api\/queues\/([^/]+)\/([^/]+)\/(clean|retry)$/;
const CLEAN_ALL = /^\/api\/queues\/([^/]+)\/clean\/([^/]+)$/;
/** Failed jobs discarded per page when an admin cleans the whole failed set. */
const CLEAN_PAGE = 100;

/**
 * The admin dashboard's writes (issue 13 items 2 and 7): every one is audited; removing an alerts
 * job — one job, or the whole failed set — dead-letters its receipts first (the same use case as
 * DELETE /api/v1/queues/:name/jobs/:id) instead of dropping them. Other removals (waiting,
 * delayed jobs) pass through: the receipt sweeper re-drives receipts whose job disappeared.
 */
function dashboardWrites(deps: AppDeps, queues: Record<string, Queue>): RequestHandler {
  return (req, res, next) => {
    if (!isWrite(req)) return next();
    const by = { actor: actorOf(req), requestId: req.requestId ?? null, via: 'dashboard' as const };
    const run = async (): Promise<boolean> => {
      const one = ONE_JOB.exec(req.path);
      const all = CLEAN_ALL.exec(req.path);
      const queueName = decodeURIComponent((one ?? all)?.[1] ?? '');
      const queue = Object.hasOwn(queues, queueName) ? queues[queueName] : undefined;
      if (one && queue) {
        const job = (await queue.getJob(decodeURIComponent(one[2]!))) as Job | undefined;
        if (job && one[3] === 'retry') await auditJobRetry(deps, discardedJobOf(queue.name, job), by);
        if (job && one[3] === 'clean' && queue.name === 'alerts') {
          await discardJob(deps, discardedJobOf(queue.name, job), by, () => job.remove());
          res.status(204).end();
          return true;
        }
      }
      if (all && queue?.name === 'alerts' && all[2] === 'failed') {
        // Page by page from the start: each page is removed before the next is read.
        for (;;) {
          const jobs = (await queue.getFailed(0, CLEAN_PAGE - 1)).filter((j): j is Job => Boolean(j));
          for (const job of jobs) await discardJob(deps, discardedJobOf(queue.name, job), by, () => job.remove());
          if (jobs.length < CLEAN_PAGE) break;
        }
        await writeAudit(deps.db, { actor: by.actor, action: 'dashboard.clean', entityType: 'queue', entityId: `${queue.name}:failed`, requestId: by.requestId });
        res.status(200).json({});
        return true;
      }
      await writeAudit(deps.db, {
        actor: by.actor,
        action: 'dashboard.write',
        entityType: 'queue',
        entityId: queueName || null,
        after: { method: req.method, path: req.path.slice(0, 300) },
        requestId: by.requestId,
      });
      return false;
    };
    run()
      .then((handled) => {
        if (!handled) next();
      })
      .catch(next);
  };
}
