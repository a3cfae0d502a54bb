import type { Express } from 'express';
import request from 'supertest';
import { errorBodySchema, openApiDocument, responseSchemaFor, routeDefinitions } from '../../../api/openapi/registry';
import type { Role } from '../../../db/tables';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client, createCompany, expectConforms, tokenFor, type Method } from './admin-helpers';

/**
 * Issue "Admin API and operator surface" points 1–3: guards generated from the route table itself,
 * so a route added later (by anyone) cannot skip authentication, its role, the company scope, the
 * OpenAPI document or strict bodies unnoticed. Nothing here lists routes by hand.
 *
 * Each check walks every route and collects the offenders, so one failure names all of them.
 */

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const FAKE_ID = '999999999';

interface DocRoute {
  method: Method;
  /** OpenAPI form, e.g. /api/v1/devices/{id}. */
  path: string;
  params: string[];
  hasBody: boolean;
  /** From the description "Requires role: X." that api/route.ts writes; undefined when the route did not say. */
  documentedRole: Role | undefined;
}

function documentedRoutes(): DocRoute[] {
  return routeDefinitions()
    .filter((r) => r.path.startsWith('/api/v1/') || r.path === '/api/v1')
    .filter((r): r is typeof r & { method: Method } => ['get', 'post', 'put', 'patch', 'delete'].includes(r.method))
    .map((r) => ({
      method: r.method,
      path: r.path,
      params: [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? ''),
      hasBody: Boolean(r.request?.body),
      documentedRole: /Requires role: (admin|operator|viewer)/.exec(r.description ?? '')?.[1] as Role | undefined,
    }));
}

/** The role a route must demand: what it documents, else the admin API's default policy (reads viewer, writes admin). */
const expectedRole = (r: DocRoute): Role => r.documentedRole ?? (r.method === 'get' ? 'viewer' : 'admin');

const concrete = (r: DocRoute, values: Record<string, string> = {}): string =>
  r.path.replace(/\{([^}]+)\}/g, (_m, name: string) => values[name] ?? FAKE_ID);

const label = (r: DocRoute): string => `${r.method.toUpperCase()} ${r.path}`;

/** Every route Express would answer, found by walking the router stacks (Express 5 / router 2). */
interface ExpressRoute {
  method: string;
  path: string;
  /** Mount prefixes above the route: a documented mount point covers a third-party UI mounted there. */
  mounts: string[];
}

interface LayerLike {
  route?: { path: unknown; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle?: { stack?: LayerLike[] };
}

const toOpenApi = (p: string): string => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const join = (a: string, b: string): string => {
  const joined = `${a}${b === '/' ? '' : b}`;
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined || '/';
};

function expressRoutes(app: Express): ExpressRoute[] {
  const out: ExpressRoute[] = [];
  const walk = (stack: LayerLike[], prefix: string, mounts: string[]) => {
    for (const layer of stack) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`route with a non-string path under ${prefix}: document it and teach this test`);
        for (const m of Object.keys(layer.route.methods)) out.push({ method: m, path: toOpenApi(join(prefix, layer.route.path)), mounts });
      } else if (layer.handle?.stack) {
        const raw = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
        const next = join(prefix, raw);
        walk(layer.handle.stack, next === '/' ? '' : next, [...mounts, toOpenApi(next)]);
      }
    }
  };
  walk((app as unknown as { router: { stack: LayerLike[] } }).router.stack, '', []);
  return out;
}

