import { MAX_ALERT_KEY_LENGTH } from './alert-schema';
import { dedupKeyFor, type DedupOptions } from './dedup-fields';
import { fieldError, type PathSegment } from './payload-error';
import { toIsoInstant } from './timestamps';
import type { AlertState, DeviceReference, NormalizeContext, NormalizedAlert, Severity } from './types';

/**
 * What a plugin knows about one alert; finishAlert() adds what every plugin does the same way
 * (dedup key with the per-source override, time format, trimming), so plugins stay small maps.
 */
export interface AlertDraft {
  sourceAlertId: string;
  /** Parts of the source's own stable condition id (e.g. [fingerprint], [deviceId, seriesUid]). */
  conditionId: readonly string[];
  state: AlertState;
  severity: Severity;
  category: string | null | undefined;
  title: string | null | undefined;
  /** Used when title is empty. */
  fallbackTitle: string;
  message: string | null | undefined;
  device: DeviceReference;
  occurredAt: Date;
  labels: Record<string, string>;
  raw: unknown;
}

/** Titles are one line for ticket subjects and lists; the full text stays in message and raw. */
const MAX_TITLE = 500;

const blankToNull = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
};

export function oneLineTitle(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_TITLE ? `${line.slice(0, MAX_TITLE - 1)}…` : line;
}

/** @param rawPath where `raw` sits in the payload (`['alerts', 2]`), so dedup-field errors name the field. */
export function finishAlert<C extends DedupOptions>(ctx: NormalizeContext<C>, draft: AlertDraft, rawPath: readonly PathSegment[]): NormalizedAlert {
  const title = blankToNull(draft.title) ?? draft.fallbackTitle;
  const dedupKey = dedupKeyFor(ctx.sourceName, ctx.config, draft.raw, draft.conditionId, rawPath);
  // Ids are built from sender fields without a length cap (a fingerprint, an activity id, dedupFields
  // values): too long to store is the sender's 400, not the 500 of a plugin bug (found by fuzzing).
  if (draft.sourceAlertId.length > MAX_ALERT_KEY_LENGTH) {
    throw fieldError(rawPath, `its alert id is ${draft.sourceAlertId.length} characters long, at most ${MAX_ALERT_KEY_LENGTH}: an id field of this alert is too long`);
  }
  if (dedupKey.length > MAX_ALERT_KEY_LENGTH) {
    const cause = ctx.config.dedupFields?.length ? `the values of the source's dedupFields (${ctx.config.dedupFields.join(', ')}) are` : "the alert's condition id is";
    throw fieldError(rawPath, `its dedup key is ${dedupKey.length} characters long, at most ${MAX_ALERT_KEY_LENGTH}: ${cause} too long`);
  }
  return {
    sourceAlertId: draft.sourceAlertId,
    dedupKey,
    state: draft.state,
    severity: draft.severity,
    category: blankToNull(draft.category),
    title: oneLineTitle(title),
    message: blankToNull(draft.message),
    device: {
      sourceDeviceId: blankToNull(draft.device.sourceDeviceId),
      hostname: blankToNull(draft.device.hostname),
      site: blankToNull(draft.device.site),
      ...(draft.device.siteName !== undefined ? { siteName: blankToNull(draft.device.siteName) } : {}),
    },
    occurredAt: toIsoInstant(draft.occurredAt),
    labels: draft.labels,
    raw: draft.raw,
  };
}

/** Flat string labels from a sender's map: scalars stringified, empty and nested values dropped. */
export function flatLabels(source: Record<string, unknown> | null | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!source) return labels;
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'string') labels[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') labels[key] = String(value);
  }
  return labels;
}
