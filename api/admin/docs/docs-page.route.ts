import path from 'node:path';
import express, { Router } from 'express';
import { registerDoc } from '../../route';

/** Where npm put swagger-ui-dist (resolved once; the package ships the viewer prebuilt, no CDN). */
const SWAGGER_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

/** The sessionStorage key the console keeps its token under (console/src/session.ts). */
const TOKEN_KEY = 'hub.console.token';

/**
 * `GET /docs`: the OpenAPI document in Swagger UI (swagger-ui-dist, served from this process: no
 * CDN, works offline). Try-it-out sends the console's signed-in token (sessionStorage of this tab);
 * without one the page asks for a token. Public: the page holds no data, the document needs a token.
 * The viewer's script and ours are files under 'self' — the CSP forbids every inline script. Its
 * style sheet sets style attributes, hence `style-src 'unsafe-inline'`; its icons are data: URLs.
 *
 * Mount at the root, before the 404 handler: `app.use(docsPageRouter())`.
 */
export function docsPageRouter(): Router {
  registerDoc('/docs', { method: 'get', summary: 'API documentation (Swagger UI, bundled; try-it-out with the console token)', tags: ['docs'], produces: ['text/html'] });
  registerDoc('/docs/docs.js', { method: 'get', summary: 'Start-up script of the documentation page', tags: ['docs'], produces: ['application/javascript'] });
  registerDoc('/docs/docs.css', { method: 'get', summary: 'Style sheet of the documentation page', tags: ['docs'], produces: ['text/css'] });
  registerDoc('/docs/viewer/:file', { method: 'get', summary: 'Swagger UI files (swagger-ui-dist)', tags: ['docs'], produces: ['application/javascript', 'text/css'] });
  const router = Router();
  const headers = {
    'Content-Security-Policy':
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
  router.get('/docs', (_req, res) => {
    res.set({ ...headers, 'Cache-Control': 'no-cache' }).type('html').send(DOCS_HTML);
  });
  router.get('/docs/docs.js', (_req, res) => {
    res.set({ ...headers, 'Cache-Control': 'no-cache' }).type('application/javascript').send(DOCS_JS);
  });
  router.get('/docs/docs.css', (_req, res) => {
    res.set({ ...headers, 'Cache-Control': 'no-cache' }).type('text/css').send(DOCS_CSS);
  });
  // Only the two files the page loads; the package's own index.html and initializer are not served.
  const viewer = express.static(SWAGGER_DIR, { index: false, maxAge: '1d', setHeaders: (res) => res.set(headers) });
  const VIEWER_FILES = new Set(['swagger-ui-bundle.js', 'swagger-ui.css']);
  router.get('/docs/viewer/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!VIEWER_FILES.has(file)) return next();
    req.url = `/${file}`;
    viewer(req, res, next);
  });
  return router;
}

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alert hub API</title>
<link rel="stylesheet" href="/docs/viewer/swagger-ui.css">
<link rel="stylesheet" href="/docs/docs.css">
<script src="/docs/viewer/swagger-ui-bundle.js" defer></script>
<script src="/docs/docs.js" defer></script>
</head>
<body>
<header class="hub-bar">
  <a href="/console">← Console</a>
  <strong>Alert hub API</strong>
  <form id="token-form" hidden>
    <label for="token">API token</label>
    <input id="token" type="password" autocomplete="off" placeholder="hub_… (any role)">
    <button type="submit">Use token</button>
  </form>
  <span id="who"></span>
</header>
<main id="swagger-ui"></main>
</body>
</html>
`;

const DOCS_CSS = `
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; }
.hub-bar { display: flex; gap: 16px; align-items: center; padding: 10px 24px; background: #1f2a37; color: #fff; }
.hub-bar a { color: #cfe3ff; }
.hub-bar form { display: inline-flex; gap: 8px; align-items: center; }
.hub-bar form[hidden] { display: none; }
.hub-bar input { width: 22em; padding: 4px 8px; }
#who { margin-left: auto; color: #cfd8e3; }
`;

// Reads the token the console stored for this tab; every request Swagger UI makes (the document
// itself and each try-it-out call) carries it. Nothing is written into the page as HTML.
const DOCS_JS = `'use strict';
(function () {
  var KEY = ${JSON.stringify(TOKEN_KEY)};
  var token = sessionStorage.getItem(KEY);
  var form = document.getElementById('token-form');
  if (!token) {
    form.hidden = false;
    document.getElementById('who').textContent = 'Sign in to the console, or enter a token here, to load the document.';
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var t = document.getElementById('token').value.trim();
      if (t) { sessionStorage.setItem(KEY, t); location.reload(); }
    });
    return;
  }
  document.getElementById('who').textContent = 'Try-it-out uses the console token of this tab.';
  var ui = window.SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    // Tags collapsed: the document has ~140 operations; expanded all at once, Swagger UI rendered only the first tags.
    docExpansion: 'none',
    persistAuthorization: false,
    requestInterceptor: function (req) {
      var t = sessionStorage.getItem(KEY);
      if (t && !req.headers.Authorization && !req.headers.authorization) req.headers.Authorization = 'Bearer ' + t;
      return req;
    },
    onComplete: function () { ui.preauthorizeApiKey('bearer', token); },
  });
})();
`;
