import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Knex } from 'knex';
import { resolveStaleTickets } from '../../../db/queries/upkeep';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { startTestHub, waitFor, type TestHub } from '../../helpers/hub';

/** Rules an MSP would add on top of the shipped default (R-RUL-1), one per ticket behaviour. */
const extraRules = {
  rules: [
    { name: 'flappy-reopens', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'flappy' }] }, event: { type: 'assign', params: { reopenWindowMinutes: 30 } } },
    { name: 'stale-resolves', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'stale' }] }, event: { type: 'assign', params: { staleAfterMinutes: 1 } } },
    { name: 'blips-wait', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'blip' }] }, event: { type: 'assign', params: { holdOffSeconds: 2 } } },
    { name: 'noise-suppressed', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'noise' }] }, event: { type: 'suppress', params: { reason: 'lab noise' } } },
    { name: 'resolve-annotates', priority: 5, conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'note-only' }] }, event: { type: 'assign', params: { resolveAction: 'annotate' } } },
    {
      name: 'backup-to-desk',
      priority: 5,
      conditions: { all: [{ fact: 'alert', path: '$.category', operator: 'equal', value: 'backup' }] },
      event: { type: 'assign', params: { contract: 'C-DESK', service: 'DESK', sla: 'PREMIUM', priority: 'P1', queue: 'backup' } },
    },
  ],
};

const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let world: World;
let rulesDir: string;

const alert = (alertId: string, category: string, over: Record<string, unknown> = {}) => ({
  alertId,
  state: 'firing',
  severity: 'medium',
  category,
  title: `${category} alert`,
  device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' },
  occurredAt: '2026-04-01T10:00:00Z',
  ...over,
});
const post = (body: unknown, source = 'rmm') =>
  request(h.url).post(`/hooks/${source}`).set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const settled = () =>
  waitFor(async () => {
    const r = (await db('alert_receipts').whereNull('processed_at').whereNull('not_before').count({ n: '*' }).first()) as { n: string };
    return r.n === '0';
  }, 20_000, 'receipts processed');
const ticketsOf = (dedupSuffix: string) => db('tickets').where('dedup_key', 'like', `%${dedupSuffix}`).orderBy('id');

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-'));
  for (const f of fs.readdirSync(path.join(__dirname, '../../../rules')).filter((n) => n.endsWith('.json'))) {
    fs.copyFileSync(path.join(__dirname, '../../../rules', f), path.join(rulesDir, f));
  }
  h = await startTestHub({ env: { RULES_DIR: rulesDir } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'limited', plugin: 'generic', auth: { type: 'token', token: TOKEN }, rateLimitPerSecond: 2 });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  // The admin's rules name contracts, services and SLAs: they are checked against the database
  // (R-RUL-2), so they go live once those exist.
  fs.writeFileSync(path.join(rulesDir, '50-behaviours.json'), JSON.stringify(extraRules));
  const outcome = await h.hub.rules.store.loadFromDir(rulesDir, 'test');
  expect(outcome).toMatchObject({ ok: true });
});
afterAll(async () => {
  await h.close();
  fs.rmSync(rulesDir, { recursive: true, force: true });
});

