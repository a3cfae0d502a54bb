/**
 * The identity of a storm: the values of an inhibit rule's `equal` fields, or of a group rule's
 * `by` fields, as one text (canonical JSON of the values in the rule's field order), so that the
 * database can index and compare it. Missing values are null: like Alertmanager, a field missing
 * on both sides counts as equal.
 */
export function stormKey(values: readonly unknown[]): string {
  return JSON.stringify(values.map((v) => (v === undefined ? null : v)));
}

/**
 * A group parent's title from the rule's template: `{count}` is the number of children,
 * `{<field>}` the value of one of the rule's `by` fields (e.g. `{alert.site}`); unknown
 * placeholders stay as written, a missing value reads "unknown".
 */
export function groupTitle(template: string, values: Readonly<Record<string, unknown>>, count: number | null): string {
  return template
    .replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => {
      if (name === 'count') return count === null ? whole : String(count);
      if (!Object.hasOwn(values, name)) return whole;
      const v = values[name];
      return v === null || v === undefined ? 'unknown' : String(v);
    })
    .slice(0, 500);
}

/** The dedup key of a group's parent ticket: one open parent per group, by the tickets' unique open dedup key. */
export function groupParentDedupKey(rule: string, groupKey: string): string {
  return `storm-group:${rule}:${groupKey}`;
}
