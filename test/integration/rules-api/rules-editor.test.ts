import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import request from 'supertest';
import { createLogger } from '../../../lib/logger';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource, insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { deliver, genericAlert, processWithWindows } from '../maintenance/maintenance-helpers';

// The rules editor's server side (issue 17 item 2) and issue 15 items 8 and 9: the live ruleset
// with its files, validating a candidate without making it live (problems with line and column),
// the dry run of a candidate naming contract, service, SLA, priority and due dates, saving into
// RULES_DIR as a new version (R-RUL-3: recorded, picked up by every process), the history of
// versions and the rollback, and the sample alerts of the dry run's picker.

const DEFAULT_RULES = path.resolve(__dirname, '../../../rules/00-default.json');

/** A rules file text that sends disk alerts to the service-desk contract (or `contract`). */
const diskRule = (contract = 'C-DESK', extra = '') => `{
  "rules": [
    {
      "name": "disk-to-desk",
      "priority": 10,
      "conditions": { "all": [{ "fact": "alert", "path": "$.category", "operator": "equal", "value": "disk" }] },
      "event": { "type": "assign", "params": { "contract": "${contract}", "service": "DESK" } }
    }${extra}
  ]
}
`;

describe('rules editor API', () => {
  let t: TestApp;
  let api: Client;
  let db: Knex;
  let world: World;
  let store: RulesetStore;
  let other: RulesetStore;
  let root: string;
  let rulesDir: string;
  let defaultText: string;
  let source: { id: string; name: string };

  const dirFiles = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const n of (await fs.readdir(rulesDir)).sort()) out[n] = await fs.readFile(path.join(rulesDir, n), 'utf8');
    return out;
  };
  const versionCount = async () => Number(((await db('rulesets').count({ n: '*' }).first()) as { n: string }).n);

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-editor-'));
    rulesDir = path.join(root, 'rules');
    await fs.mkdir(rulesDir);
    defaultText = await fs.readFile(DEFAULT_RULES, 'utf8');
    await fs.writeFile(path.join(rulesDir, '00-default.json'), defaultText);
    t = await createTestApp({ env: { RULES_DIR: rulesDir } });
    db = t.db;
    api = client(t);
    const s = await createSource(db, t.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    source = { id: s.id, name: 'rmm' };
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    // This process's live rules (no watcher: a save must not depend on one), and a second process's.
    store = new RulesetStore({ db, dir: rulesDir, logger: createLogger('silent'), pollIntervalMs: 3_600_000 });
    const loaded = await store.loadFromDir(rulesDir, 'startup:test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    other = new RulesetStore({ db, dir: rulesDir, logger: createLogger('silent'), pollIntervalMs: 3_600_000 });
    await other.syncFromDb();
    t.deps.services.rules = { store };
  });
  afterAll(async () => {
    await store.close();
    await other.close();
    await t.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  describe('GET /rules', () => {
    it('answers the live version, who recorded it and every file with its text; a viewer may read it', async () => {
      const res = await api.get('/rules', await tokenFor(t, 'viewer'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        version: 1,
        contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
        createdAt: expect.any(String),
        createdBy: 'startup:test',
        message: null,
        live: true,
        files: [{ name: '00-default.json', content: defaultText }],
      });
      expect(res.body.contentHash).toBe(store.require().contentHash);
    });
  });

  describe('POST /rules/validate', () => {
    it('accepts a valid candidate and writes nothing', async () => {
      const before = await versionCount();
      const res = await api.post('/rules/validate', { files: { '00-default.json': defaultText, '10-disk.json': diskRule() } }, await tokenFor(t, 'operator'));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, problems: [] });
      expect(await versionCount()).toBe(before);
      expect(await dirFiles()).toEqual({ '00-default.json': defaultText });
    });

    it('names file, rule, JSON pointer, line and column of each problem, computed from the pointer in the text', async () => {
      const text = diskRule('C-NOPE');
      const res = await api.post('/rules/validate', { files: { '00-default.json': defaultText, '10-disk.json': text } });
      expect(res.status).toBe(200);
      expect(res.body.ok).toBe(false);
      const lines = text.split('\n');
      const line = lines.findIndex((l) => l.includes('"C-NOPE"')) + 1;
      const column = (lines[line - 1] ?? '').indexOf('"C-NOPE"') + 1;
      expect(res.body.problems).toEqual([
        {
          file: '10-disk.json',
          rule: 'disk-to-desk',
          pointer: '/rules/0/event/params/contract',
          line,
          column,
          message: expect.stringContaining('C-NOPE'),
          severity: 'error',
        },
      ]);
    });

    it('a JSON syntax error gives its own line and column; a bad file name and an empty set are problems too', async () => {
      const broken = '{\n  "rules": [\n    { "name": "x", }\n  ]\n}\n';
      const res = await api.post('/rules/validate', { files: { '00-default.json': defaultText, '20-broken.json': broken } });
      expect(res.body.ok).toBe(false);
      expect(res.body.problems).toEqual([
        expect.objectContaining({ file: '20-broken.json', rule: null, pointer: '', line: 3, column: 20, severity: 'error', message: expect.stringMatching(/not valid JSON/) }),
      ]);
      const oneLine = await api.post('/rules/validate', { files: { '30-x.json': '{ "rules": [ }' } });
      expect(oneLine.body.problems[0]).toMatchObject({ file: '30-x.json', line: 1, column: 14 });

      const badName = await api.post('/rules/validate', { files: { '../escape.json': defaultText } });
      expect(badName.body.ok).toBe(false);
      expect(badName.body.problems[0]).toMatchObject({ file: '../escape.json', message: expect.stringMatching(/file name/) });
      const none = await api.post('/rules/validate', { files: {} });
      expect(none.body).toMatchObject({ ok: false, problems: [expect.objectContaining({ message: expect.stringMatching(/no rules files/) })] });
    });

    it('needs an operator', async () => {
      expect((await api.post('/rules/validate', { files: { '00-default.json': defaultText } }, await tokenFor(t, 'viewer'))).status).toBe(403);
    });
  });

  describe('issue 15 item 8: POST /rules/test names what it decided', () => {
    it('answers contract, service and SLA by id and name, priority and due dates of the mail server (live rules), with the trace', async () => {
      const res = await api.post('/rules/test', { alert: genericAlert({ alertId: 'named-1', severity: 'critical' }), at: '2026-03-10T10:00:00Z' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        outcome: 'ticket',
        contractId: world.mailContract.id,
        serviceId: world.serviceMail.id,
        slaId: world.sla24x7.id,
        decision: {
          outcome: 'ticket',
          contract: { id: world.mailContract.id, name: 'Mail server contract' },
          service: { id: world.serviceMail.id, name: 'Mail server management' },
          sla: { id: world.sla24x7.id, name: 'Premium 24x7' },
          priority: 'critical',
          // Premium 24x7, critical: 15 / 60 / 240 minutes around the clock.
          dueDates: { response: '2026-03-10T10:15:00.000Z', resolutionPlan: '2026-03-10T11:00:00.000Z', resolution: '2026-03-10T14:00:00.000Z' },
          assignment: { contract: 'device' },
        },
        ruleset: { version: 1 },
      });
      expect(res.body.decision.explanation).toMatch(/Rule "device-contract" \(00-default\.json\) chose contract "Mail server contract" from the contract link of device mail01 on 2026-03-10/);
      expect(res.body.trace.find((r: { rule: string }) => r.rule === 'default-service-desk-contract')).toMatchObject({ fired: false, failedCondition: { fact: 'deviceContract' } });
    });

    it('runs a candidate instead of the live rules: the disk alert goes to the service desk with its office-hours SLA', async () => {
      const res = await api.post(
        '/rules/test',
        { alert: genericAlert({ alertId: 'named-2' }), at: '2026-03-10T10:00:00Z', candidate: { files: { '00-default.json': defaultText, '10-disk.json': diskRule() } } },
        await tokenFor(t, 'operator'),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        contractId: world.defaultContract.id,
        serviceId: world.serviceDesk.id,
        slaId: world.slaOffice.id,
        decision: {
          outcome: 'ticket',
          contract: { name: 'Service desk contract' },
          service: { name: 'Service desk' },
          sla: { name: 'Standard' },
          priority: 'high',
          // Standard (Mon–Fri 08–17 Berlin), high: 120 business minutes from 11:00 Berlin.
          dueDates: { response: '2026-03-10T12:00:00.000Z' },
        },
        ruleset: { version: 0 },
      });
      expect(res.body.decision.explanation).toMatch(/Rule "disk-to-desk" \(10-disk\.json\) chose contract "Service desk contract" by its reference "C-DESK"/);
      const fired = res.body.trace.filter((r: { fired: boolean }) => r.fired).map((r: { rule: string }) => r.rule);
      expect(fired).toContain('disk-to-desk');
    });

    it('a suppressing candidate: no contract, outcome suppress; an invalid candidate is 422 with the same problems as /validate', async () => {
      const suppress = `{ "rules": [ { "name": "quiet-disks", "priority": 50, "conditions": { "all": [{ "fact": "alert", "path": "$.category", "operator": "equal", "value": "disk" }] }, "event": { "type": "suppress", "params": { "reason": "noise" } } } ] }`;
      const res = await api.post('/rules/test', { alert: genericAlert({ alertId: 'named-3' }), candidate: { files: { '00-default.json': defaultText, '10-quiet.json': suppress } } });
      expect(res.body).toMatchObject({ outcome: 'suppress', contractId: null, decision: { outcome: 'suppress', contract: null, sla: null, dueDates: null } });
      expect(res.body.decision.explanation).toMatch(/Suppressed by rule "quiet-disks": noise/);

      const files = { '00-default.json': defaultText, '10-disk.json': diskRule('C-NOPE') };
      const bad = await api.post('/rules/test', { alert: genericAlert(), candidate: { files } });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('RULES_INVALID');
      const validated = await api.post('/rules/validate', { files });
      expect(bad.body.error.details.problems).toEqual(validated.body.problems);
    });

    it('a device without a link on a company without a default contract: left for triage, and said so', async () => {
      await db('contracts').where({ id: world.defaultContract.id }).update({ is_default_service_desk: false });
      try {
        const res = await api.post('/rules/test', { alert: genericAlert({ alertId: 'named-4', device: { hostname: 'new-host', site: 'acme-hq' } }) });
        expect(res.body).toMatchObject({ outcome: 'ticket', contractId: null, decision: { outcome: 'ticket', contract: null, sla: null, dueDates: null, priority: 'high' } });
        expect(res.body.decision.explanation).toMatch(/Rule "no-contract-triage" \(00-default\.json\) chose no contract: the ticket is left for triage/);
      } finally {
        await db('contracts').where({ id: world.defaultContract.id }).update({ is_default_service_desk: true });
      }
    });
  });

  describe('GET /rules/sample-alerts', () => {
    it("lists recent stored alerts newest first in the test alert's shape; one of them dry-runs as is; scoped tokens see their companies' alerts only", async () => {
      for (const id of ['s-1', 's-2', 's-3']) {
        const a = await deliver(db, source, genericAlert({ alertId: id, labels: { env: 'prod' } }));
        await processWithWindows(db, store.require(), a.receiptId);
      }
      const operator = await tokenFor(t, 'operator');
      const res = await api.get('/rules/sample-alerts?limit=2', operator);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
      expect(res.body.items[0]).toEqual({
        source: 'rmm',
        alertId: 's-3',
        state: 'firing',
        severity: 'high',
        category: 'disk',
        title: 'Disk C: almost full',
        message: '95% used',
        device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
        occurredAt: '2026-03-10T10:00:00.000Z',
        labels: { env: 'prod' },
        storedAlertId: expect.any(String),
        receivedAt: expect.any(String),
      });
      expect(res.body.items[1].alertId).toBe('s-2');
      const dry = await api.post('/rules/test', { alert: res.body.items[1] }, operator);
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({ outcome: 'occurrence', decision: { contract: { name: 'Mail server contract' } } });

      const mine = await api.get('/rules/sample-alerts', await tokenFor(t, 'operator', [world.company.id]));
      expect(mine.body.items.map((i: { alertId: string }) => i.alertId)).toEqual(expect.arrayContaining(['s-1', 's-2', 's-3']));
      const otherCompany = await insertRow(db, 'companies', { name: 'Other Ltd' });
      expect((await api.get('/rules/sample-alerts', await tokenFor(t, 'operator', [otherCompany.id]))).body.items).toEqual([]);
      expect((await api.get('/rules/sample-alerts', await tokenFor(t, 'viewer'))).status).toBe(403);
      expect((await api.get('/rules/sample-alerts?limit=0', operator)).status).toBe(400);
    });
  });

  describe('PUT /rules, versions and rollback (issue 15 item 9)', () => {
    it('saves atomically into RULES_DIR as a new version with author and message; this process and another follow; audited', async () => {
      await fs.writeFile(path.join(rulesDir, '05-old.json'), '{ "rules": [] }\n');
      await fs.writeFile(path.join(rulesDir, 'README.txt'), 'not a rules file');
      const files = { '00-default.json': defaultText, '10-disk.json': diskRule() };
      const res = await api.put('/rules', { files, message: 'disk alerts to the desk', expectedVersion: 1 });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        version: 2,
        contentHash: expect.any(String),
        createdAt: expect.any(String),
        createdBy: 'api:bootstrap-admin',
        message: 'disk alerts to the desk',
        changed: true,
        warnings: [],
      });
      // The candidate's files exactly; the file it left out is gone; other files and no temp files stay.
      expect(await dirFiles()).toEqual({ '00-default.json': defaultText, '10-disk.json': diskRule(), 'README.txt': 'not a rules file' });
      expect(store.require()).toMatchObject({ version: 2, contentHash: res.body.contentHash });
      expect(await other.syncFromDb()).toBe(true);
      expect(other.require().version).toBe(2);
      // Reading the directory again (a watcher, a restart) finds it already recorded.
      expect(await store.loadFromDir(rulesDir, 'watch:test')).toMatchObject({ ok: true, changed: false, version: 2 });

      const live = await api.get('/rules');
      expect(live.body).toMatchObject({ version: 2, createdBy: 'api:bootstrap-admin', message: 'disk alerts to the desk', files: [{ name: '00-default.json', content: defaultText }, { name: '10-disk.json', content: diskRule() }] });
      const audits = (await db('audit_log').where({ entity_type: 'ruleset', action: 'save' })) as Array<{ entity_id: string; after: { message: string; files: string[] } }>;
      expect(audits).toEqual([expect.objectContaining({ entity_id: '2', after: expect.objectContaining({ message: 'disk alerts to the desk', files: ['00-default.json', '10-disk.json'] }) })]);
      const dry = await api.post('/rules/test', { alert: genericAlert({ alertId: 'after-save' }) });
      expect(dry.body).toMatchObject({ ruleset: { version: 2 }, decision: { contract: { name: 'Service desk contract' } } });
    });

    it('refuses an invalid candidate with 422 and its problems, writing nothing; a stale expectedVersion is 409; roles and scope', async () => {
      const before = { files: await dirFiles(), versions: await versionCount() };
      const bad = await api.put('/rules', { files: { '00-default.json': defaultText, '10-disk.json': diskRule('C-NOPE') }, message: 'oops' });
      expect(bad.status).toBe(422);
      expect(bad.body.error.details.problems[0]).toMatchObject({ file: '10-disk.json', rule: 'disk-to-desk', pointer: '/rules/0/event/params/contract', line: expect.any(Number) });
      const stale = await api.put('/rules', { files: { '00-default.json': defaultText }, message: 'stale', expectedVersion: 1 });
      expect(stale.status).toBe(409);
      expect(stale.body.error.details).toMatchObject({ expectedVersion: 1, latestVersion: 2 });
      expect((await api.put('/rules', { files: { '00-default.json': defaultText }, message: 'x' }, await tokenFor(t, 'operator'))).status).toBe(403);
      expect((await api.put('/rules', { files: { '00-default.json': defaultText }, message: 'x' }, await tokenFor(t, 'admin', [world.company.id]))).status).toBe(403);
      expect((await api.put('/rules', { files: { '00-default.json': defaultText } })).status).toBe(400);
      expect(await dirFiles()).toEqual(before.files);
      expect(await versionCount()).toBe(before.versions);
      expect(store.require().version).toBe(2);
    });

    it('two concurrent saves from the same version: one wins, the other is 409; reformatting only records no version', async () => {
      const a = { files: { '00-default.json': defaultText, '10-disk.json': diskRule('C-MAIL') }, message: 'A', expectedVersion: 2 };
      const b = { files: { '00-default.json': defaultText, '10-disk.json': diskRule('C-PRINT') }, message: 'B', expectedVersion: 2 };
      const [ra, rb] = await Promise.all([api.put('/rules', a), api.put('/rules', b)]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const winner = ra.status === 200 ? a : b;
      expect(await dirFiles()).toEqual({ ...winner.files, 'README.txt': 'not a rules file' });
      expect(store.require().version).toBe(3);

      const reformatted = { ...winner.files, '10-disk.json': JSON.stringify(JSON.parse(winner.files['10-disk.json'])) };
      const same = await api.put('/rules', { files: reformatted, message: 'formatting' });
      expect(same.body).toMatchObject({ version: 3, changed: false });
      expect(await versionCount()).toBe(3);
    });

    it('lists versions newest first with the live one marked, shows one with its files, rolls back as a new version (audited)', async () => {
      const list = await api.get('/rules/versions?limit=2', await tokenFor(t, 'viewer'));
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(3);
      expect(list.body.items.map((i: { version: number; live: boolean }) => [i.version, i.live])).toEqual([
        [3, true],
        [2, false],
      ]);
      expect(list.body.items[1]).toMatchObject({ createdBy: 'api:bootstrap-admin', message: 'disk alerts to the desk' });
      expect((await api.get('/rules/versions?limit=2&offset=2')).body.items.map((i: { version: number }) => i.version)).toEqual([1]);

      const v1 = await api.get('/rules/versions/1');
      expect(v1.body).toMatchObject({ version: 1, live: false, createdBy: 'startup:test', files: [{ name: '00-default.json', content: defaultText }] });
      expect((await api.get('/rules/versions/99')).status).toBe(404);
      expect((await api.get('/rules/versions/abc')).status).toBe(404);

      expect((await api.post('/rules/versions/1/rollback', {}, await tokenFor(t, 'operator'))).status).toBe(403);
      const back = await api.post('/rules/versions/1/rollback', { message: 'back to the shipped default' });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ version: 4, rolledBackTo: 1, changed: true, message: 'back to the shipped default', contentHash: v1.body.contentHash });
      expect(await dirFiles()).toEqual({ '00-default.json': defaultText, 'README.txt': 'not a rules file' });
      expect(store.require().version).toBe(4);
      expect((await api.get('/rules')).body).toMatchObject({ version: 4, message: 'back to the shipped default', files: [{ name: '00-default.json', content: defaultText }] });
      const audit = (await db('audit_log').where({ entity_type: 'ruleset', action: 'rollback' })) as Array<{ entity_id: string; after: { rolledBackTo: number } }>;
      expect(audit).toEqual([expect.objectContaining({ entity_id: '4', after: expect.objectContaining({ rolledBackTo: 1 }) })]);
      expect((await api.post('/rules/versions/99/rollback', {})).status).toBe(404);
    });

    it('every new route is in the OpenAPI document', async () => {
      const doc = await request(t.app).get('/api/v1/openapi.json').set('Authorization', t.admin);
      const paths = Object.keys(doc.body.paths as Record<string, unknown>);
      expect(paths).toEqual(
        expect.arrayContaining(['/api/v1/rules', '/api/v1/rules/validate', '/api/v1/rules/versions', '/api/v1/rules/versions/{version}', '/api/v1/rules/versions/{version}/rollback', '/api/v1/rules/sample-alerts']),
      );
      expect(Object.keys(doc.body.paths['/api/v1/rules'])).toEqual(expect.arrayContaining(['get', 'put']));
    });
  });
});