describe('route table guards', () => {
  let t: TestApp;
  let routes: DocRoute[];
  const tokens = {} as Record<Role, string>;
  let revoked: string;

  beforeAll(async () => {
    t = await createTestApp();
    routes = documentedRoutes();
    for (const role of ROLES) tokens[role] = await tokenFor(t, role);
    const api = client(t);
    const r = await api.post('/tokens', { name: 'revoked', role: 'admin' });
    await api.delete(`/tokens/${r.body.id as string}`);
    revoked = `Bearer ${r.body.token as string}`;
  });
  afterAll(async () => t.close());

  const send = (r: DocRoute, auth: string | null, path = concrete(r)) => {
    let req = request(t.app)[r.method](path);
    if (auth !== null) req = req.set('Authorization', auth);
    return r.hasBody || r.method !== 'get' ? req.send({}) : req;
  };

  it('finds the admin routes in the document (sanity check of the walk itself)', () => {
    const paths = routes.map(label);
    expect(paths).toEqual(expect.arrayContaining(['GET /api/v1/companies', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/{id}', 'GET /api/v1/devices/{id}']));
    expect(routes.length).toBeGreaterThan(20);
  });

  it('every Express route is in the OpenAPI document', () => {
    const doc = openApiDocument();
    const documented = new Set(Object.entries(doc.paths ?? {}).flatMap(([p, item]) => Object.keys(item ?? {}).map((m) => `${m} ${p}`)));
    const found = expressRoutes(t.app);
    expect(found.length).toBeGreaterThan(20);
    const missing = found
      .filter((r) => !['head', 'options', '_all'].includes(r.method))
      .filter((r) => !documented.has(`${r.method} ${r.path}`))
      // A third-party UI (e.g. the queue dashboard) is documented by its mount point.
      .filter((r) => !r.mounts.some((m) => m.length > 1 && documented.has(`get ${m}`)))
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
  });

  it('every /api/v1 route answers 401 without a token, with an unknown token and with a revoked one', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      for (const [what, auth] of [
        ['no token', null],
        ['unknown token', 'Bearer hub_0badc0de_thisTokenDoesNotExistAnywhereInTheDatabase00'],
        ['revoked token', revoked],
      ] as const) {
        const res = await send(r, auth);
        if (res.status !== 401) failures.push(`${label(r)} with ${what}: ${res.status}`);
        else if (!errorBodySchema.safeParse(res.body).success) failures.push(`${label(r)} with ${what}: 401 without the error body`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('every /api/v1 route demands exactly its role: 403 below it (viewer on writes, operator on admin writes), not 401/403 at it', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      const need = expectedRole(r);
      for (const role of ROLES) {
        const res = await send(r, tokens[role]);
        const forbidden = res.status === 403;
        if (RANK[role] < RANK[need] && !forbidden) failures.push(`${label(r)} as ${role} (needs ${need}): ${res.status}, expected 403`);
        if (RANK[role] >= RANK[need] && (forbidden || res.status === 401))
          failures.push(`${label(r)} as ${role} (documented ${need}): ${res.status} ${JSON.stringify(res.body?.error?.message ?? '')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("a company-scoped token gets 404 for another company's object on every route with the id of a company-owned object", async () => {
    const api = client(t);
    const mine = await createCompany(api, 'Matrix Mine');
    const theirs = await createCompany(api, 'Matrix Theirs');
    const device = (await api.post('/devices', { companyId: theirs, hostname: 'matrix-theirs' })).body.id as string;
    const [contract] = await t
      .db('contracts')
      .insert({ company_id: theirs, name: 'Matrix contract', type: 'recurring_service', period_type: 'monthly', start_date: '2026-01-01', end_date: '2026-12-31' })
      .returning('id');
    const now = new Date();
    const [ticket] = await t
      .db('tickets')
      .insert({ company_id: theirs, device_id: device, source: 'generic', dedup_key: 'matrix', priority: 'low', title: 'x', first_occurred_at: now, last_occurred_at: now })
      .returning('id');
    const [project] = await t.db('projects').insert({ company_id: theirs, name: 'Matrix project' }).returning('id');
    const [window] = await t.db('maintenance_windows').insert({ company_id: theirs, name: 'Matrix window' }).returning('id');
    // The first path segment after /api/v1 → an object of the other company of that kind.
    const owned: Record<string, string> = {
      companies: theirs,
      devices: device,
      contracts: String(contract.id),
      tickets: String(ticket.id),
      projects: String(project.id),
      'maintenance-windows': String(window.id),
    };
    const scoped = await tokenFor(t, 'admin', [mine], 'matrix scoped admin');

    const failures: string[] = [];
    let checked = 0;
    for (const r of routes) {
      const m = /^\/api\/v1\/([^/]+)\/\{([^}]+)\}/.exec(r.path);
      const id = m?.[1] ? owned[m[1]] : undefined;
      if (!m?.[2] || id === undefined) continue;
      checked++;
      const res = await send(r, scoped, concrete(r, { [m[2]]: id }));
      // A body is validated before the object is looked up, so an empty body may be 400 first; it must never succeed.
      const ok = res.status === 404 || (r.hasBody && res.status === 400);
      if (!ok) failures.push(`${label(r)} with another company's ${m[1]} ${id}: ${res.status}`);
      if (res.status < 400) failures.push(`${label(r)} SUCCEEDED for another company's object`);
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    expect(failures).toEqual([]);
  });

  it('every /api/v1 route with a JSON body refuses an unknown field with 400 naming it (strict bodies, no mass assignment)', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((x) => x.hasBody)) {
      const res = await request(t.app)[r.method](concrete(r)).set('Authorization', t.admin).send({ injectedField: true });
      if (res.status !== 400) failures.push(`${label(r)}: ${res.status}`);
      else if (!JSON.stringify(res.body.error).includes('injectedField')) failures.push(`${label(r)}: 400 without naming the field: ${res.body.error?.message as string}`);
    }
    expect(failures).toEqual([]);
  });

  it('every parameterless GET answers what its documented response schema says', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((x) => x.method === 'get' && x.params.length === 0)) {
      const res = await request(t.app).get(r.path).set('Authorization', t.admin);
      // 503 NOT_READY is honest (this test process runs no queues or ruleset); a 500 is a bug.
      if (res.status >= 500 && res.status !== 503) {
        failures.push(`${label(r)}: ${res.status} ${JSON.stringify(res.body?.error?.message ?? '')}`);
        continue;
      }
      if (res.status !== 200 || !res.type.includes('json')) continue;
      if (!responseSchemaFor('get', r.path, 200)) {
        failures.push(`${label(r)}: no documented 200 JSON response`);
        continue;
      }
      try {
        expectConforms('get', r.path, res);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the conformance check itself catches a response that drifts from the document', () => {
    const fake = (status: number, body: unknown) => ({ status, body, text: JSON.stringify(body) }) as unknown as request.Response;
    expect(() => expectConforms('get', '/api/v1/companies/1', fake(200, { id: '1', name: 'x' }))).toThrow(/does not match/);
    expect(() =>
      expectConforms('get', '/api/v1/services/1', fake(200, { id: '1', name: 'x', code: null, unitPrice: '1.0000', unitCost: null, createdAt: 'a', updatedAt: 'b' })),
    ).toThrow(/unitPrice/);
    expect(() => expectConforms('get', '/api/v1/companies/1', fake(404, { message: 'nope' }))).toThrow(/does not match/);
    expect(() => expectConforms('get', '/api/v1/nowhere', fake(200, {}))).toThrow(/not in the OpenAPI document/);
  });

  it('serves the OpenAPI 3.1 document to any role, and not without a token', async () => {
    const res = await request(t.app).get('/api/v1/openapi.json').set('Authorization', tokens.viewer);
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/companies', '/api/v1/slas/{id}', '/healthz']));
    expect(res.body.paths['/api/v1/companies'].post.security).toEqual([{ bearer: [] }]);
    expect(res.body.components.schemas.Company).toBeDefined();
    expect((await request(t.app).get('/api/v1/openapi.json')).status).toBe(401);
  });
});
