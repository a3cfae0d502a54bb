import { Command } from 'commander';
import type { Knex } from 'knex';
import { registerTokenCommands } from '../../../cli/commands/tokens';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client, createCompany, type Client } from './admin-helpers';

/**
 * Issue 13 item 1: a token's company scope is stored so that it can never become wider by a
 * deletion. Unscoped tokens carry an explicit "all companies" flag; a scoped token whose
 * companies are all deleted has access to nothing (it stays valid, sees empty lists and 404s), and
 * every token that loses a company is audited.
 */
describe('token company scope never widens (issue 13 item 1)', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
  });
  afterAll(async () => t.close());

  const newToken = async (body: Record<string, unknown>) => {
    const res = await api.post('/tokens', body);
    if (res.status !== 201) throw new Error(`creating token: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id as string, auth: `Bearer ${res.body.token as string}` };
  };
  const companyIdsSeenBy = async (auth: string): Promise<string[]> => {
    const res = await api.get('/companies?limit=200', auth);
    expect(res.status).toBe(200);
    return (res.body.items as Array<{ id: string }>).map((c) => c.id);
  };

  it('issue 13 item 1: a token scoped to one company sees nothing (not every company) once that company is deleted', async () => {
    const doomed = await createCompany(api, 'Doomed Co');
    const bystander = await createCompany(api, 'Bystander Co');
    await api.post('/devices', { companyId: bystander, hostname: 'bystander-srv' });
    const token = await newToken({ name: 'portal of doomed', role: 'admin', companyIds: [doomed] });
    expect(await companyIdsSeenBy(token.auth)).toEqual([doomed]);

    expect((await api.delete(`/companies/${doomed}`)).status).toBe(204);

    expect(await companyIdsSeenBy(token.auth)).toEqual([]);
    expect((await api.get(`/companies/${bystander}`, token.auth)).status).toBe(404);
    expect((await api.get('/devices', token.auth)).body.items).toEqual([]);
    expect((await api.get('/tickets', token.auth)).body.items).toEqual([]);
    // Nor may it act as unscoped: global writes stay forbidden, and it cannot mint an unscoped token.
    expect((await api.post('/companies', { name: 'Escalated' }, token.auth)).status).toBe(403);
    expect((await api.post('/tokens', { name: 'escalate', role: 'admin' }, token.auth)).status).toBe(403);

    const view = (await api.get(`/tokens/${token.id}`)).body;
    expect(view).toMatchObject({ allCompanies: false, companyIds: [] });
  });

  it('issue 13 item 1: a token scoped to two companies keeps only the remaining one when the other is deleted', async () => {
    const gone = await createCompany(api, 'Gone Co');
    const kept = await createCompany(api, 'Kept Co');
    const token = await newToken({ name: 'two companies', role: 'viewer', companyIds: [gone, kept] });
    expect((await api.delete(`/companies/${gone}`)).status).toBe(204);
    expect(await companyIdsSeenBy(token.auth)).toEqual([kept]);
  });

  it('issue 13 item 1: a company removed below the API (a cascade in SQL) does not widen the token either', async () => {
    const a = await createCompany(api, 'Raw Delete Co');
    await createCompany(api, 'Raw Other Co');
    const token = await newToken({ name: 'raw', role: 'viewer', companyIds: [a] });
    await t.db('companies').where('id', a).delete();
    expect(await companyIdsSeenBy(token.auth)).toEqual([]);
  });

  it('issue 13 item 1: deleting a company audits every token that loses it (before/after scope)', async () => {
    const c = await createCompany(api, 'Audited Scope Co');
    const other = await createCompany(api, 'Audited Other Co');
    const only = await newToken({ name: 'only c', role: 'viewer', companyIds: [c] });
    const both = await newToken({ name: 'c and other', role: 'viewer', companyIds: [c, other] });
    const unrelated = await newToken({ name: 'other only', role: 'viewer', companyIds: [other] });
    expect((await api.delete(`/companies/${c}`)).status).toBe(204);

    const rows = await t.db('audit_log').where({ entity_type: 'api_token', action: 'scope.company_deleted' }).whereIn('entity_id', [only.id, both.id, unrelated.id]).orderBy('id');
    expect(rows.map((r: { entity_id: string }) => r.entity_id).sort()).toEqual([only.id, both.id].sort());
    const byId = new Map(rows.map((r: { entity_id: string; before: unknown; after: unknown; actor: string }) => [r.entity_id, r]));
    expect(byId.get(only.id)).toMatchObject({ actor: 'bootstrap-admin', before: { companyIds: [c] }, after: { allCompanies: false, companyIds: [] } });
    expect(byId.get(both.id)).toMatchObject({ before: { companyIds: [c, other] }, after: { companyIds: [other] } });
  });

  it('issue 13 item 1: an unscoped token is stored with the explicit all-companies flag and shown as such', async () => {
    const c = await createCompany(api, 'Everyone Co');
    const token = await newToken({ name: 'everything', role: 'viewer' });
    const row = await t.db('api_tokens').where('id', token.id).first();
    expect(row.all_companies).toBe(true);
    expect((await api.get(`/tokens/${token.id}`)).body).toMatchObject({ allCompanies: true, companyIds: [] });
    expect(await companyIdsSeenBy(token.auth)).toContain(c);
    const scoped = await newToken({ name: 'scoped', role: 'viewer', companyIds: [c] });
    expect((await t.db('api_tokens').where('id', scoped.id).first()).all_companies).toBe(false);
  });

  it('issue 13 item 1: an empty companyIds list is refused (it used to mean every company)', async () => {
    const res = await api.post('/tokens', { name: 'empty list', role: 'viewer', companyIds: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/companyIds/);
  });

  it('issue 13 item 1: the CLI lists a token whose companies are gone as having no companies, not all', async () => {
    const c = await createCompany(api, 'CLI Scope Co');
    const token = await newToken({ name: 'cli scope', role: 'viewer', companyIds: [c] });
    const everyone = await newToken({ name: 'cli everyone', role: 'viewer' });
    await api.delete(`/companies/${c}`);
    const out: string[] = [];
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerTokenCommands(program, { openDb: () => t.db, closeDb: async (_db: Knex) => undefined, out: (l) => out.push(l), err: () => undefined });
    await program.parseAsync(['node', 'hub', 'tokens', 'list']);
    const line = (id: string) => out.find((l) => l.trimStart().startsWith(`${id} `)) ?? '';
    expect(line(token.id)).toMatch(/no companies/);
    expect(line(token.id)).not.toMatch(/all companies/);
    expect(line(everyone.id)).toMatch(/all companies/);
  });
});
