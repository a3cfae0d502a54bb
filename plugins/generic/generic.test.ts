import path from 'node:path';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin, NormalizeContext, NormalizeResult } from '../types';
import { genericPlugin } from './index';
import type { GenericConfig } from './schema';

const plugin: HubPlugin<unknown> = genericPlugin;
const cases = loadGoldenCases(path.join(__dirname, 'fixtures'));
const ctx = (config: GenericConfig = {}): NormalizeContext<GenericConfig> => ({ ...GOLDEN_CONTEXT, config });
const alertsOf = (result: NormalizeResult) => (result.kind === 'alerts' ? result.alerts : []);

describe('generic plugin: golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });
});

const valid = {
  alertId: 'disk-c@pc-1',
  state: 'firing',
  severity: 'medium',
  title: 'Disk C: 91 % full',
  device: { hostname: 'pc-1' },
  occurredAt: '2026-11-23T08:00:00Z',
};

describe('generic plugin', () => {
  it('R-ALR-4: a retried delivery gets the same sourceAlertId; a new firing and a resolve get new ones; the dedup key stays', () => {
    const first = alertsOf(genericPlugin.normalize(valid, ctx()))[0];
    const retry = alertsOf(genericPlugin.normalize(structuredClone(valid), ctx()))[0];
    const refire = alertsOf(genericPlugin.normalize({ ...valid, occurredAt: '2026-11-24T08:00:00Z' }, ctx()))[0];
    const resolved = alertsOf(genericPlugin.normalize({ ...valid, state: 'resolved' }, ctx()))[0];
    expect(retry?.sourceAlertId).toBe(first?.sourceAlertId);
    expect(new Set([first?.sourceAlertId, refire?.sourceAlertId, resolved?.sourceAlertId]).size).toBe(3);
    expect(new Set([first?.dedupKey, refire?.dedupKey, resolved?.dedupKey])).toEqual(new Set(['golden:disk-c@pc-1']));
  });

  it('R-ALR-4: the dedup key is namespaced by the source, so two sources never share a ticket by accident', () => {
    const a = alertsOf(genericPlugin.normalize(valid, { ...ctx(), sourceName: 'rmm-a' }))[0];
    const b = alertsOf(genericPlugin.normalize(valid, { ...ctx(), sourceName: 'rmm-b' }))[0];
    expect(a?.dedupKey).toBe('rmm-a:disk-c@pc-1');
    expect(b?.dedupKey).toBe('rmm-b:disk-c@pc-1');
  });

  it('R-ALR-4: dedupFields builds the key from the alert\'s own fields', () => {
    const config = genericPlugin.configSchema.parse({ dedupFields: ['device.hostname', 'category'] });
    const alert = alertsOf(genericPlugin.normalize({ ...valid, category: 'disk|space' }, ctx(config)))[0];
    expect(alert?.dedupKey).toBe('golden:pc-1|disk\\|space');
  });

  it('R-ALR-5: a dedup field missing from the alert is an error naming it', () => {
    const config = genericPlugin.configSchema.parse({ dedupFields: ['labels.check'] });
    expect(() => genericPlugin.normalize([valid], ctx(config))).toThrow('[0].labels.check: is required');
  });

  it('R-ALR-5: 500 alerts are accepted, 501 are refused with a message naming the body', () => {
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ ...valid, alertId: `a-${i}` }));
    expect(alertsOf(genericPlugin.normalize(batch(500), ctx()))).toHaveLength(500);
    expect(() => genericPlugin.normalize(batch(501), ctx())).toThrow('body: has 501 alerts: at most 500 per request');
    expect(() => genericPlugin.normalize([], ctx())).toThrow('body: is an empty array');
  });

  it('R-ALR-5: non-object bodies are refused with VALIDATION_FAILED', () => {
    for (const body of [null, 'text', 42, true]) {
      expect(() => genericPlugin.normalize(body, ctx())).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });

  it('R-ALR-5: every required field missing is named', () => {
    for (const field of ['alertId', 'state', 'severity', 'title', 'device', 'occurredAt']) {
      const body: Record<string, unknown> = { ...valid };
      delete body[field];
      expect(() => genericPlugin.normalize(body, ctx())).toThrow(`${field}: is required`);
    }
  });

  it('config: unknown keys and timestamp dedup fields are refused', () => {
    expect(genericPlugin.configSchema.safeParse({ dedupField: ['x'] }).success).toBe(false);
    const result = genericPlugin.configSchema.safeParse({ dedupFields: ['alertId', 'occurredAt'] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['dedupFields', 1]);
    expect(result.error?.issues[0]?.message).toMatch(/looks like a timestamp/);
  });
});
