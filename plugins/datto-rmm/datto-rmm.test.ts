import path from 'node:path';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin, NormalizeContext, NormalizedAlert } from '../types';
import resolved from './fixtures/resolved.json';
import trigger from './fixtures/trigger-critical.json';
import { dattoRmmPlugin } from './index';
import type { DattoRmmConfig } from './schema';

const plugin: HubPlugin<unknown> = dattoRmmPlugin;
const cases = loadGoldenCases(path.join(__dirname, 'fixtures'));
const ctx = (config: unknown = {}): NormalizeContext<DattoRmmConfig> => ({ ...GOLDEN_CONTEXT, config: dattoRmmPlugin.configSchema.parse(config) });
const onlyAlert = (payload: unknown, config?: unknown): NormalizedAlert => {
  const result = dattoRmmPlugin.normalize(payload, ctx(config));
  if (result.kind !== 'alerts' || result.alerts[0] === undefined) throw new Error('expected an alert');
  return result.alerts[0];
};

describe('datto-rmm plugin: golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });
});

describe('datto-rmm plugin', () => {
  it.each([
    ['Critical', 'critical'],
    ['High', 'high'],
    ['Moderate', 'medium'],
    ['Low', 'low'],
    ['Information', 'info'],
    ['INFORMATION', 'info'],
  ])('R-ALR-2: priority %p → severity %p', (priority, severity) => {
    expect(onlyAlert({ ...trigger, alert_priority: priority }).severity).toBe(severity);
  });

  it('R-ALR-4: trigger and resolution share the dedup key (alert_uid); each has its own source alert id', () => {
    const fired = onlyAlert(trigger);
    const done = onlyAlert(resolved);
    expect(fired.dedupKey).toBe('golden:6a1f3c2e-9b7d-4e21-8c55-0d4b2f9a7e13');
    expect(done.dedupKey).toBe(fired.dedupKey);
    expect([fired.state, done.state]).toEqual(['firing', 'resolved']);
    expect(done.sourceAlertId).not.toBe(fired.sourceAlertId);
    expect(onlyAlert({ ...trigger, timestamp: '2026-11-23T07:45:13Z' }).sourceAlertId).toBe(fired.sourceAlertId);
  });

  it.each([
    ['2026-11-23T07:45:12Z', '2026-11-23T07:45:12.000Z'],
    ['2026-11-23T08:45:12+01:00', '2026-11-23T07:45:12.000Z'],
    ['2026-11-23T07:45:12', '2026-11-23T07:45:12.000Z'],
    ['2026-11-23 07:45:12', '2026-11-23T07:45:12.000Z'],
    ['2026-11-23 07:45:12 UTC', '2026-11-23T07:45:12.000Z'],
    ['Mon, 23 Nov 2026 07:45:12 +0000', '2026-11-23T07:45:12.000Z'],
    ['1795419912', '2026-11-23T07:45:12.000Z'],
    ['1795419912000', '2026-11-23T07:45:12.000Z'],
    [1795419912000, '2026-11-23T07:45:12.000Z'],
  ])('R-ALR-2: lenient timestamp %p → %p', (timestamp, iso) => {
    const alert = onlyAlert({ ...trigger, timestamp });
    expect(alert.occurredAt).toBe(iso);
    expect(alert.labels.timestampUnparsed).toBeUndefined();
  });

  it('R-ALR-2: an unreadable timestamp falls back to the receipt time and stays visible as a label', () => {
    for (const timestamp of ['23/11/2026 08:00', 'gestern', '99999999999999999']) {
      const alert = onlyAlert({ ...trigger, timestamp });
      expect(alert.occurredAt).toBe(GOLDEN_CONTEXT.receivedAt.toISOString());
      expect(alert.labels.timestampUnparsed).toBe(timestamp);
    }
  });

  it('R-ALR-2: a resolution template without priority resolves with severity info', () => {
    const { alert_priority: _drop, ...noPriority } = resolved;
    expect(onlyAlert(noPriority)).toMatchObject({ state: 'resolved', severity: 'info' });
  });

  it('R-ALR-5: the trigger template without priority is refused naming the field', () => {
    const { alert_priority: _drop, ...noPriority } = trigger;
    expect(() => dattoRmmPlugin.normalize(noPriority, ctx())).toThrow('alert_priority: is required when event is "alert"');
  });

  it('R-ALR-5: a variable Datto left unsubstituted is named with a hint', () => {
    expect(() => dattoRmmPlugin.normalize({ ...trigger, alert_uid: '[alert_id]' }, ctx())).toThrow(
      'alert_uid: is required: Datto sent the variable [alert_id] unsubstituted, check its spelling in the webhook template',
    );
    expect(() => dattoRmmPlugin.normalize({ ...trigger, device_id: '[device_uid]', device_hostname: '' }, ctx())).toThrow(/^device_hostname: is required \(or device_id\)/);
  });

  it('R-ALR-5: bodies that are not the template object are refused', () => {
    for (const body of [null, [], 'text']) expect(() => dattoRmmPlugin.normalize(body, ctx())).toThrow(/^body: must be the JSON object/);
  });
});
