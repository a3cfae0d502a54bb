import path from 'node:path';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin, NormalizeContext, NormalizedAlert } from '../types';
import reset from './fixtures/condition-reset.json';
import triggered from './fixtures/condition-triggered.json';
import { ninjaonePlugin } from './index';
import { ninjaSeverity } from './normalize';
import type { NinjaoneConfig } from './schema';

const plugin: HubPlugin<unknown> = ninjaonePlugin;
const cases = loadGoldenCases(path.join(__dirname, 'fixtures'));
const ctx = (config: unknown = {}): NormalizeContext<NinjaoneConfig> => ({ ...GOLDEN_CONTEXT, config: ninjaonePlugin.configSchema.parse(config) });
const onlyAlert = (payload: unknown, config?: unknown): NormalizedAlert => {
  const result = ninjaonePlugin.normalize(payload, ctx(config));
  if (result.kind !== 'alerts' || result.alerts[0] === undefined) throw new Error(`expected an alert, got ${JSON.stringify(result)}`);
  return result.alerts[0];
};

describe('ninjaone plugin: golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });
});

describe('ninjaone plugin', () => {
  it('R-ALR-2: TRIGGERED fires, RESET resolves; epoch seconds with a fraction become an ISO instant', () => {
    const fired = onlyAlert(triggered);
    expect(fired).toMatchObject({
      sourceAlertId: '177210',
      state: 'firing',
      severity: 'high',
      category: 'vmm_cond_memory_usage_ge',
      title: 'Memory Utilization is greater than or equal to 80% for 5 minutes',
      device: { sourceDeviceId: '7', hostname: 'esxi03.acme.local', site: '2', siteName: 'Acme GmbH' },
      occurredAt: '2025-11-23T06:41:15.556Z',
    });
    expect(onlyAlert(reset).state).toBe('resolved');
  });

  it('R-ALR-4: the dedup key is device + condition series, never the activity id', () => {
    const fired = onlyAlert(triggered);
    const resolved = onlyAlert(reset);
    expect(fired.dedupKey).toBe('golden:7|e6b0b0bd-5753-445d-9e4a-71c08983cbd5');
    expect(resolved.dedupKey).toBe(fired.dedupKey);
    expect(resolved.sourceAlertId).not.toBe(fired.sourceAlertId);
    const sameConditionOtherDevice = onlyAlert({ ...triggered, id: 1, deviceId: 8, device: { ...triggered.device, id: 8 } });
    expect(sameConditionOtherDevice.dedupKey).toBe('golden:8|e6b0b0bd-5753-445d-9e4a-71c08983cbd5');
  });

  it('R-ALR-2: ACKNOWLEDGED and non-condition activities are ignored, not errors', () => {
    expect(ninjaonePlugin.normalize({ ...triggered, statusCode: 'ACKNOWLEDGED' }, ctx())).toEqual({
      kind: 'ignored',
      reason: 'CONDITION activity with status ACKNOWLEDGED changes no alert',
    });
    expect(ninjaonePlugin.normalize({ id: 5, activityType: 'SYSTEM', statusCode: 'LOGIN' }, ctx()).kind).toBe('ignored');
  });

  it('R-ALR-2: statusCode wins over status; status alone (any case) is understood', () => {
    const { statusCode: _drop, ...withoutCode } = triggered;
    expect(onlyAlert({ ...withoutCode, status: 'triggered' }).state).toBe('firing');
    expect(onlyAlert({ ...withoutCode, status: 'RESET' }).state).toBe('resolved');
  });

  it.each([
    [{ severity: 'CRITICAL' }, 'critical'],
    [{ severity: 'MAJOR', priority: 'LOW' }, 'high'],
    [{ severity: 'MODERATE' }, 'medium'],
    [{ severity: 'MINOR' }, 'low'],
    [{ severity: 'NONE', priority: 'HIGH' }, 'high'],
    [{ severity: 'NONE' }, 'info'],
    [{ priority: 'MEDIUM' }, 'medium'],
    [{ priority: 'NONE' }, 'info'],
    [{}, 'medium'],
  ] as const)('R-ALR-2: severity/priority %p → %p', (activity, severity) => {
    expect(ninjaSeverity(activity, 'medium')).toBe(severity);
  });

  it('R-ALR-5: an unknown severity is named', () => {
    expect(() => ninjaonePlugin.normalize({ ...triggered, severity: 'APOCALYPTIC' }, ctx())).toThrow(
      'severity: must be one of "NONE", "MINOR", "MODERATE", "MAJOR", "CRITICAL" (got "APOCALYPTIC")',
    );
  });

  it('R-ALR-4: dedupFields may pick other stable fields; a timestamp field is refused at configuration', () => {
    expect(onlyAlert(triggered, { dedupFields: ['device.id', 'sourceConfigUid'] }).dedupKey).toBe('golden:7|205b85b2-8a12-4123-834f-164be08b3314');
    const refused = ninjaonePlugin.configSchema.safeParse({ dedupFields: ['deviceId', 'activityTime'] });
    expect(refused.error?.issues[0]?.message).toMatch(/^"activityTime" looks like a timestamp/);
  });
});
