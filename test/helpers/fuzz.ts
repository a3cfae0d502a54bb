import fc from 'fast-check';
import knex, { type Knex } from 'knex';
import pino from 'pino';
import { createApp } from '../../api/app';
import { openApiDocument } from '../../api/openapi/registry';
import { parseEnv } from '../../config/env';
import { createLogger, redactPaths, type Logger } from '../../lib/logger';

/**
 * Fuzzing helpers (issue "Benchmarks and fault tests", point 3): the state of every table (to
 * prove a refused request wrote nothing), request bodies generated from the OpenAPI document
 * (so a route added later is fuzzed without anyone listing it), nasty values and mutations of
 * valid-looking payloads, and the run parameters (FUZZ_SEED / FUZZ_RUNS to replay or widen a run).
 */

// ---------------------------------------------------------------------------------------------
// Run parameters

/**
 * fast-check parameters of a fuzz property: `numRuns` scaled by FUZZ_RUNS (a factor, default 1),
 * FUZZ_SEED to replay a reported failure. fast-check prints the seed and path of any failure.
 */
export function fuzzParams(numRuns: number): { numRuns: number; seed?: number } {
  const factor = Number(process.env.FUZZ_RUNS ?? '1');
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  return {
    numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(factor) && factor > 0 ? factor : 1))),
    ...(seed !== undefined && Number.isFinite(seed) ? { seed } : {}),
  };
}

/** Clips a value's JSON for a failure message: a 300 kB string must not flood the report. */
export function preview(value: unknown, max = 600): string {
  let text: string;
  if (Buffer.isBuffer(value)) text = `<${value.length} bytes> ${JSON.stringify(value.subarray(0, 200).toString('latin1'))}`;
  else {
    try {
      text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && v.length > 80 ? `${v.slice(0, 40)}…<${v.length} chars>` : v)) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…<${text.length} chars>` : text;
}

/** A generated value that fast-check prints through {@link preview}, so a counterexample with a megabyte string or 5,000 items stays readable. */
export interface Shown<T> {
  value: T;
  [fc.toStringMethod](): string;
}

export const shown = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<Shown<T>> =>
  arb.map((value) => ({ value, [fc.toStringMethod]: () => preview(value) }));

/**
 * A logger that keeps error lines in memory, so a 5xx found by fuzzing is reported with the
 * server's own stack trace instead of "internal error (request …)".
 */
export function capturingLogger(): { logger: Logger; take(): string[] } {
  let lines: string[] = [];
  const logger = pino({ level: 'error', redact: { paths: redactPaths, censor: '[redacted]' } }, { write: (line: string) => void lines.push(line) });
  return {
    logger,
    take() {
      const out = lines.map((l) => {
        try {
          const o = JSON.parse(l) as { msg?: string; err?: { stack?: string; message?: string } };
          return `${o.msg ?? ''}: ${o.err?.stack ?? o.err?.message ?? l}`;
        } catch {
          return l;
        }
      });
      lines = [];
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Table state: "a refused request wrote nothing"

export interface TableSnapshot {
  rows: number;
  /** md5 over the rows' text forms (order-independent): catches an UPDATE that left counts alone. */
  digest: string;
}
export type TableState = Readonly<Record<string, TableSnapshot>>;

const tableLists = new WeakMap<Knex, Promise<string[]>>();

/** Every table of the public schema except knex's own bookkeeping (audit_log included). */
export function publicTables(db: Knex): Promise<string[]> {
  let list = tableLists.get(db);
  if (!list) {
    list = db
      .raw<{ rows: { tablename: string }[] }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex%' ORDER BY tablename")
      .then((r) => r.rows.map((row) => row.tablename));
    tableLists.set(db, list);
  }
  return list;
}

/**
 * Row count and content digest of every public table, in one statement. `narrow` digests a table
 * over some columns only (`{ alerts: 'x.id, x.updated_at' }`): for rows that carry large payloads.
 */
export async function tableState(db: Knex, opts: { narrow?: Readonly<Record<string, string>> } = {}): Promise<TableState> {
  const tables = await publicTables(db);
  const parts = tables.map((t) => {
    const ident = `"${t.replace(/"/g, '""')}"`;
    const row = opts.narrow?.[t] !== undefined ? `row(${opts.narrow[t]})` : 'x';
    const digest = `coalesce(md5(string_agg(md5(${row}::text), '' ORDER BY md5(${row}::text))), '')`;
    return `SELECT '${t.replace(/'/g, "''")}' AS t, count(*)::int AS n, ${digest} AS d FROM ${ident} x`;
  });
  const r = await db.raw<{ rows: { t: string; n: number; d: string }[] }>(parts.join(' UNION ALL '));
  const out: Record<string, TableSnapshot> = {};
  for (const row of r.rows) out[row.t] = { rows: row.n, digest: row.d };
  return out;
}

