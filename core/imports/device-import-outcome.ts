/**
 * R-LINK-7 / R-LINK-8: the device import's verdict and report counts, from the parsed file, the
 * errors of every stage and the plan. Pure, so the all-or-nothing rule is tested as a table.
 */
import { MAX_REPORTED_ERRORS, type RowError } from './device-csv';
import type { PlannedRow } from './device-plan';

export interface DeviceImportCounts {
  /** Data rows in the file (blank lines not counted). */
  rows: number;
  valid: number;
  invalid: number;
  /** Counts of what was (or, in a dry run or when refused, would be) done with the valid rows. */
  created: number;
  updated: number;
  unchanged: number;
  linked: number;
  linksUnchanged: number;
  errorCount: number;
  /** The first MAX_REPORTED_ERRORS errors, by line. */
  errors: RowError[];
}

export interface DeviceImportVerdict {
  counts: DeviceImportCounts;
  /**
   * Nothing may be written: an error about the whole file (its header), or any row error without
   * skipInvalid (all-or-nothing by default).
   */
  refused: boolean;
}

/** `errors` of every stage, in any order; `total` the data rows read. */
export function importVerdict(total: number, errors: readonly RowError[], planned: readonly PlannedRow[], skipInvalid: boolean): DeviceImportVerdict {
  const sorted = [...errors].sort((a, b) => a.line - b.line);
  const fileLevel = sorted.some((e) => e.field === '(header)' || e.field === '(file)');
  const invalid = fileLevel ? total : new Set(sorted.map((e) => e.line)).size;
  return {
    counts: {
      rows: total,
      valid: fileLevel ? 0 : total - invalid,
      invalid,
      created: planned.filter((p) => p.action === 'create').length,
      updated: planned.filter((p) => p.action === 'update').length,
      unchanged: planned.filter((p) => p.action === 'unchanged').length,
      linked: planned.filter((p) => p.link.kind === 'link').length,
      linksUnchanged: planned.filter((p) => p.link.kind === 'unchanged').length,
      errorCount: sorted.length,
      errors: sorted.slice(0, MAX_REPORTED_ERRORS),
    },
    refused: fileLevel || (sorted.length > 0 && !skipInvalid),
  };
}
