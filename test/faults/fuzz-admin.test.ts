import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { createApp } from '../../api/app';
import { issueToken } from '../../app/tokens';
import { ALL_COMPANIES } from '../../core/access/company-scope';
import { createLogger } from '../../lib/logger';
import { createRedis, type RedisConnection } from '../../lib/redis';
import { RulesetStore } from '../../rules/engine/ruleset-store';
import { createTestApp, type TestApp } from '../helpers/app';
import { testQueuePrefix } from '../helpers/harness';
import {
  bodyArbitrary,
  capturingLogger,
  deepMarker,
  documentWithoutDatabase,
  fuzzParams,
  jsonBodyRoutes,
  jsonText,
  mutationsOf,
  preview,
  shown,
  stateChanges,
  tableState,
  type BodyRoute,
  type TableState,
} from '../helpers/fuzz';
import { createSource, insertRow, seedWorld, type World } from '../helpers/seed';

/**
 * Issue "Benchmarks and fault tests", point 3 — admin bodies under fuzzing (R-ALR-5 "nothing
 * crashes, nothing is half-stored", applied to every strict admin body): every POST/PUT/PATCH route
 * with a JSON body in the OpenAPI registry, found there (a route added later is fuzzed without being
 * listed), gets arbitrary JSON, bodies generated from its own schema and mutations of those, with
 * path ids that exist and ids that do not, as the bootstrap admin. Never a 5xx; after any 4xx every
 * table of the public schema (audit_log included: a refused write must not audit) is unchanged, in
 * row count and in content.
 */

const DEFAULT_RULES_FILE = path.resolve(__dirname, '../../rules/00-default.json');
const DEFAULT_RULES = JSON.parse(readFileSync(DEFAULT_RULES_FILE, 'utf8')) as unknown;
const DOC = documentWithoutDatabase();
const ROUTES = jsonBodyRoutes(DOC);
const RUNS = 30;
const MISSING_IDS = ['999999999', '0', 'abc', '99999999999999999999999', '-1'];

const label = (r: BodyRoute): string => `${r.method.toUpperCase()} ${r.path}`;