/** What changed between two states, one line per table ("deliveries: 3 → 4 rows"); [] when nothing did. */
export function stateChanges(before: TableState, after: TableState, ignore: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (ignore.includes(table)) continue;
    const a = before[table];
    const b = after[table];
    if (!a || !b) out.push(`${table}: table ${a ? 'dropped' : 'created'}`);
    else if (a.rows !== b.rows) out.push(`${table}: ${a.rows} → ${b.rows} rows`);
    else if (a.digest !== b.digest) out.push(`${table}: rows changed (same count ${a.rows})`);
  }
  return out;
}

/** Row-count deltas per table (after − before), zeros left out. */
export function rowDeltas(before: TableState, after: TableState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const table of Object.keys(after)) {
    const d = (after[table]?.rows ?? 0) - (before[table]?.rows ?? 0);
    if (d !== 0) out[table] = d;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Nasty values and mutations

/** Strings that have broken parsers, databases and templating before. */
export const NASTY_STRINGS: readonly string[] = [
  '', ' ', '   ', '\t\n\r', '\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '\ud83d', '😀', '🔥💥', 'Ω≈ç√∫', 'ÄÖÜß', '\u202etxt', '\ufeffbom', '\u2028',
  'null', 'undefined', 'true', 'NaN', 'Infinity', '-1', '0', '1e309', '9'.repeat(40), '0x1F', '1.23456789', '-0',
  "'; DROP TABLE companies; --", "O'Brien", '"quoted"', '\\', '%s%s%n', '${7*7}', '{{7*7}}', '../../../etc/passwd', '/dev/zero',
  '__proto__', 'constructor', 'toString', '<script>alert(1)</script>',
  '2026-02-30', '2026-13-01', '0000-00-00', '9999-12-31', '-infinity', 'infinity', 'epoch', 'allballs', 'today',
  '2026-01-01T25:00:00Z', '+275760-09-13T00:00:00Z', '2026-01-01T00:00:00', '1970-01-01T00:00:00.000Z',
  'Europe/Nowhere', 'UTC', '24:00', '23:59:60', '00:00',
];

/** Numbers at the edges of int4, float8, safe integers and numeric(14,4). */
export const NASTY_NUMBERS: readonly number[] = [
  0, -1, 1, 0.5, 1.00001, 0.1 + 0.2, 1e-10, 5e-324, 2147483647, 2147483648, -2147483649, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e21, 1e300, -1e300,
  9999999999.9999, 10000000000, 123456789012.3456, 86401, 100001,
];

/** A long string: past every field's max length, and past a 1 MiB webhook cap at the top end. */
export const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(5_000, 70_000, 300_000, 1_100_000), fc.constantFrom('x', 'é', '€', '😀'))
  .map(([n, ch]) => ch.repeat(Math.ceil(n / Buffer.byteLength(ch))));

/**
 * Very deep nesting cannot be built as a value (structuredClone, JSON.stringify and fast-check's
 * printer all recurse and overflow near 5,000 levels, while JSON.parse on the server does not), so
 * it travels as a marker string that {@link jsonBytes} expands into `[[[…"bottom"…]]]` text.
 */
export const deepMarker = (depth: number): string => `\u0001deep:${depth}\u0001`;
const DEEP_MARKER_JSON = /"\\u0001deep:(\d+)\\u0001"/g;

/** Arrays nested 64 levels (a real value) up to 100,000 levels (a marker). */
export const deepNesting: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(64).map((depth) => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
  fc.constantFrom(1_000, 10_000, 100_000).map(deepMarker),
);

/** The JSON text of a value, with deep-nesting markers expanded. */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(DEEP_MARKER_JSON, (_m, d: string) => `${'['.repeat(Number(d))}"bottom"${']'.repeat(Number(d))}`);
}

export const jsonBytes = (value: unknown): Buffer => Buffer.from(jsonText(value), 'utf8');

