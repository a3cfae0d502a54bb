import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { registerDoc } from '../route';

/** Where `npm run build:console` (scripts/build-console.ts) writes the bundle. */
export const CONSOLE_DIST = path.resolve(__dirname, '../../console/dist');

/**
 * The console's CSP: scripts and styles from this origin only, never inline; API calls to this
 * origin only. (CodeMirror's styles are constructed style sheets, which no style-src governs.)
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * `/console`: the admin web page (console/). index.html is revalidated on every load (it names the
 * current hashed bundle); the hashed assets are cached for a year. Public: the page holds no data —
 * it asks for a token and calls /api/v1 with it. When the bundle was never built the page says how
 * to build it (503) instead of a bare 404.
 *
 * Mount at the root, before the 404 handler: `app.use(consoleRouter())`.
 */
export function consoleRouter(dist = CONSOLE_DIST): Router {
  registerDoc('/console', { method: 'get', summary: 'The admin console (HTML page; asks for an API token)', tags: ['console'], produces: ['text/html'] });
  registerDoc('/console/assets/:file', { method: 'get', summary: "The console's hashed script and style sheet (cached for a year)", tags: ['console'], produces: ['application/javascript', 'text/css'] });
  const router = Router();
  const index = path.join(dist, 'index.html');
  router.get(['/console', '/console/'], (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-cache' });
    if (!fs.existsSync(index)) {
      res.status(503).type('text').send('The console is not built: run `npm run build:console` (npm ci does it).');
      return;
    }
    res.type('html').sendFile(index);
  });
  router.use(
    '/console/assets',
    express.static(path.join(dist, 'assets'), {
      index: false,
      immutable: true,
      maxAge: '365d',
      fallthrough: true,
      setHeaders: (res) => res.set(SECURITY_HEADERS),
    }),
  );
  return router;
}
