import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import type { Knex } from 'knex';
import { registerRulesDiffCommand } from '../../../cli/commands/rules-diff';
import { rulesWindowsOf } from '../../../app/maintenance/ruleset-windows';
import { createLogger } from '../../../lib/logger';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { createTestApp, type TestApp } from '../../helpers/app';
import { createSource, insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { deliver, genericAlert, processWithWindows } from '../maintenance/maintenance-helpers';

// The rules API: R-RUL-3 (what is live, reload, the refused edit with file/rule/pointer), R-RUL-4
// (the dry run explains and creates nothing) and the replay of a candidate ruleset over stored
// alerts (issue point 8), which reports changed decisions and touches no ticket.

const DEFAULT_RULES = path.resolve(__dirname, '../../../rules/00-default.json');

/** A candidate that sends every backup alert to the service-desk contract's queue "backup". */
const backupRule = (contract = 'C-DESK') => ({
  rules: [
    {
      name: 'backup-to-desk',
      priority: 10,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'backup' }] },
      event: { type: 'assign', params: { contract, service: 'DESK', queue: 'backup' } },
    },
  ],
});

describe('rules API', () => {
  let t: TestApp;
  let api: Client;
  let db: Knex;
  let world: World;
  let store: RulesetStore;
  let root: string;
  let rulesDir: string;
  let source: { id: string; name: string };
  let defaultContent: unknown;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-api-'));
    rulesDir = path.join(root, 'rules');
    await fs.mkdir(rulesDir);
    await fs.copyFile(DEFAULT_RULES, path.join(rulesDir, '00-default.json'));
    defaultContent = JSON.parse(await fs.readFile(DEFAULT_RULES, 'utf8'));
    t = await createTestApp({ env: { RULES_DIR: rulesDir } });
    db = t.db;
    api = client(t);
    const s = await createSource(db, t.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    source = { id: s.id, name: 'rmm' };
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    // The process's live rules, as app/rules/live-rules.ts builds them (without the file watcher, so reloads happen only when asked).
    store = new RulesetStore({ db, dir: rulesDir, logger: createLogger('silent'), pollIntervalMs: 3_600_000 });
    const loaded = await store.loadFromDir(rulesDir, 'startup:test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    t.deps.services.rules = { store };
  });
  afterAll(async () => {
    await store.close();
    await t.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Row counts of every table: the proof that a request wrote nothing. */
  async function rowCounts(): Promise<Record<string, number>> {
    const tables = (await db.raw("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name")) as {
      rows: Array<{ table_name: string }>;
    };
    const out: Record<string, number> = {};
    for (const { table_name } of tables.rows) {
      const r = (await db(table_name).count({ n: '*' }).first()) as { n: string };
      out[table_name] = Number(r.n);
    }
    return out;
  }

  describe('R-RUL-3: status and reload', () => {
    it('shows the live version, hash, activation and rule count; a refused edit names file, rule and pointer and leaves the live version; a fixed edit goes live', async () => {
      const status = await api.get('/rules/status');
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({
        live: { version: 1, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/), activatedBy: 'startup:test', ruleCount: expect.any(Number) },
        lastError: null,
        maintenanceWindows: { count: 0, issues: [] },
      });
      expect(status.body.live.ruleCount).toBeGreaterThan(3);

      await fs.writeFile(path.join(rulesDir, '50-bad.json'), JSON.stringify(backupRule('C-NOPE'), null, 2));
      const refused = await api.post('/rules/reload', {});
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('RULES_INVALID');
      expect(refused.body.error.message).toMatch(/50-bad\.json.*backup-to-desk.*\/rules\/0\/event\/params\/contract/);
      expect(refused.body.error.details).toMatchObject({ liveVersion: 1, errors: [expect.objectContaining({ file: '50-bad.json', rule: 'backup-to-desk', pointer: '/rules/0/event/params/contract' })] });

      const afterRefusal = await api.get('/rules/status');
      expect(afterRefusal.body.live.version).toBe(1);
      expect(afterRefusal.body.lastError).toMatchObject({ errors: [expect.objectContaining({ file: '50-bad.json', rule: 'backup-to-desk', pointer: '/rules/0/event/params/contract', line: expect.any(Number) })] });

      await fs.writeFile(
        path.join(rulesDir, '50-bad.json'),
        JSON.stringify({ ...backupRule(), maintenanceWindows: [{ name: 'never', category: 'never-used', timezone: 'UTC', endsAt: '2000-01-02T00:00:00Z' }] }, null, 2),
      );
      const reloaded = await api.post('/rules/reload', {});
      expect(reloaded.status).toBe(200);
      expect(reloaded.body).toMatchObject({ changed: true, version: 2, status: { live: { version: 2, activatedBy: 'api:bootstrap-admin' }, lastError: null, maintenanceWindows: { count: 1, issues: [] } } });
      expect((await api.get('/rules/status')).body.live.version).toBe(2);

      const audits = (await db('audit_log').where({ entity_type: 'ruleset' }).orderBy('id')) as Array<{ action: string; entity_id: string | null }>;
      expect(audits.map((a) => [a.action, a.entity_id])).toEqual([
        ['reload-refused', null],
        ['reload', '2'],
      ]);
      // Back to the shipped default for the tests below (a third version).
      await fs.rm(path.join(rulesDir, '50-bad.json'));
      expect((await api.post('/rules/reload', {})).body).toMatchObject({ changed: true, version: 3 });
    });

    it('reload needs an admin; status is readable by a viewer', async () => {
      const operator = await tokenFor(t, 'operator');
      expect((await api.post('/rules/reload', {}, operator)).status).toBe(403);
      expect((await api.get('/rules/status', await tokenFor(t, 'viewer'))).status).toBe(200);
    });
  });

  describe('R-RUL-4: POST /rules/test', () => {
    it('explains the decision with each rule fired or not, the failed condition and the fact values, and writes nothing', async () => {
      const before = await rowCounts();
      const res = await api.post('/rules/test', { alert: genericAlert({ alertId: 'dry-1', severity: 'critical' }) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        outcome: 'ticket',
        decision: { outcome: 'ticket', assignment: { contract: 'device', priority: 'critical' }, needsTriage: false, rulesetVersion: 3 },
        facts: { company: { name: 'ACME GmbH', code: 'ACME' }, deviceContract: { code: 'C-MAIL' }, alert: { source: 'rmm', severity: 'critical', category: 'disk' } },
        referenceAgrees: true,
        maintenanceWindow: null,
        openTicket: null,
        company: { id: world.company.id },
        device: { id: world.mailServer.id, hostname: 'mail01' },
        alert: { source: 'rmm' },
      });
      const byName = new Map((res.body.trace as Array<{ rule: string }>).map((r) => [r.rule, r]));
      expect(byName.get('device-contract')).toMatchObject({ fired: true, file: '00-default.json' });
      expect(byName.get('default-service-desk-contract')).toMatchObject({
        fired: false,
        failedCondition: { fact: 'deviceContract', operator: 'equal', value: null, factValue: expect.objectContaining({ code: 'C-MAIL' }), result: false },
      });
      expect(await rowCounts()).toEqual(before);

      // An unknown host is not discovered by a dry run (the worker would create it).
      const unknown = await api.post('/rules/test', { alert: genericAlert({ alertId: 'dry-2', device: { hostname: 'new-host', site: 'acme-hq' } }) });
      expect(unknown.body).toMatchObject({ outcome: 'ticket', device: null, decision: { assignment: { contract: 'default' } } });
      expect(await rowCounts()).toEqual(before);
    });

    it('answers what the worker would do: occurrence on an open ticket, resolve, a maintenance window at `at`', async () => {
      const open = await deliver(db, source, genericAlert({ alertId: 'open-1' }));
      const processed = await processWithWindows(db, store.require(), open.receiptId);
      expect((await api.post('/rules/test', { alert: genericAlert({ alertId: 'open-1', occurredAt: '2026-03-10T10:05:00Z' }) })).body).toMatchObject({
        outcome: 'occurrence',
        openTicket: { id: processed.ticketId },
      });
      expect((await api.post('/rules/test', { alert: genericAlert({ alertId: 'x', state: 'resolved' }) })).body.outcome).toBe('resolve');

      const w = await api.post('/maintenance-windows', { name: 'printer swap', deviceId: world.printer.id, timezone: 'UTC', startsAt: '2026-04-01T08:00:00Z', endsAt: '2026-04-01T12:00:00Z' });
      const printerAlert = genericAlert({ alertId: 'toner', device: { id: 'dev-printer', hostname: 'printer-3og', site: 'acme-hq' } });
      const { occurredAt: _ignored, ...withoutTime } = printerAlert;
      const inWindow = await api.post('/rules/test', { alert: withoutTime, at: '2026-04-01T09:00:00Z' });
      expect(inWindow.body).toMatchObject({ outcome: 'maintenance', maintenanceWindow: { key: `api:${w.body.id as string}`, name: 'printer swap', origin: 'api' }, alert: { occurredAt: '2026-04-01T09:00:00.000Z' } });
      expect((await api.post('/rules/test', { alert: printerAlert, at: '2026-04-01T13:00:00Z' })).body.outcome).toBe('ticket');
    });

    it('refuses a bad alert with 400 naming the field, an unknown source, and other companies for a scoped token', async () => {
      const { title: _t, ...noTitle } = genericAlert();
      const bad = await api.post('/rules/test', { alert: noTitle });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^body\.alert\.title: /);
      const noDevice = await api.post('/rules/test', { alert: genericAlert({ device: { site: 'acme-hq' } }) });
      expect(noDevice.status).toBe(400);
      expect(noDevice.body.error.message).toMatch(/^body\.alert\.device: needs id or hostname/);
      const badAt = await api.post('/rules/test', { alert: genericAlert(), at: 'tomorrow' });
      expect(badAt.body.error.message).toMatch(/^at: /);
      const unknownSource = await api.post('/rules/test', { alert: genericAlert({ source: 'nope' }) });
      expect(unknownSource.status).toBe(400);
      expect(unknownSource.body.error.message).toMatch(/^alert\.source: no source named "nope"/);

      const other = await insertRow(db, 'companies', { name: 'Other Ltd' });
      const scoped = await tokenFor(t, 'operator', [other.id]);
      expect((await api.post('/rules/test', { alert: genericAlert() }, scoped)).status).toBe(404);
      const mine = await tokenFor(t, 'operator', [world.company.id]);
      expect((await api.post('/rules/test', { alert: genericAlert() }, mine)).status).toBe(200);
      expect((await api.post('/rules/test', { alert: genericAlert() }, await tokenFor(t, 'viewer'))).status).toBe(403);
    });
  });

  describe('replay: POST /rules/diff and hub rules diff', () => {
    const ids: { backup: string[]; disk: string[]; resolved: string } = { backup: [], disk: [], resolved: '' };

    beforeAll(async () => {
      // Stored alerts of the period, processed by the worker with the live rules.
      const live = store.require();
      const put = async (payload: Record<string, unknown>) => {
        const a = await deliver(db, source, payload);
        await processWithWindows(db, live, a.receiptId);
        return a.alertId;
      };
      for (const i of [1, 2, 3]) ids.backup.push(await put(genericAlert({ alertId: `backup-${i}`, category: 'backup' })));
      ids.backup.push(await put(genericAlert({ alertId: 'backup-printer', category: 'backup', device: { id: 'dev-printer', hostname: 'printer-3og', site: 'acme-hq' } })));
      for (const i of [1, 2]) ids.disk.push(await put(genericAlert({ alertId: `diskr-${i}` })));
      ids.resolved = await put(genericAlert({ alertId: 'backup-1', category: 'backup', state: 'resolved', occurredAt: '2026-03-10T11:00:00Z' }));
    });

    const ticketsSnapshot = () => db('tickets').orderBy('id');

    it('reports the decisions a candidate that reroutes a category would change, with counts and examples, and changes no ticket', async () => {
      const tickets = await ticketsSnapshot();
      const before = await rowCounts();
      const res = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent, '10-backup.json': backupRule() } }, since: '7d' });
      expect(res.status).toBe(200);
      const evaluated = (await db('alerts').where('state', 'firing').count({ n: '*' }).first()) as { n: string };
      expect(res.body).toMatchObject({ live: { version: 3 }, alertsEvaluated: Number(evaluated.n), truncated: false, changed: 4 });
      expect(res.body.unchanged).toBe(Number(evaluated.n) - 4);
      expect(res.body.changes).toEqual([
        {
          from: { outcome: 'ticket', contract: 'device', service: null, sla: null, priority: 'high', queue: null, needsTriage: false, suppressReason: null, maintenanceWindow: null },
          to: { outcome: 'ticket', contract: 'ref:C-DESK', service: 'DESK', sla: null, priority: 'high', queue: 'backup', needsTriage: false, suppressReason: null, maintenanceWindow: null },
          count: 4,
          examples: [...ids.backup].sort((a, b) => Number(a) - Number(b)),
        },
      ]);
      expect(res.body.changes[0].examples).not.toContain(ids.resolved);
      expect(await ticketsSnapshot()).toEqual(tickets);
      expect(await rowCounts()).toEqual(before);
    });

    it('reports alerts a candidate maintenance window would silence; limit truncates', async () => {
      const withWindow = { ...backupRule(), rules: [], maintenanceWindows: [{ name: 'backup freeze', category: 'backup', timezone: 'UTC', endsAt: '2030-01-01T00:00:00Z' }] };
      const res = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent, '10-freeze.json': withWindow } }, since: '7d' });
      expect(res.status).toBe(200);
      expect(res.body.changed).toBe(4);
      expect(res.body.changes[0].to).toMatchObject({ outcome: 'maintenance', maintenanceWindow: 'backup freeze', contract: null });

      const limited = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: '7d', limit: 2 });
      expect(limited.body).toMatchObject({ alertsEvaluated: 2, truncated: true, changed: 0, unchanged: 2, changes: [] });
      const empty = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: '2020-01-01T00:00:00Z', until: '2020-02-01T00:00:00Z' });
      expect(empty.body).toMatchObject({ alertsEvaluated: 0, changed: 0 });
    });

    it('refuses an invalid candidate with 422 RULES_INVALID naming file, rule and pointer (windows included), and bad periods with 400', async () => {
      const bad = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent, '10-backup.json': backupRule('C-NOPE') } }, since: '7d' });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('RULES_INVALID');
      expect(bad.body.error.message).toMatch(/10-backup\.json.*backup-to-desk.*\/rules\/0\/event\/params\/contract/);
      expect(bad.body.error.details.errors[0]).toMatchObject({ file: '10-backup.json', rule: 'backup-to-desk', pointer: '/rules/0/event/params/contract' });

      const text = await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent, '10-broken.json': '{ "rules": [ }' } }, since: '7d' });
      expect(text.status).toBe(422);
      expect(text.body.error.details.errors[0]).toMatchObject({ file: '10-broken.json', message: expect.stringMatching(/not valid JSON/) });

      const badWindow = await api.post('/rules/diff', {
        candidate: { files: { '00-default.json': defaultContent, '10-w.json': { rules: [], maintenanceWindows: [{ name: 'forever', timezone: 'UTC' }] } } },
        since: '7d',
      });
      expect(badWindow.status).toBe(422);
      expect(badWindow.body.error.details.errors[0]).toMatchObject({ file: '10-w.json', rule: null, pointer: '/maintenanceWindows/0/endsAt' });

      const badName = await api.post('/rules/diff', { candidate: { files: { '../x.json': defaultContent } }, since: '7d' });
      expect(badName.status).toBe(400);
      expect((await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: 'last week' })).body.error.message).toMatch(/^since: /);
      expect((await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: '7d', until: '2020-01-01T00:00:00Z' })).body.error.message).toMatch(/^until: must be after since/);
      expect((await api.post('/rules/diff', { candidate: {}, since: '7d' })).status).toBe(400);
    });

    it("reads a candidate directory on the server only for admins and only inside RULES_DIR's parent", async () => {
      const next = path.join(root, 'rules.next');
      await fs.mkdir(next, { recursive: true });
      await fs.writeFile(path.join(next, '00-default.json'), JSON.stringify(defaultContent));
      await fs.writeFile(path.join(next, '10-backup.json'), JSON.stringify(backupRule()));
      const ok = await api.post('/rules/diff', { candidate: { dir: 'rules.next' }, since: '7d' });
      expect(ok.status).toBe(200);
      expect(ok.body.changed).toBe(4);
      expect((await api.post('/rules/diff', { candidate: { dir: next }, since: '7d' })).body.changed).toBe(4);

      const outside = await api.post('/rules/diff', { candidate: { dir: os.tmpdir() }, since: '7d' });
      expect(outside.status).toBe(400);
      expect(outside.body.error.message).toMatch(/^candidate\.dir: must be a directory inside/);
      const escape = await api.post('/rules/diff', { candidate: { dir: '../..' }, since: '7d' });
      expect(escape.status).toBe(400);
      const link = path.join(root, 'sneaky');
      await fs.symlink('/etc', link);
      expect((await api.post('/rules/diff', { candidate: { dir: 'sneaky' }, since: '7d' })).status).toBe(400);

      const operator = await tokenFor(t, 'operator');
      expect((await api.post('/rules/diff', { candidate: { dir: 'rules.next' }, since: '7d' }, operator)).status).toBe(403);
      expect((await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: '7d' }, operator)).status).toBe(200);
      const scoped = await tokenFor(t, 'admin', [world.company.id]);
      expect((await api.post('/rules/diff', { candidate: { files: { '00-default.json': defaultContent } }, since: '7d' }, scoped)).status).toBe(403);
    });

    it('hub rules diff --since 7d <dir> prints the same change as a table; an invalid candidate exits 1 naming file and pointer', async () => {
      const next = path.join(root, 'cli-candidate');
      await fs.mkdir(next, { recursive: true });
      await fs.writeFile(path.join(next, '00-default.json'), JSON.stringify(defaultContent));
      await fs.writeFile(path.join(next, '10-backup.json'), JSON.stringify(backupRule()));
      const run = async (args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        let code = -1;
        const program = new Command().exitOverride();
        registerRulesDiffCommand(program, {
          openDb: () => db,
          closeDb: async () => undefined,
          out: (l) => out.push(l),
          err: (l) => err.push(l),
          setExitCode: (c) => {
            code = c;
          },
          now: () => new Date(),
        });
        await program.parseAsync(['node', 'hub', 'rules', 'diff', ...args]);
        return { out, err, code };
      };
      const tickets = await ticketsSnapshot();
      const res = await run(['--since', '7d', next]);
      expect(res.code).toBe(0);
      const text = res.out.join('\n');
      expect(text).toMatch(/against live version 3/);
      expect(text).toMatch(/4 would change/);
      expect(text).toMatch(/^\s*4\s+contract: device → ref:C-DESK, service: — → DESK, queue: — → backup\s+\d+(,\d+){3}$/m);
      expect(await ticketsSnapshot()).toEqual(tickets);

      expect((await run(['--since', '7d', '--fail-on-change', next])).code).toBe(1);
      const json = await run(['--since', '7d', '--json', next]);
      expect(JSON.parse(json.out.join('\n'))).toMatchObject({ changed: 4, live: { version: 3 } });

      await fs.writeFile(path.join(next, '10-backup.json'), JSON.stringify(backupRule('C-NOPE')));
      const invalid = await run(['--since', '7d', next]);
      expect(invalid.code).toBe(1);
      expect(invalid.err.join('\n')).toMatch(/10-backup\.json:\d+:\d+ › backup-to-desk › \/rules\/0\/event\/params\/contract/);
    });
  });
  describe('maintenance windows declared in rules files', () => {
    it('lists the live ruleset\'s windows and, by name, the alerts each silenced', async () => {
      await fs.writeFile(
        path.join(rulesDir, '60-maint.json'),
        JSON.stringify({ rules: [], maintenanceWindows: [{ name: 'printer swap', device: 'printer-3og', timezone: 'UTC', endsAt: '2099-01-01T00:00:00Z', processAfter: true }] }),
      );
      expect((await api.post('/rules/reload', {})).status).toBe(200);
      const listed = await api.get('/maintenance-windows/rules');
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual({
        items: [expect.objectContaining({ key: 'rules:printer swap', name: 'printer swap', file: '60-maint.json', device: 'printer-3og', company: null, processAfter: true, inForce: true })],
        issues: [],
      });

      const a = await deliver(db, source, genericAlert({ alertId: 'toner-low', category: 'toner', device: { id: 'dev-printer', hostname: 'printer-3og', site: 'acme-hq' } }));
      const live = store.require();
      expect((await processWithWindows(db, live, a.receiptId, rulesWindowsOf(live))).outcome).toBe('maintenance');
      const alerts = await api.get(`/maintenance-windows/rules/${encodeURIComponent('printer swap')}/alerts`);
      expect(alerts.body.items).toEqual([expect.objectContaining({ alertId: a.alertId, status: 'suppressed', outcome: 'maintenance', release: null })]);
      // The dry run sees the same window.
      expect((await api.post('/rules/test', { alert: genericAlert({ alertId: 'toner-2', device: { hostname: 'printer-3og', site: 'acme-hq' } }) })).body).toMatchObject({
        outcome: 'maintenance',
        maintenanceWindow: { key: 'rules:printer swap', origin: 'rules', file: '60-maint.json' },
      });

      const scoped = await tokenFor(t, 'viewer', [world.company.id]);
      expect((await api.get('/maintenance-windows/rules', scoped)).status).toBe(403);
      await fs.rm(path.join(rulesDir, '60-maint.json'));
      expect((await api.post('/rules/reload', {})).status).toBe(200);
      expect((await api.get('/maintenance-windows/rules')).body.items).toEqual([]);
    });
  });
});
