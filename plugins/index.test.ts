import { HubError } from '../core/errors';
import { normalizeResultSchema } from './alert-schema';
import { zodError } from './payload-error';
import {
  applySiteField,
  getPlugin,
  normalizeDelivery,
  PLUGIN_IDS,
  plugins,
  resolvePluginConfig,
  sourceConfigSchema,
  sourcesFileSchema,
} from './index';
import type { HubPlugin } from './types';

const RECEIVED_AT = new Date('2026-11-23T12:00:00Z');
const tokenAuth = { type: 'token', token: 'token-0123456789abcdef' } as const;

const messagesOf = (schema: typeof sourceConfigSchema | typeof sourcesFileSchema, value: unknown): string[] => {
  const result = schema.safeParse(value);
  if (result.success) return [];
  const error = zodError(result.error, [], value);
  return (error.details as { field: string; message: string }[]).map((d) => `${d.field}: ${d.message}`);
};

describe('plugin registry', () => {
  it.each(PLUGIN_IDS.map((id) => [id]))('R-ALR-2: %s is a complete plugin value whose samples normalize to valid alerts', (id) => {
    const plugin = plugins[id];
    expect(plugin.id).toBe(id);
    expect(plugin.displayName.length).toBeGreaterThan(0);
    expect(plugin.docsUrl.length).toBeGreaterThan(0);
    expect(plugin.auth.length).toBeGreaterThan(0);
    expect(plugin.samples.length).toBeGreaterThan(0);
    const config = plugin.configSchema.parse({});
    for (const sample of plugin.samples) {
      expect(sample.docs).toMatch(/https?:\/\/|SPEC\.md/);
      const result = plugin.normalize(sample.body, { config, sourceName: 'registry', receivedAt: RECEIVED_AT });
      expect(normalizeResultSchema.safeParse(result).success).toBe(true);
      expect(result.kind).toBe('alerts');
      for (const alert of result.kind === 'alerts' ? result.alerts : []) {
        expect(alert.dedupKey.startsWith('registry:')).toBe(true);
        // R-ALR-4: the dedup key names the condition; it never embeds the event's time.
        expect(alert.dedupKey).not.toContain(alert.occurredAt);
      }
    }
  });

  it('getPlugin returns undefined for an unknown id (and for prototype keys)', () => {
    expect(getPlugin('alertmanager')?.id).toBe('alertmanager');
    expect(getPlugin('nagios')).toBeUndefined();
    expect(getPlugin('constructor')).toBeUndefined();
    expect(getPlugin('__proto__')).toBeUndefined();
  });

  it('R-ALR-5: resolvePluginConfig fills defaults and names config fields', () => {
    expect(resolvePluginConfig('alertmanager', undefined)).toMatchObject({ deviceLabel: 'instance' });
    expect(() => resolvePluginConfig('alertmanager', { deviceLabel: '' })).toThrow(/^config\.deviceLabel: /);
    expect(() => resolvePluginConfig('nagios', {})).toThrow('plugin: unknown plugin "nagios"');
  });
});

describe('sourceConfigSchema (POST /api/v1/sources)', () => {
  it('R-ALR-1: accepts the SPEC §8 body and the optional fields', () => {
    const body = {
      name: 'acme-alertmanager',
      plugin: 'alertmanager',
      auth: { type: 'basic', username: 'am', password: 'p4ssword-p4ssword' },
      siteField: 'labels.customer',
      config: { deviceLabel: 'host', dedupFields: ['labels.host', 'labels.alertname'] },
      maxBodyBytes: 262_144,
      rateLimitPerSecond: 50,
      enabled: true,
    };
    expect(sourceConfigSchema.parse(body)).toEqual(body);
    expect(sourceConfigSchema.parse({ name: 'n1', plugin: 'generic', auth: tokenAuth })).toEqual({ name: 'n1', plugin: 'generic', auth: tokenAuth });
  });

  it('R-ALR-5: names every bad field, including inside the plugin config', () => {
    expect(messagesOf(sourceConfigSchema, { name: 'Bad Name', plugin: 'nagios', auth: tokenAuth, extra: 1 })).toEqual([
      'name: must be 1-63 characters: lower-case letters, digits, "_" or "-", starting with a letter or digit',
      'plugin: must be one of "generic", "datto-rmm", "ninjaone", "alertmanager", "grafana" (got "nagios")',
      'extra: unknown field',
    ]);
    expect(messagesOf(sourceConfigSchema, { name: 'am', plugin: 'alertmanager', auth: tokenAuth, config: { deviceLable: 'host', dedupFields: ['startsAt'] } })).toEqual([
      'config.dedupFields[0]: "startsAt" looks like a timestamp ("startsAt"): a dedup key must identify the condition (device + check) and stay the same across firings, or every delivery would open a new ticket',
      'config.deviceLable: unknown field',
    ]);
    expect(messagesOf(sourceConfigSchema, { name: 'am', plugin: 'alertmanager', auth: tokenAuth, siteField: 'labels[0]' })[0]).toMatch(/^siteField: must be a plain dot path/);
    expect(messagesOf(sourceConfigSchema, { name: 'am', plugin: 'alertmanager' })).toEqual(['auth: is required']);
  });

  it('R-ALR-1: an auth type the sender cannot do is refused (Alertmanager cannot sign)', () => {
    expect(messagesOf(sourceConfigSchema, { name: 'am', plugin: 'alertmanager', auth: { type: 'hmac', scheme: 'body-only', secret: 'abcdefgh12345678' } })).toEqual([
      'auth.type: Prometheus Alertmanager cannot authenticate with hmac; use token or basic',
    ]);
  });

  it('R-ALR-1: a source without any secret is refused, naming the secret field', () => {
    expect(messagesOf(sourceConfigSchema, { name: 'g', plugin: 'grafana', auth: { type: 'hmac', header: 'x-grafana-alerting-signature', timestampHeader: 'x-grafana-alerting-signature-timestamp' } })).toEqual([
      'auth.secret: is required: give secret (or secrets, for key rotation)',
    ]);
  });
});