/** Any single junk value: wrong types, edge numbers, nasty strings, huge, deep or long things. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': null }, [[]], { a: { b: { c: {} } } }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.constantFrom(501, 5_000).map((n) => Array.from({ length: n }, (_, i) => i)) },
);

/** Keys a strict schema must refuse (and a naive object merge must not turn into a prototype). */
const junkKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', '', ' ', 'id', 'createdAt', 'companyId', 'extra', '$where', 'a.b', '\u0000'),
  fc.string({ minLength: 1, maxLength: 12 }),
);

export type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'addKey'; at: number; key: string; value: unknown }
  | { kind: 'wrapInArray'; at: number }
  | { kind: 'resizeArray'; at: number; length: number }
  | { kind: 'stringify'; at: number };

/** One to three mutations; `at` picks a node of the value (mod the number of nodes), so shrinking stays meaningful. */
export const mutationsArb: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: junkValue }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('addKey' as const), at: fc.nat(), key: junkKey, value: junkValue }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrapInArray' as const), at: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('resizeArray' as const), at: fc.nat(), length: fc.constantFrom(0, 2, 500, 501) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stringify' as const), at: fc.nat() }) },
  ),
  { minLength: 1, maxLength: 3 },
);

export type Path = (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every node's path (root first), depth-first, capped: mutations may land anywhere, but cheaply. */
export function nodePaths(value: unknown, max = 400): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, path: Path, depth: number) => {
    if (out.length >= max) return;
    out.push(path);
    if (depth > 12) return;
    if (Array.isArray(v)) v.slice(0, 5).forEach((item, i) => walk(item, [...path, i], depth + 1));
    else if (isObject(v)) for (const [k, item] of Object.entries(v)) walk(item, [...path, k], depth + 1);
  };
  walk(value, [], 0);
  return out;
}

/** Sets an own property (also `__proto__`, which plain assignment would turn into a prototype change). */
function setOwn(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function getAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) v = isObject(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

/** Applies one mutation; the root is returned (possibly replaced). */
function applyOne(root: unknown, m: Mutation): unknown {
  const paths = nodePaths(root);
  const path = paths[m.at % paths.length] ?? [];
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1];
  const parent = getAt(root, parentPath);
  const node = getAt(root, path);
  const replace = (value: unknown): unknown => {
    if (key === undefined) return value;
    if (Array.isArray(parent) && typeof key === 'number') parent[key] = value;
    else if (isObject(parent)) setOwn(parent, key, value);
    return root;
  };
  switch (m.kind) {
    // Inserted values are copied: fast-check hands out the same constant objects again, and a later mutation must not edit (or loop through) them.
    case 'replace':
      return replace(structuredClone(m.value));
    case 'delete':
      if (key === undefined) return {};
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else if (isObject(parent)) delete parent[key];
      return root;
    case 'addKey': {
      if (isObject(node)) {
        setOwn(node, m.key, structuredClone(m.value));
        return root;
      }
      const wrapper: Record<string, unknown> = { value: node };
      setOwn(wrapper, m.key, structuredClone(m.value));
      return replace(wrapper);
    }
    case 'wrapInArray':
      return replace([node]);
    case 'resizeArray': {
      const items = Array.isArray(node) ? node : [node];
      const resized = Array.from({ length: m.length }, (_, i) => (items.length === 0 ? i : structuredClone(items[i % items.length])));
      return replace(resized);
    }
    case 'stringify':
      return replace(JSON.stringify(node) ?? 'undefined');
  }
}

/** `value` (deep-copied) with the mutations applied in order. */
export function applyMutations(value: unknown, mutations: readonly Mutation[]): unknown {
  let out: unknown = value === undefined ? undefined : structuredClone(value);
  for (const m of mutations) out = applyOne(out, m);
  return out;
}

/** Mutations of values drawn from `base`: drop fields, change types, huge strings, unicode, nested junk, out-of-range numbers, 501-item arrays. */
export function mutationsOf(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(base, mutationsArb).map(([v, m]) => applyMutations(v, m));
}

