import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { applySourcesFile } from '../../../app/sources/sources-file';
import { createLogger } from '../../../lib/logger';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource } from '../../helpers/seed';

const KEY = 'test-secret-key-test-secret-key-0123456789';
let a: TestApp;
let dir: string;
const write = (content: unknown) => {
  const file = path.join(dir, 'sources.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};
const logger = createLogger('silent');

beforeAll(async () => {
  a = await createTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-sources-'));
});
afterAll(async () => {
  await a.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HUB_SOURCES_FILE: sources declared in a file mean the same as POST /api/v1/sources (SPEC §8)', () => {
  it('creates file sources (secrets encrypted, never returned) that authenticate webhooks', async () => {
    const file = write({
      sources: [
        { name: 'prom', plugin: 'alertmanager', auth: { type: 'token', token: 'file-token-0123456789' } },
        { name: 'gen', plugin: 'generic', auth: { type: 'hmac', scheme: 'body-only', secret: 'file-hmac-secret-0123456789' } },
      ],
    });
    expect(await applySourcesFile(a.db, file, KEY, logger)).toEqual({ created: 2, updated: 0, disabled: 0 });
    const rows = await a.db('sources').orderBy('name');
    expect(rows.map((r) => [r.name, r.origin])).toEqual([
      ['gen', 'file'],
      ['prom', 'file'],
    ]);
    expect(JSON.stringify(rows)).not.toContain('file-token-0123456789');
    const listed = await request(a.app).get('/api/v1/sources').set('Authorization', a.admin);
    expect(JSON.stringify(listed.body)).not.toContain('file-token-0123456789');
    const body = fs.readFileSync(path.join(__dirname, '../../../plugins/alertmanager/fixtures/alertmanager-0.25-webhook-firing.json'), 'utf8');
    const ok = await request(a.app).post('/hooks/prom').set('Authorization', 'Bearer file-token-0123456789').set('content-type', 'application/json').send(body);
    expect(ok.body).toMatchObject({ alertIds: [expect.any(String)] });
    expect(ok.status).toBe(202);
  });

  it('updates on re-apply, disables a file source that left the file, and the API cannot edit file sources', async () => {
    const file = write({ sources: [{ name: 'prom', plugin: 'alertmanager', auth: { type: 'token', token: 'rotated-token-0123456789' } }] });
    expect(await applySourcesFile(a.db, file, KEY, logger)).toEqual({ created: 0, updated: 1, disabled: 1 });
    expect(await a.db('sources').where({ name: 'gen' }).first()).toMatchObject({ enabled: false });
    const patch = await request(a.app).patch('/api/v1/sources/prom').set('Authorization', a.admin).send({ enabled: false });
    expect(patch.status).toBe(409);
  });

  it('refuses an invalid file naming the field, and a name the API owns; nothing is written', async () => {
    const before = await a.db('sources').select('name', 'enabled', 'updated_at').orderBy('name');
    await expect(applySourcesFile(a.db, write({ sources: [{ name: 'x', plugin: 'nope', auth: { type: 'token', token: 'abcdefgh12' } }] }), KEY, logger)).rejects.toThrow(/sources\.0\.plugin|sources\[0\]\.plugin/);
    await expect(applySourcesFile(a.db, write('{ not json'), KEY, logger)).rejects.toThrow(/not valid JSON/);
    await createSource(a.db, KEY, { name: 'api-owned', plugin: 'generic', auth: { type: 'token', token: 'api-token-0123456789' } });
    const conflict = write({ sources: [{ name: 'api-owned', plugin: 'generic', auth: { type: 'token', token: 'other-token-0123456789' } }] });
    await expect(applySourcesFile(a.db, conflict, KEY, logger)).rejects.toThrow(/managed through the API/);
    const after = await a.db('sources').whereNot({ name: 'api-owned' }).select('name', 'enabled', 'updated_at').orderBy('name');
    expect(after).toEqual(before);
  });
});
