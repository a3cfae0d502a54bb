import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { CONSOLE_DIST } from '../../../api/console/console.route';
import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow } from '../../helpers/seed';

// Issue 17: the console's page and assets (built by the global setup), GET /me, and the tickets text filter.
let t: TestApp;
let acme: { id: string };
let other: { id: string };

beforeAll(async () => {
  t = await createTestApp();
  acme = await insertRow(t.db, 'companies', { name: 'ACME GmbH', code: 'ACME' });
  other = await insertRow(t.db, 'companies', { name: 'Other GmbH', code: 'OTHER' });
});
afterAll(() => t.close());

async function token(role: string, companyIds?: string[]): Promise<string> {
  const res = await request(t.app).post('/api/v1/tokens').set('authorization', t.admin).send({ name: `t-${role}-${companyIds?.join('-') ?? 'all'}`, role, ...(companyIds ? { companyIds } : {}) });
  expect(res.status).toBe(201);
  return `Bearer ${(res.body as { token: string }).token}`;
}

describe('/console', () => {
  it('serves the page (revalidated) under a CSP without inline scripts, and its hashed assets cached for a year', async () => {
    const res = await request(t.app).get('/console');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    const csp = res.headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("default-src 'none'");
    expect(/script-src [^;]*/.exec(csp)?.[0]).toBe("script-src 'self'");
    // Style elements: this origin's and the one carrying this load's nonce (CodeMirror's themes).
    const nonce = /<meta name="csp-nonce" content="([A-Za-z0-9+/=]{24})">/.exec(res.text)?.[1];
    expect(/style-src [^;]*/.exec(csp)?.[0]).toBe(`style-src 'self' 'nonce-${nonce}'`);
    const again = await request(t.app).get('/console');
    expect(again.text).not.toContain(nonce!); // fresh on every load
    expect(res.text).not.toMatch(/<script>|<script [^>]*>[^<]/); // every script is a file
    expect(res.text).not.toMatch(/https?:\/\//); // nothing from elsewhere
    const script = /src="(\/console\/assets\/console-[A-Z0-9]+\.js)"/.exec(res.text)?.[1];
    const style = /href="(\/console\/assets\/console-[A-Z0-9]+\.css)"/.exec(res.text)?.[1];
    expect(script).toBeDefined();
    const js = await request(t.app).get(script!);
    expect(js.status).toBe(200);
    expect(js.type).toMatch(/^(text|application)\/javascript$/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toBe(csp.replace(` 'nonce-${nonce}'`, ''));
    expect((await request(t.app).get(style!)).type).toBe('text/css');
    expect((await request(t.app).get('/console/assets/nope.js')).status).toBe(404);
  });

  it('the bundle stays under 400 kB gzipped', () => {
    const stamp = JSON.parse(fs.readFileSync(path.join(CONSOLE_DIST, 'build.json'), 'utf8')) as { gzipBytes: number };
    expect(stamp.gzipBytes).toBeGreaterThan(10_000);
    expect(stamp.gzipBytes).toBeLessThan(400 * 1024);
  });
});

describe('GET /api/v1/me', () => {
  it('answers the token itself: name, role and scope (all, or its companies by name)', async () => {
    const admin = await request(t.app).get('/api/v1/me').set('authorization', t.admin);
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({ name: 'bootstrap-admin', role: 'admin', all: true, companies: [] });

    const viewer = await request(t.app).get('/api/v1/me').set('authorization', await token('viewer', [String(other.id)]));
    expect(viewer.body).toEqual({ name: `t-viewer-${other.id}`, role: 'viewer', all: false, companies: [{ id: String(other.id), name: 'Other GmbH' }] });

    // A scoped token whose company is gone has no companies — never "all".
    const gone = await insertRow(t.db, 'companies', { name: 'Gone GmbH', code: 'GONE' });
    const orphan = await token('operator', [String(gone.id)]);
    await t.db('api_token_companies').where({ company_id: gone.id }).delete();
    await t.db('companies').where({ id: gone.id }).delete();
    const o = await request(t.app).get('/api/v1/me').set('authorization', orphan);
    expect(o.status).toBe(200);
    expect(o.body).toMatchObject({ role: 'operator', all: false, companies: [] });

    expect((await request(t.app).get('/api/v1/me')).status).toBe(401);
    expect((await request(t.app).get('/api/v1/openapi.json').set('authorization', t.admin)).body.paths['/api/v1/me'].get.summary).toMatch(/calling token/);
  });
});

describe('GET /api/v1/tickets?q=', () => {
  it('finds tickets by words of the title or description, within the token scope', async () => {
    const base = { source: 'rmm', priority: 'medium', status: 'new', first_occurred_at: new Date(), last_occurred_at: new Date() };
    await insertRow(t.db, 'tickets', { ...base, dedup_key: 'a', company_id: acme.id, title: 'Disk full on mail01', description: 'C: 99%' });
    await insertRow(t.db, 'tickets', { ...base, dedup_key: 'b', company_id: acme.id, title: 'Printer toner', description: 'black 100% empty' });
    await insertRow(t.db, 'tickets', { ...base, dedup_key: 'c', company_id: other.id, title: 'Disk full on nas', description: null });
    const titles = async (q: string, auth = t.admin) =>
      ((await request(t.app).get('/api/v1/tickets').query({ q }).set('authorization', auth)).body as { items: Array<{ title: string }> }).items.map((i) => i.title).sort();
    expect(await titles('disk FULL')).toEqual(['Disk full on mail01', 'Disk full on nas']);
    expect(await titles('100%')).toEqual(['Printer toner']); // % is a character, not a wildcard
    expect(await titles('99%')).toEqual(['Disk full on mail01']);
    expect(await titles('disk', await token('viewer', [String(acme.id)]))).toEqual(['Disk full on mail01']);
  });
});
