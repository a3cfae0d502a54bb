import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import knex from 'knex';
import { registerRulesCommands, type RulesCliIo } from '../../../cli/commands/rules';
import { knexConfig } from '../../../db/connection';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

/** `hub rules check|test` (R-RUL-2, R-RUL-4): what an admin's pre-commit hook and dry runs see. */

const SHIPPED = path.join(__dirname, '..', '..', '..', 'rules');

describe('hub rules', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-cli-'));
  });
  afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

  async function run(...args: string[]): Promise<{ code: number | undefined; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    let code: number | undefined;
    const io: RulesCliIo = {
      openDb: (url) => knex({ ...knexConfig(url, 1), acquireConnectionTimeout: 2000, log: { warn: () => undefined, error: () => undefined } }),
      closeDb: (db) => db.destroy(),
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      setExitCode: (c) => {
        code = c;
      },
    };
    const program = new Command().exitOverride();
    registerRulesCommands(program, io);
    await program.parseAsync(['node', 'hub', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const write = (name: string, content: unknown) => fs.writeFile(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  it('R-RUL-2: check passes the shipped rules (exit 0)', async () => {
    const r = await run('rules', 'check', SHIPPED, '--database-url', t.url);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ .*: 7 rules in 2 files, 0 errors, 0 warnings/);
  });

  it('R-RUL-2: check fails (exit 1) naming file, line, rule and pointer', async () => {
    await write('10-admin.json', '{\n  "rules": [\n    { "name": "typo", "conditions": { "all": [ { "fact": "alert", "path": "$.severty", "operator": "equal", "value": "high" } ] },\n      "event": { "type": "assign", "params": { "contract": "NOPE" } } }\n  ]\n}\n');
    const r = await run('rules', 'check', dir, '--database-url', t.url);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error   10-admin.json:3:');
    expect(r.err).toContain('› typo › /rules/0/conditions/all/0/path: alert has no property "severty"');
    expect(r.err).toContain('› typo › /rules/0/event/params/contract: unknown contract "NOPE"');
    expect(r.out).toMatch(/✗ .*2 errors/);
  });

  it('R-RUL-2: without a database, references are warnings and check still passes; --strict fails on them', async () => {
    await write('10-admin.json', { rules: [{ name: 'backup', priority: 5, conditions: { all: [] }, event: { type: 'assign', params: { contract: 'BACKUP-2026' } } }] });
    const offline = await run('rules', 'check', dir, '--offline');
    expect(offline.code).toBe(0);
    expect(offline.out).toContain('warning 10-admin.json');
    expect(offline.out).toContain('could not check that contract "BACKUP-2026" exists');
    expect((await run('rules', 'check', dir, '--offline', '--strict')).code).toBe(1);
    // An unreachable database is the same as none.
    const unreachable = await run('rules', 'check', dir, '--database-url', 'postgres://nobody@127.0.0.1:1/none');
    expect(unreachable.code).toBe(0);
    expect(unreachable.out).toContain('database unreachable');
  });

  it('R-RUL-2: --json prints the result for CI tools', async () => {
    await write('10-admin.json', { rules: [{ name: 'x', conditions: { all: [] }, event: { type: 'nope' } }] });
    const r = await run('rules', 'check', dir, '--offline', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, errors: [{ file: '10-admin.json', rule: 'x', pointer: '/rules/0/event/type' }] });
  });

  it('R-RUL-4: test explains a generic alert against the rules (nothing created)', async () => {
    const alert = path.join(dir, 'alert.json');
    await fs.writeFile(alert, JSON.stringify({ alertId: 'a1', severity: 'critical', category: 'backup', title: 'Veeam job failed', device: { hostname: 'srv01' }, occurredAt: '2026-03-02T22:00:00+01:00' }));
    const before = await t.db('rulesets').count<{ count: string }[]>('* as count');
    const r = await run('rules', 'test', alert, '--dir', SHIPPED, '--database-url', t.url);
    expect(r.code).toBe(0);
    expect(r.out).toContain('decision: ticket, needs triage');
    expect(r.out).toContain('priority critical');
    expect(r.out).toContain('✓ no-contract-triage (priority 1, 00-default.json) → assign {"contract":"none"}');
    expect(r.out).toMatch(/✗ priority-high .*alert \$\.severity equal "high" — was "critical" \(00-default\.json \/rules\/4\/conditions\/all\/0\)/);
    expect(await t.db('rulesets').count<{ count: string }[]>('* as count')).toEqual(before);
  });

  it('R-RUL-4: test takes facts too, and --json gives facts, decision and trace', async () => {
    const facts = path.join(dir, 'facts.json');
    await fs.writeFile(
      facts,
      JSON.stringify({
        alert: { severity: 'medium', title: 'Disk full', occurredAt: '2026-03-02T10:00:00Z' },
        deviceContract: { name: 'Mail', code: 'MS', type: 'recurring_service', serviceName: 'Mail', serviceCode: 'MAIL', slaName: null, slaCode: null },
      }),
    );
    const r = await run('rules', 'test', facts, '--dir', SHIPPED, '--offline', '--json', '--timezone', 'Europe/Berlin');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out) as { facts: { contract: unknown; time: unknown }; decision: { assignment: unknown }; trace: unknown[]; referenceAgrees: boolean };
    expect(body.decision.assignment).toMatchObject({ contract: 'device', priority: 'medium' });
    expect(body.facts.contract).toMatchObject({ code: 'MS' });
    expect(body.facts.time).toEqual({ weekday: 'mon', hour: 11, minute: 0, date: '2026-03-02', isBusinessHours: true, timezone: 'Europe/Berlin' });
    expect(body.trace).toHaveLength(7);
    expect(body.referenceAgrees).toBe(true);
  });

  it('R-RUL-4: an invalid alert file names the field', async () => {
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ alert: { severity: 'urgent', title: 'x', occurredAt: 'yesterday' } }));
    const r = await run('rules', 'test', bad, '--dir', SHIPPED, '--offline');
    expect(r.code).toBe(1);
    expect(r.err).toContain('alert.severity');
    expect(r.err).toContain('alert.occurredAt');
  });
});
