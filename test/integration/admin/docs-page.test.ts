import express from 'express';
import request from 'supertest';
import { docsPageRouter } from '../../../api/admin/docs/docs-page.route';
import { openApiDocument } from '../../../api/openapi/registry';

// Issue 17 item 6: /docs is Swagger UI, bundled (no CDN), with try-it-out using the console's token.
describe('GET /docs', () => {
  const app = express().use(docsPageRouter());

  it('serves Swagger UI from the hub itself under a CSP without inline scripts', async () => {
    const res = await request(app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('<script src="/docs/viewer/swagger-ui-bundle.js" defer></script>');
    expect(res.text).toContain('<script src="/docs/docs.js" defer></script>');
    expect(res.text).not.toMatch(/https?:\/\//); // nothing loaded from elsewhere
    expect(res.text).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const csp = res.headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("default-src 'none'");

    const bundle = await request(app).get('/docs/viewer/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.type).toMatch(/^(text|application)\/javascript$/);
    expect(bundle.text).toContain('SwaggerUIBundle');
    expect((await request(app).get('/docs/viewer/swagger-ui.css')).type).toBe('text/css');
    // The package's other files (its own index.html with an inline initializer) are not served.
    expect((await request(app).get('/docs/viewer/index.html')).status).toBe(404);
  });

  it('its start-up script sends the token of the console (sessionStorage) with every request', async () => {
    const js = await request(app).get('/docs/docs.js');
    expect(js.status).toBe(200);
    expect(js.text).toContain("url: '/api/v1/openapi.json'");
    expect(js.text).toContain('sessionStorage.getItem(KEY)');
    expect(js.text).toContain("req.headers.Authorization = 'Bearer ' + t");
    expect(js.text).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);
  });

  it('is itself in the OpenAPI document', () => {
    expect(openApiDocument().paths?.['/docs']?.get?.summary).toMatch(/documentation/);
  });
});
