import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { latestRulesetError } from '../../../db/queries/rulesets';
import { RulesetStore } from '../../../rules/engine/ruleset-store';
import { baseFacts } from '../../../rules/engine/test-support';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

/**
 * R-RUL-2/3 on a real database and a real directory: hot reload, an invalid edit keeps the last
 * good ruleset live (and is recorded and visible), and several stores on one database converge.
 */

const queueRule = (queue: string, extra: Record<string, unknown> = {}) => ({
  rules: [{ name: 'queue', priority: 5, conditions: { all: [] }, event: { type: 'assign', params: { queue, ...extra } } }],
});

async function waitFor<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RulesetStore', () => {
  let t: TestDatabase;
  let dir: string;
  const stores: RulesetStore[] = [];
  const store = (d = dir, instance = `test-${stores.length}`) => {
    const s = new RulesetStore({ db: t.db, dir: d, instance, pollIntervalMs: 150, debounceMs: 40 });
    stores.push(s);
    return s;
  };
  const write = (name: string, content: unknown, d = dir) => fs.writeFile(path.join(d, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  const versions = async () => (await t.db('rulesets').count<{ count: string }[]>('* as count'))[0]?.count;

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-'));
    await t.db.raw('TRUNCATE rulesets, ruleset_errors, contracts, companies RESTART IDENTITY CASCADE');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('R-RUL-3: loading records the ruleset and puts it live; the decision names its version', async () => {
    await write('10-queue.json', queueRule('noc'));
    const s = store();
    expect(s.ready).toBe(false);
    expect(() => s.decide(baseFacts())).toThrow(expect.objectContaining({ code: 'NOT_READY' }));

    const outcome = await s.loadFromDir(dir, 'admin:alice');
    expect(outcome).toMatchObject({ ok: true, changed: true, version: 1 });
    expect(s.status()).toMatchObject({ live: { version: 1, activatedBy: 'admin:alice', ruleCount: 1, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) }, watching: false });
    expect(s.decide(baseFacts())).toMatchObject({ rulesetVersion: 1, assignment: { queue: 'noc' } });

    // Loading the same files again changes nothing and records nothing.
    expect(await s.loadFromDir(dir, 'admin:alice')).toMatchObject({ ok: true, changed: false, version: 1 });
    expect(await versions()).toBe('1');
  });

  it('R-RUL-2: an invalid edit keeps the last good version live; the error is recorded and shown until fixed', async () => {
    await write('10-queue.json', queueRule('noc'));
    const s = store();
    await s.loadFromDir(dir, 'test');

    await write('10-queue.json', queueRule('noc', { priority: 'urgent' }));
    const refused = await s.loadFromDir(dir, 'watch:test');
    expect(refused).toMatchObject({ ok: false, liveVersion: 1 });
    const status = s.status();
    expect(status.live?.version).toBe(1);
    expect(status.lastError?.errors).toEqual([
      expect.objectContaining({ file: '10-queue.json', rule: 'queue', pointer: '/rules/0/event/params/priority', line: expect.any(Number) }),
    ]);
    expect(s.decide(baseFacts())).toMatchObject({ rulesetVersion: 1, assignment: { queue: 'noc' } });
    expect(await latestRulesetError(t.db, { pendingOnly: true })).toMatchObject({ detectedBy: 'watch:test', errors: status.lastError?.errors });

    // Broken JSON too.
    await write('10-queue.json', '{ "rules": [ ');
    expect(await s.loadFromDir(dir, 'test')).toMatchObject({ ok: false, errors: [expect.objectContaining({ file: '10-queue.json', message: expect.stringContaining('not valid JSON') })] });
    expect(s.status().live?.version).toBe(1);

    // Reverting the edit resolves the error without a new version.
    await write('10-queue.json', queueRule('noc'));
    expect(await s.loadFromDir(dir, 'test')).toMatchObject({ ok: true, changed: false, version: 1 });
    expect(s.status().lastError).toBeUndefined();
    expect(await latestRulesetError(t.db, { pendingOnly: true })).toBeNull();
  });

  it('R-RUL-2: references are checked against the database', async () => {
    await write('10-backup.json', { rules: [{ name: 'backup', conditions: { all: [] }, event: { type: 'assign', params: { contract: 'BACKUP-2026' } } }] });
    const s = store();
    expect(await s.loadFromDir(dir, 'test')).toMatchObject({
      ok: false,
      errors: [expect.objectContaining({ pointer: '/rules/0/event/params/contract', message: 'unknown contract "BACKUP-2026": no contract has this name or code' })],
    });
    const [company] = (await t.db('companies').insert({ name: 'Acme' }).returning('id')) as Array<{ id: string }>;
    await t.db('contracts').insert({ company_id: company?.id, name: 'Backup', code: 'BACKUP-2026', type: 'recurring_service', period_type: 'yearly', start_date: '2026-01-01', end_date: '2026-12-31' });
    expect(await s.loadFromDir(dir, 'test')).toMatchObject({ ok: true, version: 1 });
  });

  it('R-RUL-3: changes are picked up without restart (watching the directory)', async () => {
    await write('10-queue.json', queueRule('noc'));
    const s = store();
    await s.start('startup:test');
    expect(s.status()).toMatchObject({ live: { version: 1 }, watching: true });

    await write('10-queue.json', queueRule('backup-team'));
    await waitFor('version 2', () => s.status().live?.version, (v) => v === 2);
    expect(s.decide(baseFacts()).assignment.queue).toBe('backup-team');
    expect(s.status().live?.activatedBy).toMatch(/^watch:/);

    // An invalid edit arrives by the watcher too: still version 2, error visible.
    await write('10-queue.json', { rules: [{ name: 'x', conditions: { all: [{ fact: 'alert', path: '$..[?(@.constructor)]', operator: 'equal', value: 1 }] }, event: { type: 'stop' } }] });
    const status = await waitFor('the error', () => s.status(), (st) => st.lastError !== undefined);
    expect(status.live?.version).toBe(2);
    expect(status.lastError?.errors[0]).toMatchObject({ rule: 'x', pointer: '/rules/0/conditions/all/0/path' });
  });

  it('R-RUL-3: two stores on one database converge on the same version', async () => {
    await write('10-queue.json', queueRule('noc'));
    const a = store(dir, 'a');
    const b = store(dir, 'b');
    await Promise.all([a.start('startup:a'), b.start('startup:b')]);
    expect(a.status().live?.version).toBe(1);
    expect(b.status().live?.version).toBe(1);
    expect(await versions()).toBe('1');

    await write('10-queue.json', queueRule('v2'));
    await waitFor('both on version 2', () => [a.status().live?.version, b.status().live?.version], (v) => v[0] === 2 && v[1] === 2);
    expect(await versions()).toBe('2');
    expect(a.status().live?.contentHash).toBe(b.status().live?.contentHash);

    // A process whose own directory is empty adopts the latest stored version from the database.
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-rules-empty-'));
    try {
      const c = store(emptyDir, 'c');
      expect(await c.start('startup:c')).toMatchObject({ ok: false });
      expect(c.status().live).toMatchObject({ version: 2, contentHash: a.status().live?.contentHash });
      expect(c.decide(baseFacts()).assignment.queue).toBe('v2');

      // …and follows later versions through the poll.
      await write('10-queue.json', queueRule('v3'));
      await waitFor('c on version 3', () => c.status().live?.version, (v) => v === 3);
      expect(c.decide(baseFacts())).toMatchObject({ rulesetVersion: 3, assignment: { queue: 'v3' } });
    } finally {
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('R-RUL-3: decisions during reloads always see one whole ruleset', async () => {
    await write('10-queue.json', queueRule('q1', { holdOffSeconds: 1 }));
    const s = store();
    expect(await s.loadFromDir(dir, 'test')).toMatchObject({ ok: true, version: 1 });
    let running = true;
    const seen: string[] = [];
    const hammer = (async () => {
      while (running) {
        const d = s.decide(baseFacts());
        // Version, queue and hold-off come from one ruleset: a mix would mean a half-swap.
        seen.push(`${d.rulesetVersion}:${d.assignment.queue}:${d.holdOffSeconds}`);
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 2; i <= 5; i++) {
      await write('10-queue.json', queueRule(`q${i}`, { holdOffSeconds: i }));
      expect(await s.loadFromDir(dir, 'test')).toMatchObject({ ok: true, version: i });
    }
    running = false;
    await hammer;
    expect(seen.every((x) => /^(\d):q\1:\1$/.test(x))).toBe(true);
    expect(new Set(seen).size).toBeGreaterThanOrEqual(2);
  });
});
