import { DateTime } from 'luxon';

/** Instants as the hub stores them: ISO 8601, UTC, millisecond precision (timestamptz keeps µs at most). */
export const toIsoInstant = (date: Date): string => date.toISOString();

// Senders' clocks and formats vary; anything outside this range is a unit mix-up, not a real time.
const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(2100, 0, 1);

const inRange = (ms: number): Date | null => (Number.isFinite(ms) && ms >= MIN_MS && ms < MAX_MS ? new Date(ms) : null);

/** Epoch seconds (may be fractional, NinjaOne) or milliseconds (13 digits, Datto's API), told apart by size. */
export function fromEpoch(value: number): Date | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  return inRange(value >= 1e11 ? value : value * 1000);
}

/**
 * Lenient parse for senders whose timestamp format is a template variable we do not control:
 * - epoch seconds or milliseconds, as a number or a digit string (fraction allowed);
 * - ISO 8601 with offset or `Z` (`2026-11-23T10:15:00+01:00`);
 * - ISO 8601 / SQL style without offset (`2026-11-23T10:15:00`, `2026-11-23 10:15:00`), read as UTC;
 *   a trailing ` UTC` / ` GMT` / ` Z` is accepted;
 * - RFC 2822 / HTTP dates (`Mon, 23 Nov 2026 10:15:00 +0000`).
 * Day-first or month-first dates (`06/05/2026`) are refused: they are ambiguous.
 * Returns null when the value is none of these or outside 2000–2099.
 */
export function parseLenientTimestamp(value: unknown): Date | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  let text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  text = text.replace(/\s+(UTC|GMT|Z)$/i, 'Z').replace(/(\d)\s+Z$/, '$1Z');
  const candidates = [
    DateTime.fromISO(text, { zone: 'utc', setZone: true }),
    DateTime.fromSQL(text.replace(/Z$/, ''), { zone: 'utc' }),
    DateTime.fromRFC2822(text, { zone: 'utc', setZone: true }),
    DateTime.fromHTTP(text, { zone: 'utc', setZone: true }),
  ];
  for (const dt of candidates) if (dt.isValid) return inRange(dt.toMillis());
  return null;
}
