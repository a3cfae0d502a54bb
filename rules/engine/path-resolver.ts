/**
 * R-RUL-5: rule paths are data, never code. json-rules-engine resolves `path` with jsonpath-plus
 * by default, whose filter expressions (`[?(...)]`) have executed code from a crafted path. The
 * hub accepts only plain property paths (`$.labels.env`) and resolves them itself, here; every
 * json-rules-engine Engine the hub builds gets `pathResolver` in its options, so no jsonpath-plus
 * code is reachable from a rules file.
 */

/** Property names a path may never name, even though they are made of plain characters. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_PATH_SEGMENTS = 8;
export const MAX_PATH_LENGTH = 256;

export type ParsedPath = { ok: true; segments: readonly string[] } | { ok: false; message: string };

/** Parses `$.a.b.c` into its segments, or says exactly why the path is refused. */
export function parsePath(path: unknown): ParsedPath {
  if (typeof path !== 'string') return { ok: false, message: 'path must be a string like "$.severity"' };
  if (path.length > MAX_PATH_LENGTH) return { ok: false, message: `path is longer than ${MAX_PATH_LENGTH} characters` };
  if (path.includes('..')) return { ok: false, message: 'recursive descent ".." is not allowed: paths are plain property paths (R-RUL-5)' };
  for (const c of ['(', ')', '?', '@', '[', ']', '*', '`', "'", '"', '\\']) {
    if (path.includes(c)) {
      return { ok: false, message: `"${c}" is not allowed: paths are plain property paths like "$.labels.env", never filters or expressions (R-RUL-5)` };
    }
  }
  if (!path.startsWith('$.')) return { ok: false, message: 'path must start with "$." (e.g. "$.severity"); leave it out to compare the whole fact' };
  const segments = path.slice(2).split('.');
  if (segments.length > MAX_PATH_SEGMENTS) return { ok: false, message: `path has more than ${MAX_PATH_SEGMENTS} properties` };
  for (const segment of segments) {
    if (FORBIDDEN_SEGMENTS.has(segment)) return { ok: false, message: `"${segment}" may not appear in a path (R-RUL-5)` };
    if (!SEGMENT.test(segment)) {
      return { ok: false, message: `"${segment}" is not a plain property name (letters, digits, "_" and "-", at most 64)` };
    }
  }
  return { ok: true, segments };
}

/** Walks own properties only: a path can never reach a prototype, a getter of a class, or a function. */
export function walkSegments(value: unknown, segments: readonly string[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

// Paths come from a bounded set (the rules files); the cap only guards a caller that feeds arbitrary strings.
const cache = new Map<string, readonly string[] | null>();
const CACHE_MAX = 10_000;

/**
 * The resolver handed to json-rules-engine (EngineOptions.pathResolver). A path that is not a
 * plain property path resolves to undefined — it is never evaluated, whatever it contains.
 */
export function pathResolver(value: object, path: string): unknown {
  let segments = cache.get(path);
  if (segments === undefined) {
    const parsed = parsePath(path);
    segments = parsed.ok ? parsed.segments : null;
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(path, segments);
  }
  return segments === null ? undefined : walkSegments(value, segments);
}
