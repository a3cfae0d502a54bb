import request from 'supertest';
import type { Response } from 'supertest';
import { errorBodySchema, responseSchemaFor, routeDefinitions } from '../../../api/openapi/registry';
import { issueToken } from '../../../app/tokens';
import { ALL_COMPANIES, onlyCompanies } from '../../../core/access/company-scope';
import type { Role } from '../../../db/tables';
import type { TestApp } from '../../helpers/app';

/**
 * Test helpers of the admin API suite: tokens of each role, and a client whose every answer is
 * checked against the OpenAPI document (the response schema of the documented route and status,
 * or the Error schema), so a handler cannot drift from its documentation unnoticed.
 */

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A token of `role`; without `companyIds` it sees every company, with them only those (at least one). */
export async function tokenFor(t: TestApp, role: Role, companyIds?: string[], name = `${role} token`): Promise<string> {
  const scope = companyIds === undefined ? ALL_COMPANIES : onlyCompanies(companyIds);
  const { token } = await issueToken(t.db, { name, role, scope, actor: 'test' });
  return `Bearer ${token}`;
}

const templateRegex = (path: string): RegExp =>
  new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** The documented path template a concrete path belongs to (the most specific: fewest parameters). */
export function documentedPath(method: Method, concretePath: string): string | undefined {
  const path = concretePath.split('?')[0] ?? concretePath;
  const candidates = routeDefinitions()
    .filter((r) => r.method === method && templateRegex(r.path).test(path))
    .map((r) => r.path)
    .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return candidates[0];
}

/** Throws (failing the test) unless `res` matches what the document promises for it. */
export function expectConforms(method: Method, concretePath: string, res: Response): void {
  const template = documentedPath(method, concretePath);
  if (!template) throw new Error(`${method.toUpperCase()} ${concretePath} is not in the OpenAPI document`);
  if (res.status === 204) {
    expect(res.text ?? '').toBe('');
    return;
  }
  const schema = res.status >= 400 ? errorBodySchema : responseSchemaFor(method, template, res.status);
  if (!schema) throw new Error(`${method.toUpperCase()} ${template} documents no JSON response for status ${res.status} (body ${JSON.stringify(res.body)})`);
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) {
    throw new Error(
      `${method.toUpperCase()} ${concretePath} → ${res.status} does not match the document: ${JSON.stringify(parsed.error.issues.slice(0, 5))}\nbody: ${JSON.stringify(res.body).slice(0, 1000)}`,
    );
  }
}

/** A small client: `api.post('/companies', body, auth)` → the response, already checked against the document. */
export function client(t: TestApp) {
  const call = async (method: Method, path: string, body: unknown, auth: string | null): Promise<Response> => {
    const full = `/api/v1${path}`;
    let req = request(t.app)[method](full);
    if (auth !== null) req = req.set('Authorization', auth);
    const res = body === undefined ? await req : await req.send(body as object);
    expectConforms(method, full, res);
    return res;
  };
  return {
    get: (path: string, auth: string | null = t.admin) => call('get', path, undefined, auth),
    post: (path: string, body: unknown, auth: string | null = t.admin) => call('post', path, body, auth),
    patch: (path: string, body: unknown, auth: string | null = t.admin) => call('patch', path, body, auth),
    put: (path: string, body: unknown, auth: string | null = t.admin) => call('put', path, body, auth),
    delete: (path: string, auth: string | null = t.admin) => call('delete', path, undefined, auth),
  };
}

export type Client = ReturnType<typeof client>;

/** Creates a company and returns its id (fails the test on anything but 201). */
export async function createCompany(api: Client, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/companies', { name, ...extra });
  if (res.status !== 201) throw new Error(`creating company ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}
