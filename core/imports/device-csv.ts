/**
 * R-LINK-7 / R-LINK-8: an RMM's device export as CSV, read and checked row by row before anything
 * is written. Pure: text in, rows and errors (with the CSV line they come from) out. The header is
 * line 1; a record that spans lines (a quoted newline) is reported at the line it starts on.
 */
import { isIsoDate, type IsoDate } from '../dates';
import { parseCsv } from './csv';

/** Columns of the import file, in the order `hub import devices` documents them. */
export const DEVICE_CSV_COLUMNS = ['hostname', 'source', 'sourceDeviceId', 'site', 'contract', 'service', 'linkFrom'] as const;
export type DeviceCsvColumn = (typeof DEVICE_CSV_COLUMNS)[number];
const REQUIRED_COLUMNS: readonly DeviceCsvColumn[] = ['hostname', 'source', 'sourceDeviceId', 'site'];

/** A row problem, named like the API names fields (the CSV column). */
export interface RowError {
  line: number;
  field: string;
  message: string;
}

/** A row whose fields each passed their own checks (references are resolved later, against the database). */
export interface DeviceCsvRow {
  line: number;
  hostname: string;
  source: string;
  sourceDeviceId: string;
  site: string;
  /** Contract code or name (or id), or null. */
  contract: string | null;
  /** Service code or name, or null (needs a contract). */
  service: string | null;
  /** First day of the contract link (R-LINK-8), or null: today in the company's zone. */
  linkFrom: IsoDate | null;
}

export interface ParsedDeviceCsv {
  /** Rows that passed the per-field checks. */
  rows: DeviceCsvRow[];
  /** Every problem found, by line. A row with an error is not in `rows`. */
  errors: RowError[];
  /** Data rows read (valid or not), without the header and blank lines. */
  total: number;
}

/** The source name rule of `sources.name`: refs made by an import must match what webhooks store. */
const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

const LIMITS: Record<DeviceCsvColumn, number> = { hostname: 253, source: 63, sourceDeviceId: 200, site: 200, contract: 200, service: 200, linkFrom: 10 };

/** Most errors kept: a file of 100,000 bad rows should not answer with 100,000 messages. */
export const MAX_REPORTED_ERRORS = 1000;

/**
 * Reads the file: a header naming the columns (any order, case-insensitive; hostname, source,
 * sourceDeviceId and site required; contract, service and linkFrom optional; an unknown column is an error
 * so a typo does not silently drop data), then one device a row. Blank lines are skipped; an
 * Excel BOM is ignored. A malformed file (an unclosed quote) is one error at the line it breaks.
 */
