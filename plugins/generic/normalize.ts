import { z } from 'zod';
import { finishAlert, flatLabels } from '../alert-builder';
import { fieldError, parseOrThrow } from '../payload-error';
import type { NormalizeContext, NormalizeResult } from '../types';
import { GENERIC_MAX_ALERTS, genericAlertSchema, type GenericAlert, type GenericConfig } from './schema';

const idText = (v: string | number | null | undefined): string | null => (v === undefined || v === null ? null : String(v).trim());

function toAlert(ctx: NormalizeContext<GenericConfig>, alert: GenericAlert, raw: unknown, at: (string | number)[]) {
  const alertId = String(alert.alertId).trim();
  return finishAlert(
    ctx,
    {
      // Same id on a retried delivery (same occurredAt), a new id for a new firing or a resolve.
      sourceAlertId: `${alertId}|${alert.state}|${alert.occurredAt}`,
      conditionId: [alertId],
      state: alert.state,
      severity: alert.severity,
      category: alert.category,
      title: alert.title,
      fallbackTitle: alertId,
      message: alert.message,
      device: { sourceDeviceId: idText(alert.device.id), hostname: alert.device.hostname ?? null, site: idText(alert.device.site) },
      occurredAt: new Date(alert.occurredAt),
      labels: flatLabels(alert.labels),
      raw,
    },
    at,
  );
}

/** One alert object, or an array of 1..500 of them. */
export function normalizeGeneric(payload: unknown, ctx: NormalizeContext<GenericConfig>): NormalizeResult {
  if (Array.isArray(payload)) {
    if (payload.length === 0) throw fieldError([], 'is an empty array: send one alert object or an array of 1 to 500');
    if (payload.length > GENERIC_MAX_ALERTS) {
      throw fieldError([], `has ${payload.length} alerts: at most ${GENERIC_MAX_ALERTS} per request, split the batch`);
    }
    // One parse for the whole batch, so the error lists every bad field, not just the first alert's.
    const alerts = parseOrThrow(z.array(genericAlertSchema), payload);
    return { kind: 'alerts', alerts: alerts.map((alert, i) => toAlert(ctx, alert, payload[i], [i])) };
  }
  if (payload === null || typeof payload !== 'object') throw fieldError([], 'must be an alert object or an array of alert objects');
  return { kind: 'alerts', alerts: [toAlert(ctx, parseOrThrow(genericAlertSchema, payload), payload, [])] };
}