/** Bytes that are not JSON, or almost JSON: random bytes, cut-off documents, trailing garbage, BOMs, invalid UTF-8. */
export function nonJsonBytes(validJson: readonly string[]): fc.Arbitrary<Buffer> {
  const doc = fc.constantFrom(...(validJson.length > 0 ? validJson : ['{}']));
  return fc.oneof(
    fc.uint8Array({ maxLength: 2_000 }).map((b) => Buffer.from(b)),
    fc.tuple(doc, fc.nat()).map(([d, n]) => Buffer.from(d.slice(0, n % Math.max(1, d.length)))),
    fc.tuple(doc, fc.constantFrom('}', ']', ',', ' garbage', '\u0000', '{}', 'null')).map(([d, tail]) => Buffer.from(d + tail)),
    doc.map((d) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(d)])),
    fc.tuple(doc, fc.nat(), fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00])).map(([d, n, bytes]) => {
      const b = Buffer.from(d);
      const at = n % Math.max(1, b.length);
      return Buffer.concat([b.subarray(0, at), Buffer.from(bytes), b.subarray(at)]);
    }),
    fc.constantFrom('', ' ', 'null', 'true', '0', '"text"', '[]', '{', 'NaN', "{'single': 'quotes'}", '{"a":1,}', '{"a":1}{"b":2}').map((s) => Buffer.from(s)),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf16le')),
  );
}

// ---------------------------------------------------------------------------------------------
// Bodies from the OpenAPI document

/** The part of JSON Schema / OpenAPI 3.1 schemas that zod-to-openapi writes. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  example?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

export interface OpenApiDoc {
  paths?: Record<string, Record<string, unknown> | undefined>;
  components?: { schemas?: Record<string, unknown> };
}

export interface BodyRoute {
  method: 'post' | 'put' | 'patch';
  /** OpenAPI form: /api/v1/contracts/{id}/services/{serviceId}. */
  path: string;
  params: string[];
  schema: JsonSchema;
}

const WRITE_METHODS = ['post', 'put', 'patch'] as const;

/**
 * Every admin route with a JSON body, read from the OpenAPI document: the same registry that
 * validates requests, so a route added later is fuzzed without being listed anywhere.
 */
export function jsonBodyRoutes(doc: OpenApiDoc, prefix = '/api/v1/'): BodyRoute[] {
  const out: BodyRoute[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith(prefix) || !item) continue;
    for (const method of WRITE_METHODS) {
      const op = item[method] as { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } } | undefined;
      const schema = op?.requestBody?.content?.['application/json']?.schema;
      if (!schema) continue;
      out.push({ method, path, params: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? ''), schema });
    }
  }
  return out;
}

/**
 * The OpenAPI document of the whole app, at test-collection time (before any database exists),
 * so each route can be its own test: routers register their docs when built, and building them
 * runs no query (the knex instance below is never connected).
 */
export function documentWithoutDatabase(): OpenApiDoc {
  const config = parseEnv({ ...process.env, LOG_LEVEL: 'silent' });
  const db = knex({ client: 'pg' });
  try {
    createApp({ config, db, logger: createLogger('silent'), services: {} });
  } finally {
    void db.destroy();
  }
  return openApiDocument() as OpenApiDoc;
}

export interface BodyHints {
  /** A generator for a property by its name (ids that exist, codes that exist), mixed with the schema's own. */
  byKey?: (key: string) => fc.Arbitrary<unknown> | undefined;
}

const DATE = fc.date({ min: new Date('1999-12-25T00:00:00Z'), max: new Date('2031-01-10T00:00:00Z'), noInvalidDate: true });
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Kiritimati'];