export function parseDeviceCsv(text: string): ParsedDeviceCsv {
  const parsed = parseCsv(text);
  const [header, ...data] = parsed.records;
  if (!header) {
    const error = parsed.fatal
      ? { line: parsed.fatal.line, field: '(file)', message: `not valid CSV: ${parsed.fatal.message}` }
      : { line: 1, field: '(header)', message: `the file is empty; expected a header row: ${DEVICE_CSV_COLUMNS.join(',')}` };
    return { rows: [], errors: [error], total: 0 };
  }
  if (header.error) return { rows: [], errors: [{ line: header.line, field: '(header)', message: header.error }], total: data.length };

  const errors: RowError[] = [];
  const index = new Map<DeviceCsvColumn, number>();
  header.fields.forEach((raw, i) => {
    const name = raw.trim();
    const column = DEVICE_CSV_COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!column) errors.push({ line: header.line, field: '(header)', message: `unknown column "${name}"; the columns are ${DEVICE_CSV_COLUMNS.join(', ')}` });
    else if (index.has(column)) errors.push({ line: header.line, field: '(header)', message: `column "${column}" appears twice` });
    else index.set(column, i);
  });
  for (const c of REQUIRED_COLUMNS) {
    if (!index.has(c)) errors.push({ line: header.line, field: '(header)', message: `missing column "${c}" (header must name ${REQUIRED_COLUMNS.join(', ')}; contract, service and linkFrom are optional)` });
  }
  if (errors.length > 0) return { rows: [], errors, total: data.length };
  if (parsed.fatal) {
    // Rows before the break would import; a file cut off by a broken quote should not, half of it.
    return { rows: [], errors: [{ line: parsed.fatal.line, field: '(file)', message: `not valid CSV: ${parsed.fatal.message}` }], total: data.length };
  }

  const rows: DeviceCsvRow[] = [];
  const seenRefs = new Map<string, number>();
  let total = 0;
  for (const { line, fields: record, error } of data) {
    // Spreadsheets export trailing rows of empty cells (",,,,,"): as blank as a blank line.
    if (error === undefined && record.every((f) => f.trim() === '')) continue;
    total++;
    const before = errors.length;
    if (error !== undefined) {
      errors.push({ line, field: '(row)', message: error });
      continue;
    }
    if (record.length !== header.fields.length) {
      errors.push({ line, field: '(row)', message: `has ${record.length} fields, the header has ${header.fields.length}` });
      continue;
    }
    const hostname = checkField(record, index, 'hostname', true, line, errors);
    const source = checkField(record, index, 'source', true, line, errors);
    const sourceDeviceId = checkField(record, index, 'sourceDeviceId', true, line, errors);
    const site = checkField(record, index, 'site', true, line, errors);
    const contract = checkField(record, index, 'contract', false, line, errors);
    const service = checkField(record, index, 'service', false, line, errors);
    const linkFrom = checkField(record, index, 'linkFrom', false, line, errors);
    if (source !== null && !SOURCE_NAME.test(source)) {
      errors.push({ line, field: 'source', message: `must be a source name (lower-case letters, digits, - and _), got "${source}"` });
    }
    if (hostname !== null && /\s/.test(hostname)) errors.push({ line, field: 'hostname', message: 'must not contain spaces' });
    if (service !== null && contract === null) errors.push({ line, field: 'service', message: 'needs a contract in the same row' });
    if (linkFrom !== null && !isIsoDate(linkFrom)) errors.push({ line, field: 'linkFrom', message: `must be a date YYYY-MM-DD, got "${linkFrom}"` });
    else if (linkFrom !== null && contract === null) errors.push({ line, field: 'linkFrom', message: 'needs a contract in the same row' });
    if (source !== null && sourceDeviceId !== null) {
      const key = `${source}\u0000${sourceDeviceId}`;
      const first = seenRefs.get(key);
      if (first !== undefined) errors.push({ line, field: 'sourceDeviceId', message: `duplicates line ${first} (same source and sourceDeviceId)` });
      else seenRefs.set(key, line);
    }
    if (errors.length > before || hostname === null || source === null || sourceDeviceId === null || site === null) continue;
    rows.push({ line, hostname, source, sourceDeviceId, site, contract, service, linkFrom: linkFrom as IsoDate | null });
  }
  return { rows, errors, total };
}

/**
 * One field's own checks; its errors are appended to `errors`. Returns the trimmed value, or null
 * when empty. (A plain function, not a closure per row: it runs 600,000 times for 100,000 rows.)
 */
function checkField(record: readonly string[], index: ReadonlyMap<DeviceCsvColumn, number>, c: DeviceCsvColumn, required: boolean, line: number, errors: RowError[]): string | null {
  const i = index.get(c);
  const v = i === undefined ? '' : (record[i] ?? '').trim();
  if (v === '') {
    if (required) errors.push({ line, field: c, message: 'is required' });
    return null;
  }
  if (v.length > LIMITS[c]) errors.push({ line, field: c, message: `must be at most ${LIMITS[c]} characters` });
  else if (CONTROL.test(v)) errors.push({ line, field: c, message: 'must not contain control characters' });
  return v;
}
