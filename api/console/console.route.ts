import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { registerDoc } from '../route';

/** Where `npm run build:console` (scripts/build-console.ts) writes the bundle. */
export const CONSOLE_DIST = path.resolve(__dirname, '../../console/dist');

/**
 * The console's CSP: scripts from this origin only, never inline; API calls to this origin only.
 * Style sheets come from this origin, plus the one <style> element CodeMirror writes its themes
 * into, allowed by a nonce fresh on every page load (the page hands it to CodeMirror's cspNonce);
 * CodeMirror also sizes its gutters with style attributes, hence `style-src-attr 'unsafe-inline'`.
 */
export const consoleCsp = (nonce: string | null): string =>
  `default-src 'none'; script-src 'self'; style-src 'self'${nonce ? ` 'nonce-${nonce}'` : ''}; style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const SECURITY_HEADERS = {
  'Content-Security-Policy': consoleCsp(null),
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
  // Express routes are not strict: '/console/' is served by this route too.
  router.get('/console', (_req, res) => {
    res.set({ ...SECURITY_HEADERS, 'Cache-Control': 'no-store' });
    // Read on every load (a small file): a rebuilt bundle is served without a restart.
    const template = fs.existsSync(index) ? fs.readFileSync(index, 'utf8') : null;
    if (template === null) {
      res.status(503).type('text').send('The console is not built: run `npm run build:console` (npm ci does it).');
      return;
    }
    const nonce = crypto.randomBytes(16).toString('base64');
    res.set('Content-Security-Policy', consoleCsp(nonce)).type('html').send(template.replaceAll('%NONCE%', nonce));
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
