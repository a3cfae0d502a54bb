import { Router } from 'express';
import { registerDoc } from '../../route';

/**
 * `GET /docs`: a self-contained page (no CDN: operators' browsers may have no internet) that asks
 * for an API token, fetches /api/v1/openapi.json with it and lists every route with its role,
 * parameters, body and response schemas. Public: the page holds no data, the document needs a token.
 *
 * Mount at the root, before the 404 handler: `app.use(docsPageRouter())`.
 */
export function docsPageRouter(): Router {
  registerDoc('/docs', { method: 'get', summary: 'API documentation page (HTML; asks for a token)', tags: ['docs'], produces: ['text/html'] });
  registerDoc('/docs/docs.js', { method: 'get', summary: 'Script of the documentation page', tags: ['docs'], produces: ['application/javascript'] });
  registerDoc('/docs/docs.css', { method: 'get', summary: 'Style sheet of the documentation page', tags: ['docs'], produces: ['text/css'] });
  const router = Router();
  const headers = {
    // The script is served from 'self' (not inline) so a strict CSP can forbid every inline script.
    'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  };
  router.get('/docs', (_req, res) => {
    res.set(headers).type('html').send(DOCS_HTML);
  });
  router.get('/docs/docs.js', (_req, res) => {
    res.set(headers).type('application/javascript').send(DOCS_JS);
  });
  router.get('/docs/docs.css', (_req, res) => {
    res.set(headers).type('text/css').send(DOCS_CSS);
  });
  return router;
}

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alert hub API</title>
<link rel="stylesheet" href="/docs/docs.css">
<script src="/docs/docs.js" defer></script>
</head>
<body>
<header>
  <h1>Alert hub API</h1>
  <form id="auth">
    <label>API token <input id="token" type="password" autocomplete="off" placeholder="hub_… (any role)"></label>
    <button type="submit">Load</button>
    <a id="raw" href="/api/v1/openapi.json">openapi.json</a>
  </form>
  <input id="filter" type="search" placeholder="Filter routes (path, summary, tag)">
  <p id="status">Enter a token to load the OpenAPI document.</p>
</header>
<main id="routes"></main>
</body>
</html>
`;

const DOCS_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d8dde3; padding: 12px 24px; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 8px; text-transform: capitalize; }
form, #filter { display: inline-flex; gap: 8px; align-items: center; margin-right: 16px; }
input { font: inherit; padding: 4px 8px; }
#token { width: 22em; }
main { padding: 0 24px 48px; }
details { background: #fff; border: 1px solid #d8dde3; border-radius: 6px; margin: 6px 0; }
summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 12px; align-items: baseline; }
.method { font-weight: 700; text-transform: uppercase; width: 4.5em; font-family: ui-monospace, monospace; }
.get { color: #0b6bcb; } .post { color: #1a7f37; } .put, .patch { color: #9a6700; } .delete { color: #cf222e; }
.path { font-family: ui-monospace, monospace; }
.muted { color: #57606a; }
.body { padding: 0 12px 12px; }
pre { background: #f6f8fa; padding: 8px; overflow: auto; max-height: 24em; }
table { border-collapse: collapse; } td, th { border: 1px solid #d8dde3; padding: 2px 8px; text-align: left; }
`;

// Builds the DOM with textContent only: nothing from the document is ever parsed as HTML.
const DOCS_JS = `'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  var doc = null;

  function deref(schema) {
    if (schema && schema.$ref && doc && doc.components && doc.components.schemas) {
      var name = schema.$ref.split('/').pop();
      return doc.components.schemas[name] || schema;
    }
    return schema;
  }
  function schemaBlock(title, schema) {
    var wrap = el('div');
    wrap.appendChild(el('strong', '', title));
    wrap.appendChild(el('pre', '', JSON.stringify(deref(schema), null, 2)));
    return wrap;
  }
  function operation(path, method, op) {
    var d = el('details');
    d.dataset.search = (method + ' ' + path + ' ' + (op.summary || '') + ' ' + (op.tags || []).join(' ')).toLowerCase();
    var s = el('summary');
    s.appendChild(el('span', 'method ' + method, method));
    s.appendChild(el('span', 'path', path));
    s.appendChild(el('span', 'muted', op.summary || ''));
    d.appendChild(s);
    var body = el('div', 'body');
    if (op.description) body.appendChild(el('p', '', op.description));
    if (op.parameters && op.parameters.length) {
      var t = el('table'); var h = el('tr');
      ['name', 'in', 'required', 'schema'].forEach(function (c) { h.appendChild(el('th', '', c)); });
      t.appendChild(h);
      op.parameters.forEach(function (p) {
        var r = el('tr');
        [p.name, p.in, p.required ? 'yes' : 'no', JSON.stringify(p.schema || {})].forEach(function (c) { r.appendChild(el('td', '', String(c))); });
        t.appendChild(r);
      });
      body.appendChild(t);
    }
    var rb = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    if (rb) body.appendChild(schemaBlock('Request body', rb.schema));
    Object.keys(op.responses || {}).forEach(function (code) {
      var content = op.responses[code].content || {};
      Object.keys(content).forEach(function (type) {
        body.appendChild(schemaBlock('Response ' + code + ' (' + type + ')', content[type].schema));
      });
    });
    d.appendChild(body);
    return d;
  }
  function render() {
    var main = $('routes');
    main.textContent = '';
    var byTag = {};
    Object.keys(doc.paths || {}).sort().forEach(function (path) {
      var item = doc.paths[path];
      ['get', 'post', 'put', 'patch', 'delete'].forEach(function (m) {
        if (!item[m]) return;
        var tag = (item[m].tags && item[m].tags[0]) || 'other';
        (byTag[tag] = byTag[tag] || []).push(operation(path, m, item[m]));
      });
    });
    Object.keys(byTag).sort().forEach(function (tag) {
      main.appendChild(el('h2', '', tag));
      byTag[tag].forEach(function (d) { main.appendChild(d); });
    });
    $('status').textContent = (doc.info && doc.info.title ? doc.info.title + ' ' + doc.info.version : 'API') + ': ' + Object.keys(doc.paths || {}).length + ' paths.';
    applyFilter();
  }
  function applyFilter() {
    var q = $('filter').value.toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) { d.style.display = d.dataset.search.indexOf(q) >= 0 ? '' : 'none'; });
  }
  function load(token) {
    $('status').textContent = 'Loading…';
    fetch('/api/v1/openapi.json', { headers: { Authorization: 'Bearer ' + token } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status === 401 ? 'token rejected (401)' : 'HTTP ' + r.status);
        return r.json();
      })
      .then(function (d) { doc = d; sessionStorage.setItem('hubDocsToken', token); render(); })
      .catch(function (e) { $('status').textContent = 'Could not load the document: ' + e.message; });
  }
  document.addEventListener('DOMContentLoaded', function () {
    $('auth').addEventListener('submit', function (ev) { ev.preventDefault(); load($('token').value.trim()); });
    $('filter').addEventListener('input', applyFilter);
    var saved = sessionStorage.getItem('hubDocsToken');
    if (saved) { $('token').value = saved; load(saved); }
  });
})();
`;