describe('fuzz: every admin route with a JSON body (R-ALR-5: no 5xx, a refused write changes nothing)', () => {
  let t: TestApp;
  let app: Express;
  let store: RulesetStore;
  let rulesRoot: string;
  let world: World;
  let state: TableState;
  // POST /rules/replays enqueues on the rule-replays queue: a real queue (no worker; jobs just wait), dropped after.
  let redis: RedisConnection;
  let replayQueue: Queue;
  const log = capturingLogger();
  /** `<segment before the parameter>:<parameter>` → ids that exist, e.g. 'contracts:id', 'services:serviceId'. */
  const existing: Record<string, string[]> = {};
  /** Ids and names a generated body may refer to, by property name. */
  const known: Record<string, string[]> = {};

  beforeAll(async () => {
    rulesRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'hub-fuzz-rules-'));
    const rulesDir = path.join(rulesRoot, 'rules');
    await fs.mkdir(rulesDir);
    await fs.copyFile(DEFAULT_RULES_FILE, path.join(rulesDir, '00-default.json'));
    redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    replayQueue = new Queue('rule-replays', { connection: redis, prefix: testQueuePrefix() });
    t = await createTestApp({ env: { RULES_DIR: rulesDir }, services: { queues: { 'rule-replays': replayQueue } } });
    const db = t.db;

    const source = await createSource(db, t.deps.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: 'tok-0123456789abcdef' } });
    world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
    const other = await insertRow(db, 'companies', { name: 'Other Ltd', code: 'OTHER' });
    const bundle = await insertRow(db, 'service_bundles', { name: 'Workplace bundle', code: 'WORKPLACE', unit_price: '55.00' });
    await db('service_bundle_items').insert([{ bundle_id: bundle.id, service_id: world.servicePrint.id }, { bundle_id: bundle.id, service_id: world.serviceDesk.id }]);
    await insertRow(db, 'contract_bundles', { contract_id: world.mailContract.id, bundle_id: bundle.id, units: 2, unit_price: '55.00' });
    const rule = await insertRow(db, 'billing_rules', { contract_id: world.mailContract.id, name: 'Setup fee', amount: '99.00', frequency: 'one_time', start_date: '2026-01-01' });
    const mapping = await insertRow(db, 'service_mappings', { contract_id: world.mailContract.id, module_billing_type: 'mail', service_id: world.serviceMail.id });
    const charge = await insertRow(db, 'contract_charges', { contract_id: world.mailContract.id, charge_date: '2026-03-01', description: 'Extra mailbox', amount: '12.50' });
    const window = await insertRow(db, 'maintenance_windows', { name: 'patch night', company_id: world.company.id, timezone: 'Europe/Berlin', starts_at: new Date('2026-03-01T20:00:00Z'), ends_at: new Date('2026-03-01T23:00:00Z') });
    const ticket = await insertRow(db, 'tickets', {
      company_id: world.company.id,
      device_id: world.mailServer.id,
      contract_id: world.mailContract.id,
      service_id: world.serviceMail.id,
      sla_id: world.sla24x7.id,
      source: 'rmm',
      dedup_key: 'rmm:fuzz',
      priority: 'high',
      title: 'Mail queue stuck',
      first_occurred_at: new Date('2026-03-02T08:00:00Z'),
      last_occurred_at: new Date('2026-03-02T08:00:00Z'),
    });
    const token = await issueToken(db, { name: 'fuzz viewer', role: 'viewer', scope: ALL_COMPANIES, actor: 'test' });

    Object.assign(existing, {
      'companies:id': [world.company.id, other.id],
      'slas:id': [world.sla24x7.id, world.slaOffice.id],
      'services:id': [world.serviceMail.id, world.serviceDesk.id],
      'service-bundles:id': [bundle.id],
      'devices:id': [world.mailServer.id, world.printer.id],
      'contracts:id': [world.mailContract.id, world.defaultContract.id],
      'services:serviceId': [world.serviceMail.id],
      'service-bundles:bundleId': [bundle.id],
      'billing-rules:ruleId': [rule.id],
      'service-mappings:mappingId': [mapping.id],
      'charges:chargeId': [charge.id],
      'sources:id': [source.id, 'rmm'],
      'tokens:id': [token.view.id],
      'maintenance-windows:id': [window.id],
      'tickets:id': [ticket.id],
    });
    Object.assign(known, {
      companyId: [world.company.id, other.id],
      slaId: [world.sla24x7.id, world.slaOffice.id],
      serviceId: [world.serviceMail.id, world.servicePrint.id, world.serviceDesk.id],
      bundleId: [bundle.id],
      contractId: [world.mailContract.id, world.defaultContract.id],
      deviceId: [world.mailServer.id, world.printer.id],
      ticketId: [ticket.id],
      companyIds: [world.company.id],
      source: ['rmm'],
      siteId: ['acme-hq'],
      site: ['acme-hq'],
      hostname: ['mail01', 'printer-3og'],
      code: ['ACME', 'C-DESK', 'MAIL', 'PREMIUM', 'WORKPLACE'],
      contract: ['C-DESK', 'C-MAIL'],
      service: ['DESK', 'MAIL'],
      sla: ['PREMIUM'],
      company: ['ACME'],
    });

    // The process's live rules, as the rules API tests build them (no file watcher).
    store = new RulesetStore({ db, dir: rulesDir, logger: createLogger('silent'), pollIntervalMs: 3_600_000 });
    const loaded = await store.loadFromDir(rulesDir, 'startup:fuzz');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    t.deps.services.rules = { store };
    // The same app over the same deps, with a logger that keeps the server's side of a 5xx for the report.
    app = createApp({ ...t.deps, logger: log.logger });
    state = await tableState(db);
  });
  afterAll(async () => {
    await store?.close();
    await replayQueue?.obliterate({ force: true });
    await replayQueue?.close();
    redis?.disconnect();
    await t?.close();
    if (rulesRoot) await fs.rm(rulesRoot, { recursive: true, force: true });
  });

  /** Concrete path: each parameter an id that exists (mostly) or one that does not. */
  const pathArb = (r: BodyRoute): fc.Arbitrary<string> => {
    const segments = r.path.split('/');
    const parts = segments.map((seg, i) => {
      const m = /^\{(.+)\}$/.exec(seg);
      if (!m?.[1]) return fc.constant(seg);
      const ids = existing[`${segments[i - 1] ?? ''}:${m[1]}`] ?? [];
      return fc.oneof(
        ...(ids.length ? [{ weight: 5, arbitrary: fc.constantFrom(...ids) }] : []),
        { weight: 1, arbitrary: fc.constantFrom(...MISSING_IDS) },
      );
    });
    return fc.tuple(...parts).map((p) => p.join('/'));
  };

  /** Values for fields whose rules a JSON schema cannot say (ordered SLA targets, hours, periods), so more bodies reach the handler. */
  const target = fc
    .tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 5000 }))
    .map(([a, b, extra]) => ({ firstResponseMinutes: a, resolutionPlanMinutes: b, resolutionMinutes: Math.max(a, b) + extra }));
  const domainHints: Record<string, fc.Arbitrary<unknown>> = {
    targets: fc.record({ critical: target, high: target, medium: target, low: target }, { requiredKeys: [] }),
    hours: fc.integer({ min: 1, max: 96 }).map((q) => q / 4),
    since: fc.constantFrom('7d', '24h', '90m', '2w', '2026-01-01T00:00:00Z'),
    // A candidate ruleset and a test alert that validate, for mutations to start from.
    candidate: fc.constantFrom({ files: { '00-default.json': DEFAULT_RULES } }, { files: { '00-default.json': DEFAULT_RULES, '10-extra.json': { rules: [] } } }),
    alert: fc.constantFrom(
      { alertId: 'disk-c', state: 'firing', severity: 'high', title: 'Disk C full', device: { hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-02T08:00:00Z', category: 'disk' },
      { alertId: 7, state: 'resolved', severity: 'low', title: 'Toner low', device: { id: 'p-3', hostname: 'printer-3og' }, occurredAt: '2026-03-02T08:00:00+01:00', labels: { floor: 3 } },
    ),
    until: fc.constantFrom('2026-12-31T00:00:00Z', '2030-01-01T00:00:00+01:00'),
  };

  const hintFor = (key: string): fc.Arbitrary<unknown> | undefined => {
    const domain = domainHints[key];
    if (domain) return domain;
    const ids = known[key] ?? (/Ids?$/.test(key) ? Object.entries(known).filter(([k]) => /Id$/.test(k)).flatMap(([, v]) => v) : undefined);
    if (!ids || ids.length === 0) return undefined;
    const values = fc.constantFrom(...ids);
    if (/Ids$/.test(key)) return fc.uniqueArray(values, { maxLength: 3 });
    if (!ids.every((id) => /^\d+$/.test(id))) return values;
    return fc.oneof({ weight: 4, arbitrary: values }, { weight: 2, arbitrary: values.map(Number) }, { weight: 1, arbitrary: fc.constantFrom(...MISSING_IDS.slice(0, 2)) });
  };

  const bodyArb = (r: BodyRoute): fc.Arbitrary<unknown> => {
    const valid = bodyArbitrary(r.schema, DOC, { byKey: hintFor });
    return fc.oneof(
      { weight: 3, arbitrary: valid },
      { weight: 4, arbitrary: mutationsOf(valid) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      { weight: 1, arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withSparseArray: true, withDate: true, withUnicodeString: true }) },
    );
  };

  it('finds the routes to fuzz in the OpenAPI registry', () => {
    // Sanity: the registry was read (a refactor that hides it would silently fuzz nothing).
    expect(ROUTES.length).toBeGreaterThan(20);
    expect(ROUTES.map(label)).toEqual(expect.arrayContaining(['POST /api/v1/companies', 'PATCH /api/v1/contracts/{id}', 'POST /api/v1/sources']));
  });

  it.each(ROUTES.map((r) => [label(r), r] as const))('R-ALR-5: %s: fuzzed bodies never get a 5xx, and a 4xx changes no table', async (_label, route) => {
    await fc.assert(
      fc.asyncProperty(pathArb(route), shown(bodyArb(route)), async (url, body) => {
        const before = state;
        log.take();
        const text = jsonText(body.value);
        const started = Date.now();
        const res = await request(app)[route.method](url).set('Authorization', t.admin).set('Content-Type', 'application/json').send(text);
        const took = Date.now() - started;
        const after = await tableState(t.db);
        state = after;
        tally(label(route), res.status, (res.body as { error?: { message?: string } }).error?.message);
        if (took > 1000) slow.push(`${took} ms: ${route.method.toUpperCase()} ${url} ← ${preview(body.value, 200)} → ${res.status}`);
        const what = () =>
          `${route.method.toUpperCase()} ${url} ← ${preview(body.value)}\n→ ${res.status} ${preview(res.body)}\nserver log: ${log.take().join('\n') || '(nothing)'}`;
        if (res.status >= 500) throw new Error(`a ${res.status}\n${what()}`);
        if (res.status >= 400) {
          const changes = stateChanges(before, after);
          if (changes.length > 0) throw new Error(`a ${res.status} changed the database: ${changes.join('; ')}\n${what()}`);
          const err = (res.body as { error?: { code?: unknown; message?: unknown } }).error;
          if (typeof err?.code !== 'string' || typeof err.message !== 'string' || err.message === '') throw new Error(`a ${res.status} without { error: { code, message } }\n${what()}`);
        }
      }),
      fuzzParams(RUNS),
    );
  });

  /** FUZZ_STATS=1 prints the statuses each route answered: proof that generated bodies get past validation, not just 400s. */
  const statuses = new Map<string, Map<number, number>>();
  const refusals = new Map<string, Map<string, number>>();
  const slow: string[] = [];
  const tally = (route: string, status: number, message: string | undefined) => {
    const m = statuses.get(route) ?? new Map<number, number>();
    m.set(status, (m.get(status) ?? 0) + 1);
    statuses.set(route, m);
    if (status === 400 && message) {
      const r = refusals.get(route) ?? new Map<string, number>();
      const key = message.replace(/\(and \d+ more problems?\)/, '').slice(0, 90);
      r.set(key, (r.get(key) ?? 0) + 1);
      refusals.set(route, r);
    }
  };
  afterAll(() => {
    if (process.env.FUZZ_STATS !== '1') return;
    const top = (route: string) =>
      [...(refusals.get(route) ?? new Map<string, number>())]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([m, n]) => `    ${n}× ${m}`)
        .join('\n');
    const lines = [...statuses].map(([route, m]) => `${route}: ${[...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}\n${top(route)}`);
    process.stdout.write(`\nadmin fuzz statuses:\n${lines.join('\n')}\nrequests over 1 s:\n${slow.join('\n') || '(none)'}\n`);
  });

  it.each([
    ['a NUL in a name', 'post', '/api/v1/companies', { name: 'ACME\u0000 GmbH' }, 'body.name'],
    ['an unpaired surrogate in a name', 'post', '/api/v1/services', { name: 'Mail \ud83d', unitPrice: 10 }, 'body.name'],
    ['a NUL in a property name', 'post', '/api/v1/rules/diff', { candidate: { files: { 'a\u0000.json': { rules: [] } } } }, 'body.candidate.files'],
    ['a rules file nested 20,000 deep', 'post', '/api/v1/rules/diff', { candidate: { files: { 'a.json': deepMarker(20_000) } } }, 'body.candidate.files.a.json.0.0'],
    ['a NUL in a query string', 'get', '/api/v1/companies?name=%00', undefined, 'query.name'],
  ] as const)('R-ALR-5: %s is a 400 naming the field (text Postgres cannot store, nesting JSON.stringify cannot write)', async (_what, method, url, body, field) => {
    const before = await tableState(t.db);
    let req = request(app)[method](url).set('Authorization', t.admin);
    if (body !== undefined) req = req.set('Content-Type', 'application/json').send(jsonText(body));
    const res = await req;
    expect(res.status).toBe(400);
    expect((res.body as { error: { message: string } }).error.message.startsWith(`${field}`)).toBe(true);
    expect(stateChanges(before, await tableState(t.db))).toEqual([]);
    state = await tableState(t.db);
  });

  it('R-ALR-5: the app still answers after the fuzzing', async () => {
    const res = await request(app).get(`/api/v1/companies/${world.company.id}`).set('Authorization', t.admin);
    expect(res.status).toBe(200);
  });
});
