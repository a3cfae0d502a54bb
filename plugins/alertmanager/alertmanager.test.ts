import path from 'node:path';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin, NormalizeContext, NormalizedAlert } from '../types';
import firing from './fixtures/alertmanager-0.25-webhook-firing.json';
import resolved from './fixtures/alertmanager-0.25-webhook-resolved.json';
import { alertmanagerPlugin } from './index';
import { hostnameFromInstance, severityFrom } from './normalize';
import type { AlertmanagerConfig } from './schema';

const plugin: HubPlugin<unknown> = alertmanagerPlugin;
const cases = loadGoldenCases(path.join(__dirname, 'fixtures'));
const ctx = (config: unknown = {}): NormalizeContext<AlertmanagerConfig> => ({ ...GOLDEN_CONTEXT, config: alertmanagerPlugin.configSchema.parse(config) });
const onlyAlert = (payload: unknown, config?: unknown): NormalizedAlert => {
  const result = alertmanagerPlugin.normalize(payload, ctx(config));
  if (result.kind !== 'alerts' || result.alerts.length !== 1 || result.alerts[0] === undefined) throw new Error('expected one alert');
  return result.alerts[0];
};

describe('alertmanager plugin: golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });

  it('ships the two real Alertmanager 0.25 captures among its fixtures', () => {
    expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['alertmanager-0.25-webhook-firing', 'alertmanager-0.25-webhook-resolved']));
  });
});

describe('alertmanager plugin on the real captures', () => {
  it('R-ALR-2: device mail01 (port stripped), site acme-hq, severity critical, title from the summary', () => {
    const alert = onlyAlert(firing);
    expect(alert.device).toEqual({ sourceDeviceId: null, hostname: 'mail01', site: 'acme-hq' });
    expect(alert).toMatchObject({ state: 'firing', severity: 'critical', category: 'DiskFull', title: 'Disk full on mail01' });
    expect(alert.occurredAt).toBe('2026-11-23T00:30:28.088Z');
  });

  it('R-ALR-4: firing and resolved share the dedup key (fingerprint) and differ in source alert id', () => {
    const a = onlyAlert(firing);
    const b = onlyAlert(resolved);
    expect(a.dedupKey).toBe('golden:49e1cf2990ba8a0e');
    expect(b.dedupKey).toBe(a.dedupKey);
    expect(b.state).toBe('resolved');
    expect(b.occurredAt).toBe('2026-11-23T00:30:31.000Z');
    expect(b.sourceAlertId).not.toBe(a.sourceAlertId);
    expect(onlyAlert(structuredClone(firing)).sourceAlertId).toBe(a.sourceAlertId);
  });

  it('R-ALR-4: a new firing of the same condition (new startsAt) is a new event with the same dedup key', () => {
    const again = structuredClone(firing);
    const first = again.alerts[0];
    if (first === undefined) throw new Error('fixture changed');
    first.startsAt = '2026-11-24T07:00:00Z';
    const refire = onlyAlert(again);
    expect(refire.sourceAlertId).not.toBe(onlyAlert(firing).sourceAlertId);
    expect(refire.dedupKey).toBe(onlyAlert(firing).dedupKey);
  });
});

describe('alertmanager mapping helpers', () => {
  it.each([
    ['mail01:9100', 'mail01'],
    ['10.0.0.5:9182', '10.0.0.5'],
    ['[2001:db8::1]:9100', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['https://shop.example/health', 'shop.example'],
    ['http://[2001:db8::2]:8080/', '2001:db8::2'],
    ['plain-host', 'plain-host'],
    ['  ', null],
    [undefined, null],
  ])('R-ALR-2: instance %p → hostname %p', (instance, hostname) => {
    expect(hostnameFromInstance(instance)).toBe(hostname);
  });

  it.each([
    ['critical', 'critical'],
    ['CRITICAL', 'critical'],
    ['error', 'high'],
    ['high', 'high'],
    ['warning', 'medium'],
    ['low', 'low'],
    ['minor', 'low'],
    ['info', 'info'],
    ['none', 'info'],
    ['P2', 'high'],
    ['something-else', 'medium'],
    [undefined, 'medium'],
  ])('R-ALR-2: severity label %p → %p', (label, severity) => {
    expect(severityFrom(label, 'medium')).toBe(severity);
  });

  it('R-ALR-2: defaultSeverity applies when the label is missing', () => {
    const body = structuredClone(firing);
    const first = body.alerts[0];
    if (first === undefined) throw new Error('fixture changed');
    const { severity: _drop, ...labels } = first.labels;
    Object.assign(first, { labels });
    expect(onlyAlert(body, { defaultSeverity: 'low' }).severity).toBe('low');
  });

  it('config: defaults and strictness', () => {
    expect(alertmanagerPlugin.configSchema.parse({})).toEqual({ deviceLabel: 'instance', siteLabel: 'site', severityLabel: 'severity', defaultSeverity: 'medium' });
    expect(alertmanagerPlugin.configSchema.safeParse({ devicelabel: 'host' }).success).toBe(false);
    expect(alertmanagerPlugin.configSchema.safeParse({ dedupFields: ['startsAt'] }).success).toBe(false);
    expect(alertmanagerPlugin.configSchema.safeParse({ dedupFields: ['labels.endsAt'] }).success).toBe(false);
  });
});
