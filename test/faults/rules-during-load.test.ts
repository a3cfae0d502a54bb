import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { createTestDatabase, testQueuePrefix, type TestDatabase } from '../helpers/harness';
import { hubEnv, REPO_ROOT, startHubProcess, stopAllHubProcesses, type HubChild } from '../helpers/processes';
import { alert, count, deleteQueueKeys, post, seedSource, waitAllProcessed } from './fault-helpers';

/**
 * Rules files edited while alerts are being decided (R-RUL-2, R-RUL-3): a new file written in two
 * halves (an editor saving slowly: the watcher first sees broken JSON), then an invalid rule next
 * to it. No alert fails; every ticket was decided by a whole ruleset that was recorded — the new
 * file's two rules always together, never one without the other — and the refused edits are
 * recorded and shown by GET /api/v1/rules/status.
 */
const NEW_RULES = {
  rules: [
    {
      name: 'fault-queue',
      priority: 2,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'disk' }] },
      event: { type: 'assign', params: { queue: 'fault-queue' } },
    },
    {
      name: 'fault-priority',
      priority: 2,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'disk' }] },
      event: { type: 'setPriority', params: { priority: 'low' } },
    },
  ],
};
const BROKEN_RULE = {
  rules: [
    {
      name: 'broken-operator',
      priority: 3,
      conditions: { all: [{ fact: 'alert', path: '$.severity', operator: 'isRoughly', value: 'high' }] },
      event: { type: 'setPriority', params: { priority: 'critical' } },
    },
  ],
};

describe('fault: invalid rules files written while alerts are being decided', () => {
  let t: TestDatabase;
  let db: Knex;
  let hub: HubChild;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-'));
  const secret = process.env.HUB_SECRET_KEY ?? 'test-secret-key-test-secret-key-0123456789';
  const prefix = testQueuePrefix();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const admin = `Bearer ${process.env.HUB_ADMIN_TOKEN ?? 'test-admin-token-0123456789abcdef'}`;

  beforeAll(async () => {
    for (const f of fs.readdirSync(path.join(REPO_ROOT, 'rules')).filter((n) => n.endsWith('.json'))) {
      fs.copyFileSync(path.join(REPO_ROOT, 'rules', f), path.join(dir, f));
    }
    t = await createTestDatabase();
    db = t.db;
    await seedSource(db, secret);
    hub = await startHubProcess({
      role: 'both',
      env: hubEnv({
        databaseUrl: t.url,
        redisUrl,
        prefix,
        rulesDir: dir,
        extra: { HUB_SECRET_KEY: secret },
      }),
    });
  }, 40_000);
  afterAll(async () => {
    await stopAllHubProcesses(0);
    await deleteQueueKeys(redisUrl, prefix);
    await t.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('R-RUL-2, R-RUL-3: no alert fails, none is decided by a half-loaded ruleset, the refused edits are shown', async () => {
    let stop = false;
    let n = 0;
    const statuses: number[] = [];
    const sender = (async () => {
      while (!stop) {
        const res = await post(
          hub.url,
          Array.from({ length: 5 }, () => alert(n++)),
        );
        statuses.push(res.status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    await pause(1000);
    // An editor saving slowly: the first half is on disk for longer than the watcher's debounce.
    const text = JSON.stringify(NEW_RULES, null, 2);
    const half = Math.floor(text.length / 2);
    fs.writeFileSync(path.join(dir, '50-fault.json'), text.slice(0, half));
    await pause(800);
    fs.appendFileSync(path.join(dir, '50-fault.json'), text.slice(half));
    await pause(1500);
    // A syntactically valid file with an invalid rule: refused, the live ruleset stays.
    fs.writeFileSync(path.join(dir, '60-broken.json'), JSON.stringify(BROKEN_RULE, null, 2));
    await pause(1500);
    stop = true;
    await sender;

    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await waitAllProcessed(db, 30_000, n);
    // No alert failed.
    expect(await count(db, 'alerts', (q) => q.whereNot('status', 'processed'))).toBe(0);
    expect(await count(db, 'alert_receipts', (q) => q.whereNotNull('error'))).toBe(0);

    // Exactly two rulesets went live, the shipped one and the one with the whole new file.
    const rulesets = (await db('rulesets').orderBy('version').select('version', 'content')) as Array<{
      version: number;
      content: { files: Array<{ name: string }> };
    }>;
    expect(rulesets.map((r) => r.content.files.map((f) => f.name))).toEqual([
      // 10-storms.json: the shipped storm examples (issue 18), off by default.
      ['00-default.json', '10-storms.json'],
      ['00-default.json', '10-storms.json', '50-fault.json'],
    ]);
    const [v1, v2] = rulesets.map((r) => r.version);

    // Every ticket was decided by one of them, and by all of it: v2's two rules together.
    const tickets = (await db('tickets').select('ruleset_version', 'queue', 'priority')) as Array<{
      ruleset_version: number;
      queue: string | null;
      priority: string;
    }>;
    expect(tickets).toHaveLength(n);
    const shapes = new Set(tickets.map((tk) => `${tk.ruleset_version}|${tk.queue}|${tk.priority}`));
    expect([...shapes].sort()).toEqual([`${v1}|null|high`, `${v2}|fault-queue|low`].sort());

    // Both refused edits were recorded; the pending one is shown with its file, rule and field.
    const errors = (await db('ruleset_errors').orderBy('id').select('errors', 'resolved_at')) as Array<{
      errors: Array<{ file: string }>;
      resolved_at: Date | null;
    }>;
    expect(errors.some((e) => e.errors.some((x) => x.file === '50-fault.json'))).toBe(true);
    const res = await fetch(`${hub.url}/api/v1/rules/status`, { headers: { Authorization: admin } });
    expect(res.status).toBe(200);
    const status = (await res.json()) as {
      live: { version: number };
      lastError: { errors: Array<{ file: string; rule: string | null; pointer: string; message: string }> } | null;
    };
    expect(status.live.version).toBe(v2);
    expect(status.lastError?.errors[0]).toMatchObject({
      file: '60-broken.json',
      rule: 'broken-operator',
      pointer: expect.stringContaining('/operator'),
    });
    expect(hub.output()).toMatch(/rules refused/);
  }, 58_000);
});
