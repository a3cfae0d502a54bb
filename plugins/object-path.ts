import { z } from 'zod';

/**
 * Plain dot paths (`labels.instance`, `device.id`, `alerts.0.fingerprint`) into a payload. Paths are
 * data, never code (the lesson of R-RUL-5): no brackets, wildcards or expressions, and only own
 * properties are followed, so `__proto__` or `constructor` lead nowhere.
 */
const SEGMENT = '[A-Za-z0-9_$@-]+';
export const PLAIN_PATH = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT}){0,15}$`);

export const plainPathSchema = z
  .string()
  .max(256)
  .regex(PLAIN_PATH, 'must be a plain dot path such as labels.customer (letters, digits, _ $ @ - separated by dots)');

export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/** JSON with sorted keys, so an object value yields the same text whatever the sender's key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
