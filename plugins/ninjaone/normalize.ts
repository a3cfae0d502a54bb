import { finishAlert } from '../alert-builder';
import { fieldError, parseOrThrow } from '../payload-error';
import { fromEpoch } from '../timestamps';
import type { AlertState, NormalizeContext, NormalizeResult, Severity } from '../types';
import { ninjaConditionSchema, ninjaEnvelopeSchema, type NinjaCondition, type NinjaoneConfig } from './schema';

/** NinjaOne severity (impact) first; its priority (urgency) when severity is absent or NONE. */
export const SEVERITY_MAP = { CRITICAL: 'critical', MAJOR: 'high', MODERATE: 'medium', MINOR: 'low', NONE: 'info' } as const satisfies Record<string, Severity>;
export const PRIORITY_MAP = { HIGH: 'high', MEDIUM: 'medium', LOW: 'low', NONE: 'info' } as const satisfies Record<string, Severity>;

/** TRIGGERED fires, RESET resolves; ACKNOWLEDGED and anything else change nothing on a ticket. */
const STATE_BY_STATUS: Readonly<Record<string, AlertState>> = { TRIGGERED: 'firing', RESET: 'resolved' };

export function ninjaSeverity(activity: Pick<NinjaCondition, 'severity' | 'priority'>, fallback: Severity): Severity {
  if (activity.severity && activity.severity !== 'NONE') return SEVERITY_MAP[activity.severity];
  if (activity.priority && activity.priority !== 'NONE') return PRIORITY_MAP[activity.priority];
  if (activity.severity === 'NONE' || activity.priority === 'NONE') return 'info';
  return fallback;
}

const text = (v: string | number | null | undefined): string | null => (v === undefined || v === null || v === '' ? null : String(v));

function labelsOf(a: NinjaCondition, statusCode: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const put = (key: string, value: string | number | null | undefined) => {
    const t = text(value);
    if (t !== null) labels[key] = t;
  };
  put('activityType', a.activityType);
  put('statusCode', statusCode);
  put('ninjaSeverity', a.severity);
  put('ninjaPriority', a.priority);
  put('sourceName', a.sourceName);
  put('sourceConfigUid', a.sourceConfigUid);
  put('conditionCode', a.data?.message?.code);
  put('nodeClass', a.device?.nodeClass);
  put('locationId', a.device?.locationId);
  return labels;
}

export function normalizeNinjaone(payload: unknown, ctx: NormalizeContext<NinjaoneConfig>): NormalizeResult {
  const envelope = parseOrThrow(ninjaEnvelopeSchema, payload);
  if (envelope.activityType.toUpperCase() !== 'CONDITION') {
    return { kind: 'ignored', reason: `${envelope.activityType} activity is not a monitoring condition` };
  }
  const statusCode = (envelope.statusCode ?? envelope.status ?? '').trim().toUpperCase();
  const state = STATE_BY_STATUS[statusCode];
  if (state === undefined) {
    return { kind: 'ignored', reason: `CONDITION activity with status ${statusCode === '' ? '(none)' : statusCode} changes no alert` };
  }

  const a = parseOrThrow(ninjaConditionSchema, payload);
  const deviceId = text(a.deviceId ?? a.device?.id);
  if (deviceId === null) throw fieldError(['deviceId'], 'is required for a CONDITION activity (or device.id)');
  const occurredAt = fromEpoch(typeof a.activityTime === 'number' ? a.activityTime : Number(a.activityTime));
  if (occurredAt === null) throw fieldError(['activityTime'], 'must be epoch seconds between 2000 and 2099');

  const device = a.device ?? undefined;
  return {
    kind: 'alerts',
    alerts: [
      finishAlert(
        ctx,
        {
          // The activity id is unique per event and repeats on a redelivery; the series names the condition.
          sourceAlertId: String(a.id),
          conditionId: [deviceId, a.seriesUid],
          state,
          severity: ninjaSeverity(a, ctx.config.defaultSeverity),
          category: a.data?.message?.code ?? a.sourceName ?? a.type,
          title: a.subject || a.message,
          fallbackTitle: `NinjaOne condition ${a.seriesUid}`,
          message: a.message,
          device: {
            sourceDeviceId: deviceId,
            hostname: device?.systemName || device?.dnsName || device?.netbiosName || device?.displayName || null,
            site: text(a.organizationId ?? device?.organizationId),
            siteName: device?.references?.organization?.name ?? null,
          },
          occurredAt,
          labels: labelsOf(a, statusCode),
          raw: payload,
        },
        [],
      ),
    ],
  };
}
