import crypto from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { createApp } from '../../api/app';
import { isHubError } from '../../core/errors';
import { normalizeDelivery, PLUGIN_IDS, plugins, type HubPlugin, type PluginId } from '../../plugins';
import { looksLikeTimestamp } from '../../plugins/dedup-fields';
import { loadGoldenCases } from '../../plugins/golden';
import { GENERIC_MAX_ALERTS } from '../../plugins/generic/schema';
import type { SourceAuth } from '../../plugins/auth';
import { createTestApp, type TestApp } from '../helpers/app';
import {
  applyMutations,
  capturingLogger,
  deepMarker,
  fuzzParams,
  jsonBytes,
  junkValue,
  mutationsOf,
  nodePaths,
  nonJsonBytes,
  preview,
  rowDeltas,
  shown,
  stateChanges,
  tableState,
  type TableState,
} from '../helpers/fuzz';
import { createSource } from '../helpers/seed';

/**
 * Issue "Benchmarks and fault tests", point 3 — R-ALR-5 under fuzzing: every plugin's intake gets
 * arbitrary JSON, mutations of its own sample payloads and fixtures, and bytes that are not JSON,
 * through a correctly authenticated source (token, and HMAC where the plugin can sign), so the
 * inputs reach the parser. The answer is 202, 400, 401, 413 or 429 and never a 5xx; a 4xx leaves
 * every table as it was; a 202 stores exactly the alerts it reports; and the plugin run directly
 * on the same bytes predicts the HTTP answer. No worker runs: without an enqueuer nothing is queued.
 */

const ALLOWED = new Set([202, 400, 401, 413, 429]);
// Alert rows carry raw payloads (up to a megabyte): their digest covers only what an intake may change.
const NARROW = { alerts: 'x.id, x.source_id, x.source_alert_id, x.receipt_count, x.updated_at' };
const RUNS = 40;

interface FuzzSource {
  id: string;
  name: string;
  plugin: HubPlugin<unknown>;
  auth: 'token' | 'hmac';
  secret: string;
  config: Record<string, unknown>;
  siteField: string | undefined;
}