describe('rule-driven ticket behaviours (R-ALR-4, R-RUL-1)', () => {
  it('R-RUL-1, R-LINK-3: an admin rule routes backup alerts to a named contract, service and SLA with P1', async () => {
    await post(alert('bk-1', 'backup'));
    await settled();
    const [t] = await ticketsOf('bk-1');
    expect(t).toMatchObject({ contract_id: world.defaultContract.id, service_id: world.serviceDesk.id, sla_id: world.sla24x7.id, priority: 'critical', queue: 'backup' });
    expect(t.decision.rulesFired.map((r: { name: string }) => r.name)).toContain('backup-to-desk');
  });

  it('suppress: the alert is stored and marked suppressed, no ticket', async () => {
    const res = await post(alert('n-1', 'noise'));
    await settled();
    expect(await ticketsOf('n-1')).toHaveLength(0);
    expect(await db('alerts').where({ id: res.body.alertIds[0] }).first()).toMatchObject({ status: 'suppressed', outcome: 'suppressed' });
  });

  it('R-ALR-4 flapping: a re-fire within the reopen window of an automatic resolution reopens the same ticket', async () => {
    await post(alert('fl-1', 'flappy'));
    await settled();
    await post(alert('fl-1', 'flappy', { state: 'resolved', occurredAt: '2026-04-01T10:01:00Z' }));
    await settled();
    await post(alert('fl-1', 'flappy', { occurredAt: '2026-04-01T10:02:00Z' }));
    await settled();
    const all = await ticketsOf('fl-1');
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ status: 'new', flaps: 1, occurrences: 2 });
  });

  it('R-ALR-4 without a reopen window (the default) a re-fire after resolution opens a new ticket', async () => {
    await post(alert('nf-1', 'plain'));
    await settled();
    await post(alert('nf-1', 'plain', { state: 'resolved', occurredAt: '2026-04-01T10:01:00Z' }));
    await settled();
    await post(alert('nf-1', 'plain', { occurredAt: '2026-04-01T10:02:00Z' }));
    await settled();
    expect((await ticketsOf('nf-1')).map((t) => t.status)).toEqual(['resolved', 'new']);
  });

  it('resolveAction annotate: a resolved event only adds a note; the ticket stays open', async () => {
    await post(alert('an-1', 'note-only'));
    await settled();
    await post(alert('an-1', 'note-only', { state: 'resolved', occurredAt: '2026-04-01T10:03:00Z' }));
    await settled();
    const [t] = await ticketsOf('an-1');
    expect(t.status).toBe('new');
    expect(await db('ticket_notes').where({ ticket_id: t.id, kind: 'alert-resolved' })).toHaveLength(1);
  });

  it('lost resolves: a ticket whose alert stopped repeating is auto-resolved after its staleness timeout, with a note', async () => {
    const occurredAt = new Date();
    await post(alert('st-1', 'stale', { occurredAt: occurredAt.toISOString() }));
    await settled();
    const [t] = await ticketsOf('st-1');
    // staleAfterMinutes: 1, counted from the alert's last occurrence.
    expect(await resolveStaleTickets(db, new Date(occurredAt.getTime() + 30_000))).not.toContain(t.id);
    expect(await resolveStaleTickets(db, new Date(occurredAt.getTime() + 61_000))).toContain(t.id);
    expect(await db('tickets').where({ id: t.id }).first()).toMatchObject({ status: 'resolved', resolved_automatically: true });
    expect(await db('ticket_notes').where({ ticket_id: t.id, kind: 'stale-resolve' })).toHaveLength(1);
  });

  it('hold-off: a blip that clears within the hold-off makes no ticket; one that does not clear gets its ticket after it', async () => {
    const cleared = await post(alert('bl-1', 'blip'));
    await post(alert('bl-2', 'blip'));
    await waitFor(async () => (await db('alerts').where({ id: cleared.body.alertIds[0], status: 'held' }).first()) ?? null, 10_000, 'alert held');
    await post(alert('bl-1', 'blip', { state: 'resolved', occurredAt: '2026-04-01T10:00:30Z' }));
    await waitFor(async () => {
      const r = (await db('alert_receipts').whereNull('processed_at').count({ n: '*' }).first()) as { n: string };
      return r.n === '0';
    }, 20_000, 'held receipts processed');
    expect(await ticketsOf('bl-1')).toHaveLength(0);
    expect(await db('alerts').where({ id: cleared.body.alertIds[0] }).first()).toMatchObject({ outcome: 'cleared_during_hold_off' });
    expect(await ticketsOf('bl-2')).toHaveLength(1);
  });

  it('R-ALR-1: a source over its rate limit gets 429 with Retry-After', async () => {
    const codes: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await post(alert(`rl-${i}`, 'plain'), 'limited');
      codes.push(r.status);
      if (r.status === 429) retryAfter = r.headers['retry-after'];
    }
    expect(codes.slice(0, 2)).toEqual([202, 202]);
    expect(codes).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
