import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sourceAuthSchema } from '../auth/source-auth';
import { verifySender } from '../auth/verify-sender';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin, NormalizeContext, NormalizedAlert } from '../types';
import diskFiring from './fixtures/msp-disk-firing.json';
import diskResolved from './fixtures/msp-disk-resolved.json';
import testNotification from './fixtures/test-notification.json';
import { grafanaPlugin } from './index';
import type { GrafanaConfig } from './schema';

const plugin: HubPlugin<unknown> = grafanaPlugin;
const fixtures = path.join(__dirname, 'fixtures');
const cases = loadGoldenCases(fixtures);
const ctx = (config: unknown = {}): NormalizeContext<GrafanaConfig> => ({ ...GOLDEN_CONTEXT, config: grafanaPlugin.configSchema.parse(config) });
const alertsOf = (payload: unknown, config?: unknown): NormalizedAlert[] => {
  const result = grafanaPlugin.normalize(payload, ctx(config));
  return result.kind === 'alerts' ? result.alerts : [];
};

describe('grafana plugin: golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });
});

describe('grafana plugin', () => {
  it('R-ALR-2: labels give device (port stripped), site and severity; the summary is the title', () => {
    const [alert] = alertsOf(diskFiring);
    expect(alert).toMatchObject({
      state: 'firing',
      severity: 'critical',
      category: 'storage',
      title: 'D: on FS01 below 5 % free',
      device: { sourceDeviceId: null, hostname: 'fs01.acme.local', site: 'acme-hq' },
      occurredAt: '2026-11-23T05:30:00.000Z',
    });
    // No description annotation: Grafana's valueString tells what was measured.
    expect(alert?.message).toMatch(/^\[ var='A'.*value=3\.7/);
  });

  it('R-ALR-4: firing and resolved share the dedup key; the resolve happens at endsAt', () => {
    const [firing] = alertsOf(diskFiring);
    const [resolved] = alertsOf(diskResolved);
    expect(resolved?.dedupKey).toBe(firing?.dedupKey);
    expect(resolved?.sourceAlertId).not.toBe(firing?.sourceAlertId);
    expect(resolved).toMatchObject({ state: 'resolved', occurredAt: '2026-11-23T06:05:00.000Z' });
  });

  it("R-ALR-2: the contact point's test notification opens nothing, unless configured otherwise", () => {
    expect(grafanaPlugin.normalize(testNotification, ctx())).toEqual({ kind: 'ignored', reason: 'Grafana contact-point test notification' });
    expect(alertsOf(testNotification, { ignoreTestNotifications: false })).toHaveLength(1);
  });

  it('R-ALR-1: a Grafana-signed delivery (HMAC-SHA256 over `${timestamp}:${body}`) verifies on the fixture bytes', () => {
    const rawBody = fs.readFileSync(path.join(fixtures, 'msp-disk-firing.json'));
    const secret = 'grafana-webhook-secret-123456';
    const timestamp = String(Math.floor(GOLDEN_CONTEXT.receivedAt.getTime() / 1000));
    const signature = crypto.createHmac('sha256', secret).update(`${timestamp}:`).update(rawBody).digest('hex');
    const auth = sourceAuthSchema.parse({
      type: 'hmac',
      secret,
      header: 'X-Grafana-Alerting-Signature',
      timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp',
    });
    const headers = { 'x-grafana-alerting-signature': signature, 'x-grafana-alerting-signature-timestamp': timestamp };
    expect(verifySender(auth, { rawBody, headers, now: GOLDEN_CONTEXT.receivedAt })).toEqual({ ok: true });
    const pretty = Buffer.from(JSON.stringify(JSON.parse(rawBody.toString('utf8'))));
    expect(verifySender(auth, { rawBody: pretty, headers, now: GOLDEN_CONTEXT.receivedAt }).ok).toBe(false);
  });

  it('config: label mapping shared with alertmanager plus ignoreTestNotifications', () => {
    expect(grafanaPlugin.configSchema.parse({})).toEqual({
      deviceLabel: 'instance',
      siteLabel: 'site',
      severityLabel: 'severity',
      defaultSeverity: 'medium',
      ignoreTestNotifications: true,
    });
    expect(grafanaPlugin.configSchema.safeParse({ ignoreTestNotifications: 'yes' }).success).toBe(false);
  });
});
