import { z } from 'zod';
import { validationError } from '../../core/errors';

/** The period a replay reads, as the API and the CLI let people write it. */

const RELATIVE = /^(\d{1,4})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** A replay reads every alert of its period; a year is plenty and bounds the worst case. */
export const MAX_REPLAY_PERIOD_MS = 366 * 86_400_000;

/** `7d`, `24h`, `90m`, `2w` before `now`, or an ISO 8601 instant with offset. */
export function parsePeriodStart(text: string, now: Date, field = 'since'): Date {
  const rel = RELATIVE.exec(text.trim());
  if (rel) {
    const ms = Number(rel[1]) * (UNIT_MS[rel[2] ?? 'd'] ?? 0);
    if (ms <= 0) throw validationError(field, 'must be a positive duration such as 7d, 24h or 90m');
    return new Date(now.getTime() - ms);
  }
  return parseInstant(text, field, 'a duration such as 7d, 24h, 90m, 2w or');
}

export function parseInstant(text: string, field: string, also = ''): Date {
  const ok = z.iso.datetime({ offset: true }).safeParse(text.trim());
  if (!ok.success) throw validationError(field, `must be ${also ? `${also} ` : ''}an ISO 8601 instant with offset, e.g. 2026-11-01T00:00:00Z`);
  return new Date(text.trim());
}

export function checkPeriod(since: Date, until: Date): void {
  if (until.getTime() <= since.getTime()) throw validationError('until', `must be after since (${since.toISOString()})`);
  if (until.getTime() - since.getTime() > MAX_REPLAY_PERIOD_MS) throw validationError('since', 'the period may span at most 366 days');
}
