import { finishAlert, flatLabels } from '../alert-builder';
import { parseOrThrow } from '../payload-error';
import type { AlertState, NormalizeContext, NormalizeResult, Severity } from '../types';
import { exampleWebhookSchema, type ExampleConfig, type ExampleWebhook } from './schema';

/** TEMPLATE: the two maps that are most of a plugin (Keep's providers do the same). */
export const SEVERITY_MAP: Readonly<Record<string, Severity>> = {
  disaster: 'critical',
  high: 'high',
  average: 'medium',
  warning: 'low',
  information: 'info',
};

/** Statuses that are not in the map are valid payloads without an alert: answer `ignored`, never throw. */
const STATE_BY_STATUS: Partial<Record<ExampleWebhook['event']['status'], AlertState>> = { PROBLEM: 'firing', OK: 'resolved' };

export function normalizeExample(payload: unknown, ctx: NormalizeContext<ExampleConfig>): NormalizeResult {
  // Throws VALIDATION_FAILED naming the field (R-ALR-5).
  const { event } = parseOrThrow(exampleWebhookSchema, payload);
  const state = STATE_BY_STATUS[event.status];
  if (state === undefined) return { kind: 'ignored', reason: `status ${event.status} carries no alert` };
  return {
    kind: 'alerts',
    alerts: [
      finishAlert(
        ctx,
        {
          // Same on a redelivery, new for each new event.
          sourceAlertId: event.id,
          // The condition: never a time, never the event id (R-ALR-4).
          conditionId: [event.host.id ?? event.host.name ?? '', event.checkId],
          state,
          severity: SEVERITY_MAP[event.severity.toLowerCase()] ?? ctx.config.defaultSeverity,
          category: event.tags?.category,
          title: event.summary,
          fallbackTitle: `${event.checkId} on ${event.host.name ?? event.host.id ?? 'unknown host'}`,
          message: event.details,
          device: { sourceDeviceId: event.host.id ?? null, hostname: event.host.name ?? null, site: event.host.customer ?? null },
          occurredAt: new Date(event.time),
          labels: flatLabels(event.tags),
          raw: payload,
        },
        [],
      ),
    ],
  };
}