describe('issue 13 item 4: the HMAC schemes a plugin\'s sender can sign', () => {
  it('item 4: Grafana signs `${timestamp}:${body}` (or the body alone), never the Standard Webhooks shape; generic senders may use any', () => {
    const grafana = (auth: Record<string, unknown>) => messagesOf(sourceConfigSchema, { name: 'g', plugin: 'grafana', auth: { type: 'hmac', secret: 'abcdefgh12345678', ...auth } });
    expect(grafana({ header: 'x-grafana-alerting-signature', timestampHeader: 'x-grafana-alerting-signature-timestamp' })).toEqual([]);
    expect(grafana({ scheme: 'body-only', header: 'x-grafana-alerting-signature' })).toEqual([]);
    expect(grafana({ scheme: 'standard-webhooks' })).toEqual(['auth.scheme: Grafana Alerting cannot sign with scheme standard-webhooks; use timestamped or body-only']);
    expect(messagesOf(sourceConfigSchema, { name: 'x', plugin: 'generic', auth: { type: 'hmac', scheme: 'standard-webhooks', secret: 'abcdefgh12345678' } })).toEqual([]);
  });
});

describe('sourcesFileSchema', () => {
  it('R-ALR-1: the file declares the same sources as the API, names unique, errors name the entry', () => {
    const ok = { sources: [{ name: 'a', plugin: 'generic', auth: tokenAuth }, { name: 'b', plugin: 'ninjaone', auth: { ...tokenAuth, header: 'x-hub-token' } }] };
    expect(sourcesFileSchema.parse(ok).sources).toHaveLength(2);
    expect(messagesOf(sourcesFileSchema, { sources: [ok.sources[0], { ...ok.sources[0] }, { name: 'c', plugin: 'generic', auth: tokenAuth, config: { x: 1 } }] })).toEqual([
      'sources[1].name: duplicate source name (also sources[0])',
      'sources[2].config.x: unknown field',
    ]);
  });
});

describe('normalizeDelivery', () => {
  const alert = {
    alertId: 'disk-c',
    state: 'firing',
    severity: 'medium',
    title: 'Disk C: full',
    device: { hostname: 'pc-1', site: 'from-device' },
    occurredAt: '2026-11-23T08:00:00Z',
    labels: { customer: 'acme' },
  };

  it('R-ALR-2: parses the stored config, normalizes and applies siteField', () => {
    const result = normalizeDelivery(plugins.generic, alert, { sourceName: 's', receivedAt: RECEIVED_AT, config: {}, siteField: 'labels.customer' });
    expect(result.kind === 'alerts' && result.alerts[0]?.device.site).toBe('acme');
    const untouched = normalizeDelivery(plugins.generic, alert, { sourceName: 's', receivedAt: RECEIVED_AT, config: {}, siteField: 'labels.missing' });
    expect(untouched.kind === 'alerts' && untouched.alerts[0]?.device.site).toBe('from-device');
  });

  it('applySiteField leaves ignored results alone', () => {
    expect(applySiteField({ kind: 'ignored', reason: 'ping' }, 'x')).toEqual({ kind: 'ignored', reason: 'ping' });
  });

  it('R-ALR-5: an invalid payload is VALIDATION_FAILED; a plugin breaking the contract is INTERNAL', () => {
    expect(() => normalizeDelivery(plugins.generic, { ...alert, severity: 'x' }, { sourceName: 's', receivedAt: RECEIVED_AT, config: {} })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    const broken: HubPlugin<unknown> = { ...plugins.generic, normalize: () => ({ kind: 'alerts', alerts: [] }) };
    const error = (() => {
      try {
        normalizeDelivery(broken, alert, { sourceName: 's', receivedAt: RECEIVED_AT, config: {} });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('INTERNAL');
  });
});
