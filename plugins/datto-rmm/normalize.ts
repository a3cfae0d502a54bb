import { finishAlert } from '../alert-builder';
import { fieldError, issuesToProblems, problemsError } from '../payload-error';
import { parseLenientTimestamp } from '../timestamps';
import type { NormalizeContext, NormalizeResult, Severity } from '../types';
import { dattoWebhookSchema, UNSUBSTITUTED, type DattoRmmConfig, type DattoWebhook } from './schema';

export const PRIORITY_MAP = {
  critical: 'critical',
  high: 'high',
  moderate: 'medium',
  low: 'low',
  information: 'info',
} as const satisfies Record<NonNullable<DattoWebhook['alert_priority']>, Severity>;

/**
 * Template values as Datto fills them: strings trimmed; blanks and variables Datto left
 * unsubstituted count as absent (their keys are returned, so an error can say why).
 */
function clean(body: Record<string, unknown>): { cleaned: Record<string, unknown>; unsubstituted: Map<string, string> } {
  const cleaned: Record<string, unknown> = {};
  const unsubstituted = new Map<string, string>();
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== 'string') {
      cleaned[key] = value;
      continue;
    }
    const trimmed = value.trim();
    if (UNSUBSTITUTED.test(trimmed)) unsubstituted.set(key, trimmed);
    else if (trimmed !== '') cleaned[key] = trimmed;
  }
  return { cleaned, unsubstituted };
}

export function normalizeDattoRmm(payload: unknown, ctx: NormalizeContext<DattoRmmConfig>): NormalizeResult {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw fieldError([], 'must be the JSON object of the Datto RMM webhook template (see plugins/datto-rmm/README.md)');
  }
  const { cleaned, unsubstituted } = clean(payload as Record<string, unknown>);
  const parsed = dattoWebhookSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = issuesToProblems(parsed.error.issues, [], cleaned).map((p) => {
      const variable = unsubstituted.get(p.field);
      return variable === undefined
        ? p
        : { ...p, message: `${p.message}: Datto sent the variable ${variable} unsubstituted, check its spelling in the webhook template` };
    });
    throw problemsError(problems);
  }
  const body = parsed.data;
  const state = body.event === 'alert' ? 'firing' : 'resolved';
  const alertUid = String(body.alert_uid);
  const deviceId = body.device_id === undefined ? null : String(body.device_id);

  const labels: Record<string, string> = {};
  if (body.alert_type !== undefined) labels.alertType = body.alert_type;
  if (body.alert_priority !== undefined) labels.priority = body.alert_priority;
  // Datto's timestamp format depends on the account's settings: when we cannot read it, the
  // receipt time stands in (the alert is still stored) and the original is kept visible.
  const sentAt = body.timestamp === undefined ? null : parseLenientTimestamp(body.timestamp);
  if (body.timestamp !== undefined && sentAt === null) labels.timestampUnparsed = String(body.timestamp);

  return {
    kind: 'alerts',
    alerts: [
      finishAlert(
        ctx,
        {
          // One Datto alert has one uid for its whole life: trigger and resolution are its two events.
          sourceAlertId: `${alertUid}|${state}`,
          conditionId: [alertUid],
          state,
          // A resolution template may leave the priority out: the ticket keeps its own.
          severity: body.alert_priority === undefined ? 'info' : PRIORITY_MAP[body.alert_priority],
          category: body.alert_type,
          title: body.alert_message,
          fallbackTitle: `${body.alert_type ?? 'Datto RMM alert'} on ${body.device_hostname ?? deviceId ?? 'unknown device'}`,
          message: body.alert_message,
          device: {
            sourceDeviceId: deviceId,
            hostname: body.device_hostname ?? null,
            site: body.site_id === undefined ? null : String(body.site_id),
            siteName: body.site_name ?? null,
          },
          occurredAt: sentAt ?? ctx.receivedAt,
          labels,
          raw: payload,
        },
        [],
      ),
    ],
  };
}
