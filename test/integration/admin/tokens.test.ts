import { Command } from 'commander';
import type { Knex } from 'knex';
import request from 'supertest';
import { registerTokenCommands } from '../../../cli/commands/tokens';
import { hashToken } from '../../../lib/tokens';
import { createTestApp, type TestApp } from '../../helpers/app';
import { client, createCompany, tokenFor, type Client } from './admin-helpers';

// Issue "Admin API and operator surface" point 1: tokens shown once and stored hashed, listed
// without secrets, revoked at once, roles and company scope enforced, every change audited.
describe('API tokens', () => {
  let t: TestApp;
  let api: Client;
  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
  });
  afterAll(async () => t.close());

  it('creates a token shown once (≥128 bits, identifying prefix), stores only its hash, and lists it without secret or hash', async () => {
    const res = await api.post('/tokens', { name: 'grafana', role: 'viewer' });
    expect(res.status).toBe(201);
    const token = res.body.token as string;
    expect(token).toMatch(/^hub_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/); // 32 random bytes = 256 bits
    expect(res.body).toMatchObject({ name: 'grafana', role: 'viewer', companyIds: [], prefix: token.slice(0, 12), createdBy: 'bootstrap-admin', revokedAt: null });

    const row = await t.db('api_tokens').where('id', res.body.id).first();
    expect(row.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token.slice(13));

    const list = await api.get('/tokens');
    const listed = list.body.items.find((x: { id: string }) => x.id === res.body.id);
    expect(listed).toBeDefined();
    expect(listed.token).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(row.token_hash);
    expect(JSON.stringify(list.body)).not.toContain(token.slice(13));

    const one = await api.get(`/tokens/${res.body.prefix as string}`);
    expect(one.body).toEqual(listed);

    // The new token works.
    expect((await api.get('/companies', `Bearer ${token}`)).status).toBe(200);
  });

  it('revokes by id or prefix: the token is refused with 401 at once; a second revoke is 404', async () => {
    const a = await api.post('/tokens', { name: 'to revoke', role: 'admin' });
    const b = await api.post('/tokens', { name: 'to revoke by prefix', role: 'viewer' });
    expect((await api.get('/companies', `Bearer ${a.body.token as string}`)).status).toBe(200);

    const revoked = await api.delete(`/tokens/${a.body.id as string}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const refused = await api.get('/companies', `Bearer ${a.body.token as string}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('UNAUTHORIZED');

    expect((await api.delete(`/tokens/${b.body.prefix as string}`)).status).toBe(200);
    expect((await api.get('/companies', `Bearer ${b.body.token as string}`)).status).toBe(401);
    expect((await api.delete(`/tokens/${a.body.id as string}`)).status).toBe(404);
    expect((await api.delete('/tokens/not-a-token')).status).toBe(404);

    const active = (await api.get('/tokens')).body.items.map((x: { id: string }) => x.id);
    expect(active).not.toContain(a.body.id);
    const all = (await api.get('/tokens?includeRevoked=true')).body.items.map((x: { id: string }) => x.id);
    expect(all).toEqual(expect.arrayContaining([a.body.id, b.body.id]));
  });

  it('audits creation and revocation with the actor and never the secret', async () => {
    const created = await api.post('/tokens', { name: 'audited', role: 'operator' });
    await api.delete(`/tokens/${created.body.id as string}`);
    const rows = await t.db('audit_log').where({ entity_type: 'api_token', entity_id: created.body.id }).orderBy('id');
    expect(rows.map((r: { action: string; actor: string }) => [r.action, r.actor])).toEqual([
      ['create', 'bootstrap-admin'],
      ['revoke', 'bootstrap-admin'],
    ]);
    expect(JSON.stringify(rows)).not.toContain((created.body.token as string).slice(13));
    expect(rows[1].after).toMatchObject({ revokedAt: expect.any(String) });
  });

  it('names the actor token in audit rows of changes made with it', async () => {
    const admin = await api.post('/tokens', { name: 'ops admin', role: 'admin' });
    const company = await api.post('/companies', { name: 'Made by token' }, `Bearer ${admin.body.token as string}`);
    const [row] = await t.db('audit_log').where({ entity_type: 'company', entity_id: company.body.id });
    expect(row.actor).toBe(`token:${admin.body.id as string}:ops admin`);
  });

  it('enforces the role matrix: viewer reads, operator cannot do admin writes, only admins manage tokens', async () => {
    const viewer = await tokenFor(t, 'viewer');
    const operator = await tokenFor(t, 'operator');
    const admin = await tokenFor(t, 'admin');
    expect((await api.get('/companies', viewer)).status).toBe(200);
    expect((await api.post('/companies', { name: 'By viewer' }, viewer)).status).toBe(403);
    expect((await api.post('/companies', { name: 'By operator' }, operator)).status).toBe(403);
    expect((await api.post('/companies', { name: 'By admin' }, admin)).status).toBe(201);
    expect((await api.get('/tokens', viewer)).status).toBe(403);
    expect((await api.get('/tokens', operator)).status).toBe(403);
    expect((await api.post('/tokens', { name: 'x', role: 'admin' }, operator)).status).toBe(403);
    expect((await api.get('/tokens', admin)).status).toBe(200);
    const forbidden = await api.post('/tokens', { name: 'x', role: 'admin' }, viewer);
    expect(forbidden.body.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/admin/) });
  });

  it('scopes a token to companies: other companies 404, and a scoped admin cannot mint tokens', async () => {
    const mine = await createCompany(api, 'Token Mine');
    const theirs = await createCompany(api, 'Token Theirs');
    const res = await api.post('/tokens', { name: 'customer portal', role: 'admin', companyIds: [mine, Number(mine)] });
    expect(res.body.companyIds).toEqual([mine]);
    const scoped = `Bearer ${res.body.token as string}`;
    expect((await api.get(`/companies/${mine}`, scoped)).status).toBe(200);
    const other = await api.get(`/companies/${theirs}`, scoped);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('NOT_FOUND');
    expect((await api.post('/tokens', { name: 'escalate', role: 'admin' }, scoped)).status).toBe(403);
    expect((await api.get('/tokens', scoped)).status).toBe(403);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const role = await api.post('/tokens', { name: 'x', role: 'root' });
    expect(role.status).toBe(400);
    expect(role.body.error.message).toMatch(/^body\.role: /);
    const company = await api.post('/tokens', { name: 'x', role: 'viewer', companyIds: ['999999'] });
    expect(company.status).toBe(400);
    expect(company.body.error.message).toMatch(/^companyIds: /);
    const extra = await api.post('/tokens', { name: 'x', role: 'viewer', tokenHash: 'mine' });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/tokenHash/);
  });

  it('answers 401 without a token, with a malformed or an unknown one', async () => {
    expect((await request(t.app).get('/api/v1/companies')).status).toBe(401);
    expect((await request(t.app).get('/api/v1/companies').set('Authorization', 'Basic abc')).status).toBe(401);
    expect((await request(t.app).get('/api/v1/companies').set('Authorization', 'Bearer hub_00000000_nope')).status).toBe(401);
  });

  describe('hub tokens (CLI)', () => {
    const run = async (...args: string[]): Promise<{ out: string[]; err: string[] }> => {
      const out: string[] = [];
      const err: string[] = [];
      const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      registerTokenCommands(program, {
        openDb: () => t.db,
        closeDb: async (_db: Knex) => undefined,
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      await program.parseAsync(['node', 'hub', 'tokens', ...args]);
      return { out, err };
    };

    it('creates a working token printed once, lists it, and revokes it by prefix, each audited as cli:<user>', async () => {
      const company = await createCompany(api, 'CLI Co');
      const created = await run('create', '--name', 'cli token', '--role', 'operator', '--company', company);
      expect(created.out).toHaveLength(1);
      const token = created.out[0] as string;
      expect(token).toMatch(/^hub_[0-9a-f]{8}_/);
      expect((await api.get(`/companies/${company}`, `Bearer ${token}`)).status).toBe(200);

      const listed = await run('list', '--json');
      const views = JSON.parse(listed.out[0] as string) as Array<{ prefix: string; companyIds: string[]; role: string }>;
      const mine = views.find((v) => v.prefix === token.slice(0, 12));
      expect(mine).toMatchObject({ role: 'operator', companyIds: [company] });
      expect(listed.out.join('\n')).not.toContain(token.slice(13));

      const revoked = await run('revoke', token.slice(0, 12));
      expect(revoked.out[0]).toMatch(/^revoked /);
      expect((await api.get(`/companies/${company}`, `Bearer ${token}`)).status).toBe(401);

      const rows = await t.db('audit_log').where({ entity_type: 'api_token' }).where('actor', 'like', 'cli%').orderBy('id');
      expect(rows.map((r: { action: string }) => r.action)).toEqual(['create', 'revoke']);
    });

    it('refuses an unknown role, a bad company id and an unknown token', async () => {
      await expect(run('create', '--name', 'x', '--role', 'root')).rejects.toThrow(/root/);
      await expect(run('create', '--name', 'x', '--role', 'viewer', '--company', 'abc')).rejects.toThrow(/--company/);
      await expect(run('create', '--name', 'x', '--role', 'viewer', '--company', '999999')).rejects.toThrow(/--company: 999999 does not exist/);
      await expect(run('revoke', 'hub_ffffffff')).rejects.toThrow(/no active token/);
    });
  });
});
