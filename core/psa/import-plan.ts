/**
 * `hub psa import` (R-PSA-4): what to do with one record read from a PSA, given the hub record it
 * matches (by its `psaRefs[<connection>]`, else by its natural key) — pure, so the same plan is
 * made by the dry run and the real run, and a second run over unchanged PSA data is all
 * "unchanged" (idempotent).
 */
export type ImportKind = 'company' | 'sla' | 'service' | 'contract' | 'device';
export const IMPORT_KINDS: readonly ImportKind[] = ['company', 'sla', 'service', 'contract', 'device'];

export type ImportAction<P> =
  | { kind: 'create'; values: P }
  /** `linkRef`: the hub record was matched by its natural key and gets the PSA id now. */
  | { kind: 'update'; id: string; patch: Partial<P>; linkRef: boolean }
  | { kind: 'unchanged'; id: string }
  | { kind: 'refused'; reason: string };

/** The hub's current values of a matched record, with how it was matched. */
export interface ImportMatch<P> {
  id: string;
  values: P;
  byRef: boolean;
}

/** Fields equal as the hub stores them (dates as YYYY-MM-DD, money as decimal strings, ids as strings). */
function differing<P extends object>(current: P, wanted: P): Partial<P> {
  const patch: Partial<P> = {};
  for (const key of Object.keys(wanted) as Array<keyof P>) {
    const w = wanted[key];
    if (w === undefined) continue;
    if (JSON.stringify(current[key] ?? null) !== JSON.stringify(w ?? null)) patch[key] = w;
  }
  return patch;
}

/**
 * The generic plan: refused when the record cannot be made (missing reference, bad value); create
 * when nothing matches; else update exactly the fields that differ (and link the ref), or unchanged.
 */
export function planRecord<P extends object>(wanted: P | { refused: string }, match: ImportMatch<P> | null): ImportAction<P> {
  if ('refused' in wanted) return { kind: 'refused', reason: wanted.refused };
  if (match === null) return { kind: 'create', values: wanted };
  const patch = differing(match.values, wanted);
  if (Object.keys(patch).length === 0 && match.byRef) return { kind: 'unchanged', id: match.id };
  return { kind: 'update', id: match.id, patch, linkRef: !match.byRef };
}

export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
}

export interface ImportSummary {
  counts: Record<ImportKind, ImportCounts>;
  /** Every refused record with its reason (capped; `refusedTotal` in counts). */
  refused: Array<{ kind: ImportKind; externalId: string; name: string; reason: string }>;
}

export const REFUSED_LIST_MAX = 500;

export function emptySummary(): ImportSummary {
  const zero = (): ImportCounts => ({ created: 0, updated: 0, unchanged: 0, refused: 0 });
  return { counts: { company: zero(), sla: zero(), service: zero(), contract: zero(), device: zero() }, refused: [] };
}

export function countAction(summary: ImportSummary, kind: ImportKind, action: ImportAction<unknown>, record: { externalId: string; name: string }): void {
  const c = summary.counts[kind];
  if (action.kind === 'create') c.created += 1;
  else if (action.kind === 'update') c.updated += 1;
  else if (action.kind === 'unchanged') c.unchanged += 1;
  else {
    c.refused += 1;
    if (summary.refused.length < REFUSED_LIST_MAX) summary.refused.push({ kind, externalId: record.externalId, name: record.name, reason: action.reason });
  }
}

/** Normalizes an ISO instant or date (PSAs send `2026-01-01T00:00:00Z`) to YYYY-MM-DD, or null. */
export function psaDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value.trim());
  return m ? m[1]! : null;
}

/** A PSA amount (number or numeric string) as the hub's decimal string, or null. */
export function psaMoney(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return String(Math.round(value * 10_000) / 10_000);
  if (typeof value === 'string' && /^\d{1,10}(\.\d{1,4})?$/.test(value.trim())) return value.trim();
  return null;
}

/** A PSA id (number or digit string) as a string, or null. */
export function psaId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
  if (typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,100}$/.test(value)) return value;
  return null;
}