/** A leaf of the first sample's first alert (a non-timestamp string), for a source that sets dedupFields and siteField. */
function configuredField(plugin: HubPlugin<unknown>): string | undefined {
  const sample = plugin.samples[0];
  if (!sample) return undefined;
  const result = normalizeDelivery(plugin, sample.body, { sourceName: 'probe', receivedAt: new Date(), config: {} });
  const raw = result.kind === 'alerts' ? result.alerts[0]?.raw : undefined;
  const walk = (v: unknown, at: string[]): string | undefined => {
    if (typeof v === 'string' && v.trim() !== '' && at.length > 0) return at.join('.');
    if (v === null || typeof v !== 'object' || Array.isArray(v) || at.length >= 2) return undefined;
    for (const [k, item] of Object.entries(v)) {
      if (!/^[A-Za-z0-9_]+$/.test(k) || looksLikeTimestamp(k) || /^(status|state)$/i.test(k)) continue;
      const found = walk(item, [...at, k]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(raw, []);
}

/** The plugin's samples and fixtures (valid and invalid ones): the bases that mutations start from. */
function basesOf(id: PluginId): unknown[] {
  const fixtures = loadGoldenCases(path.join(__dirname, '../../plugins', id, 'fixtures')).map((c) => c.body);
  return [...plugins[id].samples.map((s) => s.body), ...fixtures];
}

describe('fuzz: webhook intake of every plugin (R-ALR-5: no 5xx, nothing half-stored)', () => {
  let t: TestApp;
  const sourcesOf = new Map<PluginId, FuzzSource[]>();
  let state: TableState;
  const log = capturingLogger();
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    // The same app over the same deps, with a logger that keeps the server's side of a 5xx for the report.
    server = createApp({ ...t.deps, logger: log.logger }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const id of PLUGIN_IDS) {
      const plugin = plugins[id];
      const list: FuzzSource[] = [];
      const add = async (name: string, auth: 'token' | 'hmac', config: Record<string, unknown>, siteField: string | undefined) => {
        const secret = `fuzz-${name}-${crypto.randomBytes(12).toString('hex')}`;
        const sourceAuth: SourceAuth = auth === 'token' ? { type: 'token', token: secret } : { type: 'hmac', scheme: 'body-only', secret, prefix: 'sha256=' };
        const row = await createSource(t.db, t.deps.config.HUB_SECRET_KEY, { name, plugin: id, auth: sourceAuth, config, ...(siteField ? { siteField } : {}) });
        list.push({ id: row.id, name, plugin, auth, secret, config, siteField });
      };
      await add(`fz-${id}-token`, 'token', {}, undefined);
      // A second source with the per-source options (dedupFields, siteField): signed where the plugin can sign.
      const field = configuredField(plugin);
      const config = field ? { dedupFields: [field] } : {};
      await add(`fz-${id}-cfg`, plugin.auth.includes('hmac') ? 'hmac' : 'token', config, field);
      sourcesOf.set(id, list);
    }
    state = await tableState(t.db, { narrow: NARROW });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  const sourceNamed = (id: PluginId, name: string): FuzzSource => {
    const src = sourcesFor(id).find((s) => s.name === name);
    if (!src) throw new Error(`no source ${name}`);
    return src;
  };
  const sourcesFor = (id: PluginId): FuzzSource[] => {
    const list = sourcesOf.get(id);
    if (!list) throw new Error(`no sources for ${id}`);
    return list;
  };

  /** Posts exactly these bytes (supertest would JSON-encode a Buffer under a JSON content type), signed or with the token. */
  async function post(src: FuzzSource, body: Buffer, authOk: boolean): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (src.auth === 'token') headers.authorization = `Bearer ${authOk ? src.secret : `${src.secret}x`}`;
    else {
      const sig = crypto.createHmac('sha256', src.secret).update(body).digest('hex');
      headers['x-hub-signature-256'] = `sha256=${authOk ? sig : crypto.createHash('sha256').update(sig).digest('hex')}`;
    }
    const res = await fetch(`${baseUrl}/hooks/${src.name}`, { method: 'POST', headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for the report.
    }
    return { status: res.status, body: parsed };
  }

  /** What the hub must answer, from the plugin run directly on the same bytes (order of checks as in webhook.route.ts). */
  function predict(src: FuzzSource, body: Buffer, authOk: boolean): { status: number; alerts?: number; error?: unknown } {
    if (body.length > t.deps.config.HUB_MAX_BODY_BYTES) return { status: 413 };
    if (!authOk) return { status: 401 };
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400 };
    }
    try {
      const r = normalizeDelivery(src.plugin, payload, { sourceName: src.name, receivedAt: new Date(), config: src.config, siteField: src.siteField });
      return { status: 202, alerts: r.kind === 'alerts' ? r.alerts.length : 0 };
    } catch (error) {
      return { status: isHubError(error) ? error.status : 500, error };
    }
  }

  /** One fuzz case: post, then hold the answer and the database to the contract. Throws (for fast-check) on a violation. */
  async function check(src: FuzzSource, body: Buffer, authOk = true): Promise<void> {
    const before = state;
    log.take();
    const expected = predict(src, body, authOk);
    const res = await post(src, body, authOk);
    const after = await tableState(t.db, { narrow: NARROW });
    state = after;
    const what = () =>
      `${src.name} (${src.auth}${authOk ? '' : ', bad credentials'}) ← ${preview(body)}\n→ ${res.status} ${preview(res.body)}` +
      `\nplugin run directly: ${expected.status}${expected.error ? ` ${String(expected.error instanceof Error ? expected.error.stack : expected.error)}` : ''}` +
      `\nserver log: ${log.take().join('\n') || '(nothing)'}`;

    if (!ALLOWED.has(res.status)) throw new Error(`status ${res.status} is not one of ${[...ALLOWED].join(', ')}\n${what()}`);
    if (res.status !== expected.status) throw new Error(`the plugin alone predicts ${expected.status}\n${what()}`);
    if (res.status >= 400) {
      const changes = stateChanges(before, after);
      if (changes.length > 0) throw new Error(`a ${res.status} changed the database: ${changes.join('; ')}\n${what()}`);
      const err = (res.body as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof err?.code !== 'string' || typeof err.message !== 'string' || err.message === '') throw new Error(`a ${res.status} without { error: { code, message } }\n${what()}`);
      return;
    }
    const ids = (res.body as { alertIds?: unknown }).alertIds;
    if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) throw new Error(`202 without alertIds\n${what()}`);
    if (ids.length !== expected.alerts) throw new Error(`202 reports ${ids.length} alerts, the plugin made ${expected.alerts}\n${what()}`);
    if (ids.length === 0) {
      // Ignored (a test ping, an acknowledgement): nothing stored at all.
      const changes = stateChanges(before, after);
      if (changes.length > 0) throw new Error(`an ignored delivery changed the database: ${changes.join('; ')}\n${what()}`);
      return;
    }
    const unique = new Set(ids).size;
    const deltas = rowDeltas(before, after);
    const others = stateChanges(before, after, ['deliveries', 'alerts', 'alert_receipts']);
    const newAlerts = deltas.alerts ?? 0;
    if (deltas.deliveries !== 1 || deltas.alert_receipts !== unique || newAlerts < 0 || newAlerts > unique || others.length > 0) {
      throw new Error(`202 for ${unique} distinct alerts stored ${JSON.stringify(deltas)} (other changes: ${others.join('; ') || 'none'})\n${what()}`);
    }
    const stored = await t.db.raw<{ rows: { n: number }[] }>(
      `SELECT count(*)::int AS n FROM alerts a
         JOIN alert_receipts r ON r.alert_id = a.id
        WHERE a.id = ANY(?::bigint[]) AND a.source_id = ?
          AND r.delivery_id = (SELECT max(id) FROM deliveries WHERE source_id = ?)`,
      [[...new Set(ids)], src.id, src.id],
    );
    if (stored.rows[0]?.n !== unique) throw new Error(`202 reports ${unique} alerts but ${stored.rows[0]?.n} are stored with a receipt of this delivery\n${what()}`);
  }

  // By name, so a counterexample prints as a name and not as the whole plugin value.
  const sourceArb = (id: PluginId) => fc.constantFrom(...sourcesFor(id).map((s) => s.name));
  // Mostly good credentials (the point is to reach the parser), sometimes bad ones: those must be a plain 401.
  const authArb = fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

  describe.each(PLUGIN_IDS.map((id) => [id] as const))('%s', (id) => {
    it(`R-ALR-5: ${id}: arbitrary JSON gets 202/400/401/413/429, never a 5xx; a 4xx writes nothing`, async () => {
      const body = fc.oneof(
        fc.jsonValue({ maxDepth: 5 }),
        fc.anything({ maxDepth: 4, withNullPrototype: true, withSparseArray: true, withDate: true, withUnicodeString: true }),
        fc.record({ alerts: fc.array(junkValue, { maxLength: 3 }), status: fc.jsonValue({ maxDepth: 1 }) }),
        junkValue,
      );
      await fc.assert(
        fc.asyncProperty(sourceArb(id), shown(body), authArb, async (name, v, authOk) => check(sourceNamed(id, name), jsonBytes(v.value), authOk)),
        fuzzParams(RUNS),
      );
    });

    it(`R-ALR-5: ${id}: mutated samples and fixtures (dropped fields, wrong types, huge/unicode strings, junk, 501-item arrays) never get a 5xx`, async () => {
      const bases = basesOf(id);
      await fc.assert(
        fc.asyncProperty(sourceArb(id), shown(mutationsOf(fc.constantFrom(...bases))), authArb, async (name, v, authOk) => check(sourceNamed(id, name), jsonBytes(v.value), authOk)),
        fuzzParams(RUNS * 2),
      );
    });

    it(`R-ALR-5: ${id}: bytes that are not JSON get a 400 (or 401/413), never a 5xx, and write nothing`, async () => {
      const docs = basesOf(id).map((b) => JSON.stringify(b));
      await fc.assert(
        fc.asyncProperty(sourceArb(id), shown(nonJsonBytes(docs)), authArb, async (name, bytes, authOk) => check(sourceNamed(id, name), bytes.value, authOk)),
        fuzzParams(RUNS),
      );
    });

    it(`R-ALR-1: ${id}: every unmutated sample is accepted (202) by both sources after the fuzzing (the app still answers)`, async () => {
      for (const src of sourcesFor(id)) for (const sample of plugins[id].samples) await check(src, jsonBytes(sample.body));
    });
  });

  describe('R-ALR-5: text Postgres cannot store and very deep JSON, in each plugin\'s first sample', () => {
    // [what, value, how many fields of the sample to put it in]: deep values are big, a few places suffice.
    const cases: Array<[string, unknown, number]> = [
      ['a NUL character', 'disk\u0000full', 10],
      ['an unpaired surrogate', 'disk \ud83d full', 10],
      ['arrays nested 20,000 deep', deepMarker(20_000), 4],
      ['a 5,000-character string', 'x'.repeat(5_000), 25],
    ];
    it.each(PLUGIN_IDS.flatMap((id) => cases.map(([what, value, places]) => [id, what, value, places] as const)))('%s: %s in an extra field and in place of each field: a 400 or a 202, never a 5xx', async (id, _what, value, places) => {
      const sample = plugins[id].samples[0]?.body;
      // The first nodes below the root: the fields of the envelope and of the first alert.
      const leaves = nodePaths(sample).filter((p) => p.length > 0).slice(0, places);
      for (const src of sourcesFor(id)) {
        // Once as an extra field at the top, then in place of each string of the sample.
        await check(src, jsonBytes(applyMutations(sample, [{ kind: 'addKey', at: 0, key: 'fuzzExtra', value }])));
        for (const [i] of leaves.entries()) await check(src, jsonBytes(applyMutations(sample, [{ kind: 'replace', at: i + 1, value }])));
      }
    });
  });

  it(`R-ALR-5: generic: a batch of ${GENERIC_MAX_ALERTS} alerts is stored whole, one of ${GENERIC_MAX_ALERTS + 1} is a 400 that stores nothing`, async () => {
    const [src] = sourcesFor('generic');
    if (!src) throw new Error('no generic source');
    const alert = (i: number) => ({
      alertId: `batch-${i}`,
      state: 'firing',
      severity: 'low',
      title: `batch alert ${i}`,
      device: { hostname: `host-${i % 7}` },
      occurredAt: '2026-11-23T08:00:00Z',
    });
    await check(src, jsonBytes(Array.from({ length: GENERIC_MAX_ALERTS }, (_, i) => alert(i))));
    await check(src, jsonBytes(Array.from({ length: GENERIC_MAX_ALERTS + 1 }, (_, i) => alert(i + 1000))));
    const r = await fetch(`${baseUrl}/healthz`);
    expect(r.status).toBe(200);
  });
});
