import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import type { Express } from 'express';
import type { WebhookIntake } from './webhook-intake';

/**
 * `POST /hooks/<name>`: one path segment, an optional trailing slash, any case — what Express' router
 * matches for `/hooks/:source`. A segment with a percent-escape is left to Express (it decodes and
 * answers a bad escape its own way); so is `psa`, which Express gives to the PSA hook router first.
 */
const HOOK_PATH = /^\/hooks\/([^/?#%]+)\/?(?:\?|$)/i;

/** Express' X-Request-Id rule (api/middleware/request-id.ts). */
const SANE_REQUEST_ID = /^[\w.-]{1,64}$/;

type TrustProxy = (addr: string, hop: number) => boolean;
type Next = (err?: unknown) => void;

/**
 * The method the Express app function calls for every request (express/lib/express.js:
 * `app(req, res, next) { app.handle(req, res, next) }`). @types/express leaves it out; a test
 * (hooks-first.test.ts) fails if Express ever stops dispatching through it.
 */
interface ExpressDispatch {
  handle(req: IncomingMessage, res: ServerResponse, next?: Next): void;
}

/**
 * Serves `POST /hooks/:source` on the raw node:http request before Express sees it (issue 19): at one
 * alert per request, Express' per-request work (prototype swaps, its router walking the middleware
 * stack, the request-id middleware, res.json) was a tenth of the API's CPU. Everything else — the
 * PSA hooks, the admin API, health, metrics, the console — still goes through `app` as before.
 *
 * It replaces the app's `handle` (what the Express app function calls for every request), so
 * whoever serves the app (main/start.ts' `http.createServer(app)`, `app.listen()`, supertest) gets
 * the same dispatch. What the webhook route relied on from Express is done here: the request id
 * (same rule, echoed in `X-Request-Id`), the query string (Express 5's "simple" parser is
 * node:querystring) and the client address under the app's `trust proxy` setting.
 */
export function serveHooksFirst(app: Express, intake: WebhookIntake): void {
  const dispatch = app as unknown as ExpressDispatch;
  const expressHandle = dispatch.handle.bind(app);
  dispatch.handle = (req, res, next) => {
    const match = req.method === 'POST' && req.url !== undefined ? HOOK_PATH.exec(req.url) : null;
    const sourceName = match?.[1];
    if (sourceName === undefined || sourceName.toLowerCase() === 'psa') return expressHandle(req, res, next);
    const url = req.url as string;
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const q = url.indexOf('?');
    intake({
      req,
      res,
      sourceName,
      requestId,
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? {} : (querystring.parse(url.slice(q + 1)) as Record<string, string | undefined>),
      remoteAddr: () => clientAddress(req, app.get('trust proxy fn') as TrustProxy),
      // The intake answers its own errors; should answering itself fail, the socket is not left open.
    }).catch(() => res.destroy());
  };
}

/**
 * The client's address as Express' `req.ip` gives it (proxy-addr): from the socket's address along
 * X-Forwarded-For right to left, the first hop `trust` does not vouch for, else the leftmost.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string | null {
  const header = req.headers['x-forwarded-for'] ?? '';
  const forwarded = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((a) => a.replace(/^ +| +$/g, ''))
    .filter((a) => a !== '')
    .reverse();
  const hops = [req.socket.remoteAddress as string, ...forwarded];
  let i = 0;
  while (i < hops.length - 1 && trust(hops[i] as string, i)) i++;
  return hops[i] ?? null;
}
