import { normalizeAlertmanagerAlert } from '../alertmanager/normalize';
import { parseOrThrow } from '../payload-error';
import type { NormalizeContext, NormalizedAlert, NormalizeResult } from '../types';
import { grafanaWebhookSchema, type GrafanaAlert, type GrafanaConfig } from './schema';

/**
 * The alert of a contact-point test: `alertname=TestAlert` plus `instance=Grafana` (Grafana 8–10)
 * or `grafana_folder=Test Folder` (Grafana 10+).
 */
export function isGrafanaTestAlert(alert: GrafanaAlert): boolean {
  const { labels } = alert;
  return labels.alertname === 'TestAlert' && (labels.instance === 'Grafana' || labels.grafana_folder === 'Test Folder');
}

export function normalizeGrafana(payload: unknown, ctx: NormalizeContext<GrafanaConfig>): NormalizeResult {
  const body = parseOrThrow(grafanaWebhookSchema, payload);
  if (body.alerts.length === 0) return { kind: 'ignored', reason: 'the notification carries no alerts' };
  const rawAlerts = (payload as { alerts: unknown[] }).alerts;
  const alerts: NormalizedAlert[] = [];
  body.alerts.forEach((alert, i) => {
    if (ctx.config.ignoreTestNotifications && isGrafanaTestAlert(alert)) return;
    const valueString = alert.valueString?.trim();
    alerts.push(normalizeAlertmanagerAlert(ctx, alert, rawAlerts[i], i, { messageFallback: valueString === '' ? undefined : valueString }));
  });
  if (alerts.length === 0) return { kind: 'ignored', reason: 'Grafana contact-point test notification' };
  return { kind: 'alerts', alerts };
}
