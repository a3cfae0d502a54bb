/**
 * Whether a parsed JSON value can be stored as it is (R-ALR-5 "nothing crashes"). JSON allows
 * `\u0000` and unpaired UTF-16 surrogates (`\ud800`) as escapes, and JSON.parse reads any nesting
 * depth; but Postgres text and jsonb refuse U+0000, jsonb refuses an unpaired surrogate (and the
 * pg driver silently turns one into U+FFFD in a text column), and JSON.stringify recurses, so a
 * payload nested 10,000 levels deep overflows the stack when it is stored. Each of these was a 500
 * found by test/faults/fuzz-*.test.ts; checking once at the boundary turns them into a 400 that
 * names the field.
 */

/**
 * Nesting cap of request bodies and webhook payloads. Real payloads are under 10 levels; rules
 * files have their own cap of 64 (rules/engine/validate.ts) and arrive wrapped a few levels deep.
 */
export const MAX_JSON_DEPTH = 100;

export interface UnstorableJson {
  /** Where the problem is: keys and array indexes from the root (empty = the value itself). */
  path: (string | number)[];
  message: string;
}

// Without the u flag a regex sees UTF-16 code units, which is what a lone surrogate is.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(s: string, what: string): string | undefined {
  if (s.includes('\u0000')) return `${what} contains the NUL character (\\u0000), which cannot be stored`;
  if (LONE_SURROGATE.test(s)) return `${what} contains an unpaired UTF-16 surrogate (such as \\ud800), which is not text and cannot be stored`;
  return undefined;
}

/**
 * The first thing in `value` that cannot be stored (in document order), or undefined. Iterative,
 * so the input it exists to refuse cannot overflow the stack here either.
 */
export function findUnstorableJson(value: unknown, maxDepth = MAX_JSON_DEPTH): UnstorableJson | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, path } = item;
    if (typeof v === 'string') {
      const problem = textProblem(v, 'text');
      if (problem) return { path, message: problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= maxDepth) return { path, message: `is nested more than ${maxDepth} levels deep` };
    const children: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i): [number, unknown] => [i, x]) : Object.entries(v);
    for (const [key] of children) {
      const problem = typeof key === 'string' ? textProblem(key, 'a property name') : undefined;
      if (problem) return { path, message: problem };
    }
    // Reversed onto the stack so the first problem in document order is the one reported.
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push({ value: child[1], path: [...path, child[0]] });
    }
  }
  return undefined;
}