/** Strings that look right for a format or a well-known property name (dates, instants, zones, times). */
function plausibleString(s: JsonSchema, key: string | undefined): fc.Arbitrary<string> | undefined {
  const format = s.format;
  if (format === 'date' || /(^|[a-z])(Date|date)$|^(validFrom|validTo|asOf|from|until)$/.test(key ?? ''))
    return fc.oneof({ weight: 5, arbitrary: DATE.map((d) => d.toISOString().slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom('2026-02-29', '2028-02-29', '2026-12-31') });
  if (format === 'date-time' || /At$|^at$/.test(key ?? '')) return DATE.map((d) => d.toISOString());
  if (/^(timezone|tz)$/i.test(key ?? '')) return fc.constantFrom(...ZONES);
  if (/^(start|end)(Time)?$|time$/i.test(key ?? '')) return fc.constantFrom('08:00', '17:30', '00:00', '23:59', '24:00');
  return undefined;
}

/** Mostly strings that fit the schema, now and then a nasty one (NUL, lone surrogate, 'infinity', SQL): a schema-valid body with one bad string. */
function stringArb(s: JsonSchema, key: string | undefined): fc.Arbitrary<string> {
  return fc.oneof({ weight: 40, arbitrary: fittingString(s, key) }, { weight: 1, arbitrary: fc.constantFrom(...NASTY_STRINGS) });
}

function fittingString(s: JsonSchema, key: string | undefined): fc.Arbitrary<string> {
  const plausible = plausibleString(s, key);
  if (plausible) return plausible;
  if (s.pattern !== undefined) {
    try {
      return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 10_000));
    } catch {
      // A pattern fast-check cannot invert: fall through to plain strings.
    }
  }
  const min = s.minLength ?? 0;
  const max = Math.max(min, Math.min(s.maxLength ?? 24, 24));
  return fc.string({ minLength: min, maxLength: max });
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : Number.EPSILON) : undefined);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON) : undefined);
  if (integer) {
    // fc.integer is 32-bit; wide bounds are clipped to a range where most values are plausible anyway.
    const min = Math.max(lo ?? -1_000, -2_147_483_648);
    const max = Math.min(hi ?? 1_000_000, 2_147_483_647);
    const edges = [lo, hi].filter((v): v is number => v !== undefined && Number.isSafeInteger(v));
    return min <= max ? fc.oneof({ weight: 5, arbitrary: fc.integer({ min, max }) }, ...(edges.length ? [{ weight: 1, arbitrary: fc.constantFrom(...edges) }] : [])) : fc.constant(min);
  }
  const min = lo ?? -1e6;
  const max = hi ?? 1e6;
  return fc.oneof(
    { weight: 3, arbitrary: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((v) => Math.round(v * 100) / 100).filter((v) => v >= min && v <= max) },
    { weight: 2, arbitrary: fc.integer({ min: Math.ceil(Math.max(min, -1e6)), max: Math.floor(Math.min(max, 1e6)) }) },
  );
}

/**
 * Values that (mostly) satisfy an OpenAPI/JSON schema: the starting point of mutation fuzzing, so
 * mutated bodies get past the first field and reach the handler and the database. Refinements the
 * schema cannot express (cross-field checks) are left to chance: a 400 is an answer too.
 */
export function bodyArbitrary(schema: JsonSchema, doc: OpenApiDoc, hints: BodyHints = {}): fc.Arbitrary<unknown> {
  const components = doc.components?.schemas ?? {};
  const build = (s: JsonSchema, key: string | undefined, depth: number): fc.Arbitrary<unknown> => {
    if (depth > 8) return fc.constant(null);
    if (s.$ref !== undefined) {
      const name = s.$ref.replace(/^#\/components\/schemas\//, '');
      const target = components[name] as JsonSchema | undefined;
      return target ? build(target, key, depth + 1) : fc.jsonValue({ maxDepth: 2 });
    }
    const own = ownArb(s, key, depth);
    const hinted = key !== undefined ? hints.byKey?.(key) : undefined;
    const example = s.example !== undefined ? fc.constant(s.example) : undefined;
    return fc.oneof(
      { weight: 6, arbitrary: own },
      ...(hinted ? [{ weight: 6, arbitrary: hinted }] : []),
      ...(example ? [{ weight: 1, arbitrary: example }] : []),
    );
  };
  const ownArb = (s: JsonSchema, key: string | undefined, depth: number): fc.Arbitrary<unknown> => {
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum !== undefined && s.enum.length > 0) return fc.constantFrom(...s.enum);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((a) => build(a, key, depth + 1)));
    if (s.allOf && s.allOf.length > 0) return build(Object.assign({}, ...s.allOf) as JsonSchema, key, depth + 1);
    const types = Array.isArray(s.type) ? s.type : s.type !== undefined ? [s.type] : [];
    if (types.length > 1) return fc.oneof(...types.map((t) => build({ ...s, type: t }, key, depth + 1)));
    switch (types[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return numberArb(s, true);
      case 'number':
        return numberArb(s, false);
      case 'string':
        return stringArb(s, key);
      case 'array': {
        if (s.prefixItems) return fc.tuple(...s.prefixItems.map((p) => build(p, key, depth + 1)));
        const minLength = Math.min(s.minItems ?? 0, 10);
        const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 4, 4));
        return fc.array(build(s.items ?? {}, key, depth + 1), { minLength, maxLength });
      }
      case 'object': {
        const props = s.properties ?? {};
        const names = Object.keys(props);
        if (names.length === 0) {
          const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : {};
          return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), build(extra, undefined, depth + 1), { maxKeys: 3 });
        }
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const name of names) model[name] = build(props[name] ?? {}, name, depth + 1);
        return fc.record(model, { requiredKeys: (s.required ?? []).filter((r) => names.includes(r)) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  };
  return build(schema, undefined, 0);
}
