import { finishAlert } from '../alert-builder';
import type { DedupOptions } from '../dedup-fields';
import { fieldError, parseOrThrow } from '../payload-error';
import type { NormalizeContext, NormalizedAlert, NormalizeResult, Severity } from '../types';
import { alertmanagerWebhookSchema, type AlertmanagerAlert, type AlertmanagerConfig } from './schema';

/**
 * Prometheus has no fixed severity vocabulary; these are the values seen in the wild (kube-prometheus,
 * Grafana, PagerDuty-style P1..P5, syslog levels). Anything else falls back to defaultSeverity.
 */
export const SEVERITY_MAP: Readonly<Record<string, Severity>> = {
  critical: 'critical', crit: 'critical', fatal: 'critical', emergency: 'critical', emerg: 'critical', alert: 'critical', page: 'critical', disaster: 'critical', p1: 'critical',
  high: 'high', error: 'high', err: 'high', major: 'high', severe: 'high', p2: 'high',
  warning: 'medium', warn: 'medium', medium: 'medium', moderate: 'medium', average: 'medium', p3: 'medium',
  low: 'low', minor: 'low', notice: 'low', p4: 'low',
  info: 'info', informational: 'info', information: 'info', none: 'info', debug: 'info', ok: 'info', p5: 'info',
};

export function severityFrom(value: string | undefined, fallback: Severity): Severity {
  if (value === undefined) return fallback;
  return SEVERITY_MAP[value.trim().toLowerCase()] ?? fallback;
}

/**
 * `mail01:9100` → `mail01`, `[2001:db8::1]:9100` → `2001:db8::1`, `https://shop.example/health` →
 * `shop.example` (blackbox probes); a bare IPv6 address or a plain name is kept.
 */
export function hostnameFromInstance(value: string | undefined): string | null {
  const text = value?.trim();
  if (text === undefined || text === '') return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const host = new URL(text).hostname;
      if (host !== '') return host.replace(/^\[(.*)\]$/, '$1');
    } catch {
      // Not a URL after all: keep the text.
    }
    return text;
  }
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  if ((text.match(/:/g) ?? []).length === 1) return text.replace(/:\d+$/, '');
  return text;
}

/** Go's zero time (0001-01-01T00:00:00Z) means "not set". */
function validTime(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).getUTCFullYear() >= 2000 ? new Date(ms) : null;
}

export type LabelMappingConfig = Pick<AlertmanagerConfig, 'deviceLabel' | 'siteLabel' | 'severityLabel' | 'defaultSeverity'> & DedupOptions;

export interface AlertExtras {
  /** Used when annotations carry no description (Grafana's valueString). */
  messageFallback?: string | undefined;
}

/** One Alertmanager-format alert (also Grafana's) to the hub's shape. */
export function normalizeAlertmanagerAlert(
  ctx: NormalizeContext<LabelMappingConfig>,
  alert: AlertmanagerAlert,
  raw: unknown,
  index: number,
  extras: AlertExtras = {},
): NormalizedAlert {
  const { labels } = alert;
  const annotations = alert.annotations ?? {};
  const occurredAt = alert.status === 'firing' ? new Date(alert.startsAt) : (validTime(alert.endsAt) ?? ctx.receivedAt);
  return finishAlert(
    ctx,
    {
      // startsAt tells a new firing of the same condition from a re-delivery of this one.
      sourceAlertId: `${alert.fingerprint}|${alert.status}|${alert.startsAt}`,
      conditionId: [alert.fingerprint],
      state: alert.status,
      severity: severityFrom(labels[ctx.config.severityLabel], ctx.config.defaultSeverity),
      category: labels.category ?? labels.alertname,
      title: annotations.summary,
      fallbackTitle: labels.alertname ?? `alert ${alert.fingerprint}`,
      message: annotations.description ?? annotations.message ?? extras.messageFallback,
      device: { sourceDeviceId: null, hostname: hostnameFromInstance(labels[ctx.config.deviceLabel]), site: labels[ctx.config.siteLabel] ?? null },
      occurredAt,
      labels: { ...labels },
      raw,
    },
    ['alerts', index],
  );
}

const rawAlerts = (payload: unknown): unknown[] => {
  const alerts = (payload as { alerts?: unknown }).alerts;
  return Array.isArray(alerts) ? alerts : [];
};

export function normalizeAlertmanager(payload: unknown, ctx: NormalizeContext<AlertmanagerConfig>): NormalizeResult {
  const body = parseOrThrow(alertmanagerWebhookSchema, payload);
  // A new payload version may move fields: refuse loudly rather than mis-read it.
  if (body.version !== undefined && body.version !== '4') {
    throw fieldError(['version'], `unsupported Alertmanager webhook version "${body.version}" (this plugin reads version "4")`);
  }
  if (body.alerts.length === 0) return { kind: 'ignored', reason: 'the notification carries no alerts' };
  const raw = rawAlerts(payload);
  return { kind: 'alerts', alerts: body.alerts.map((alert, i) => normalizeAlertmanagerAlert(ctx, alert, raw[i], i)) };
}
