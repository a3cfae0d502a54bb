import express from 'express';
import request from 'supertest';
import { docsPageRouter } from '../../../api/admin/docs/docs-page.route';
import { openApiDocument } from '../../../api/openapi/registry';

// Issue "Admin API and operator surface" point 8: a docs page that works without a CDN.
describe('GET /docs', () => {
  const app = express().use(docsPageRouter());

  it('serves a self-contained page whose script and style come from the hub itself, under a strict CSP', async () => {
    const res = await request(app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('<script src="/docs/docs.js" defer></script>');
    expect(res.text).not.toMatch(/https?:\/\//); // nothing loaded from elsewhere
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");

    const js = await request(app).get('/docs/docs.js');
    expect(js.status).toBe(200);
    expect(js.type).toBe('application/javascript');
    expect(js.text).toContain("fetch('/api/v1/openapi.json'");
    // The document is rendered with textContent only, never parsed as HTML.
    expect(js.text).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);
    expect((await request(app).get('/docs/docs.css')).type).toBe('text/css');
  });

  it('is itself in the OpenAPI document', () => {
    expect(openApiDocument().paths?.['/docs']?.get?.summary).toMatch(/documentation/);
  });
});
