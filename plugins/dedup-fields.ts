import { z } from 'zod';
import { getPath, plainPathSchema, stableStringify } from './object-path';
import { fieldError, type PathSegment } from './payload-error';

/**
 * Per-source dedup key override (R-ALR-4). A dedup key names the *condition* (device + check) and
 * must stay the same across firings; a time in it would open a new ticket for every delivery, so
 * timestamp-like fields are refused when the source is configured, not discovered in production.
 */
const TIMESTAMP_NAMES = new Set([
  'timestamp', 'time', 'date', 'datetime', 'ts', 'created', 'updated', 'modified', 'lastupdate', 'lastcontact',
  'startsat', 'endsat', 'occurredat', 'activitytime', 'createdat', 'updatedat', 'receivedat', 'firedat', 'resolvedat',
  'starttime', 'endtime', 'eventtime', 'start_date', 'end_date',
]);

/** `startsAt`, `activityTime`, `occurred_at`, `eventDate`, `created`…; not `format` or `state`. */
export function looksLikeTimestamp(segment: string): boolean {
  if (TIMESTAMP_NAMES.has(segment.toLowerCase())) return true;
  if (/[a-z0-9](At|Time|Timestamp|Date|Ts)$/.test(segment)) return true;
  return /(^|_)(at|time|timestamp|date|ts)$/i.test(segment) && segment.includes('_');
}

export const dedupFieldsSchema = z
  .array(plainPathSchema)
  .min(1, 'give at least one field, or leave dedupFields out to use the source\'s own stable id')
  .max(10, 'at most 10 fields')
  .superRefine((fields, ctx) => {
    fields.forEach((field, i) => {
      const timeSegment = field.split('.').find(looksLikeTimestamp);
      if (timeSegment !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `"${field}" looks like a timestamp ("${timeSegment}"): a dedup key must identify the condition (device + check) and stay the same across firings, or every delivery would open a new ticket`,
        });
      }
    });
  });

export interface DedupOptions {
  /** Dot paths into the alert's own payload part whose values, joined, form the dedup key. @defaultValue the source's stable id */
  dedupFields?: readonly string[] | undefined;
}

/** Joins parts unambiguously: `|` and `\` inside a part are escaped. */
export const joinKeyParts = (parts: readonly string[]): string => parts.map((p) => p.replace(/[\\|]/g, '\\$&')).join('|');

/**
 * The alert's dedup key, namespaced by the source name (tickets are unique per dedup key across
 * all sources, so two sources sending the same id must not share a ticket).
 */
export function dedupKeyFor(
  sourceName: string,
  options: DedupOptions,
  raw: unknown,
  defaultParts: readonly string[],
  rawPath: readonly PathSegment[],
): string {
  const fields = options.dedupFields;
  if (fields === undefined || fields.length === 0) return `${sourceName}:${joinKeyParts(defaultParts)}`;
  const parts = fields.map((field) => {
    const value = getPath(raw, field);
    if (value === undefined || value === null || value === '') {
      throw fieldError([...rawPath, ...field.split('.')], `is required: the source's dedupFields use it for the dedup key`);
    }
    return typeof value === 'string' ? value : stableStringify(value);
  });
  return `${sourceName}:${joinKeyParts(parts)}`;
}

/** Spread into every plugin's config schema: `z.strictObject({ ...dedupConfigShape, … })`. */
export const dedupConfigShape = {
  dedupFields: dedupFieldsSchema.optional(),
};
