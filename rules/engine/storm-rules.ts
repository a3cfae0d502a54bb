import { z } from 'zod';
import { compileGetter, type Getter } from './compile';
import { priorityInput, RESERVED_CONTRACT_WORDS } from './events';
import { isFactName, resolveSpec } from './facts';
import { joinPointer } from './json-text';
import { compileOperator, isTextOperator } from './operators';
import type { ConditionNode, SharedConditionDef } from './validate';
import type { DecisionFacts, FactName, Priority, RefCatalog } from './types';

/**
 * Storm rules in a rules file (R-STORM-1, issue 18): `inhibit` and `group`, beside `rules`.
 * Their matchers are conditions exactly like a rule's (same facts, operators, shared
 * conditions), validated by validate.ts with the same file › rule › JSON pointer errors; their
 * fields (`equal`, `by`) are fact paths such as `alert.site`, `company.code`, `alert.labels.room`.
 *
 *   "inhibit": [{ "name", "source": <conditions>, "target": <conditions>, "equal": [fields],
 *                 "whenSourceResolves"?: "open" | "stay", "enabled"?: boolean, "description"? }]
 *   "group":   [{ "name", "match": <conditions>, "by": [fields], "moreThan": N, "withinSeconds": M,
 *                 "title"?, "contract"?, "service"?, "sla"?, "priority"?, "queue"?, "enabled"?, "description"? }]
 *
 * The decisions themselves are core/storms'; this module only says which alerts match and with
 * which values.
 *
 * One file over 300 lines on purpose: both storm kinds share the matcher compilation and field
 * resolution, and their validation errors follow one format.
 */

const fieldPath = z.string().trim().min(3).max(200);
const ref = z.string().trim().min(1).max(200);

export const inhibitEntrySchema = z.strictObject({
  name: z.string({ error: 'every inhibit rule needs a "name" (text)' }).trim().min(1).max(200),
  description: z.string().optional(),
  /** @defaultValue true */
  enabled: z.boolean().optional(),
  source: z.unknown().refine((v) => v !== undefined, 'an inhibit rule needs "source" conditions'),
  target: z.unknown().refine((v) => v !== undefined, 'an inhibit rule needs "target" conditions'),
  equal: z.array(fieldPath).min(1, '"equal" needs at least one field (e.g. "alert.site")').max(10),
  /** @defaultValue "open" */
  whenSourceResolves: z.enum(['open', 'stay']).optional(),
});

export const groupEntrySchema = z.strictObject({
  name: z.string({ error: 'every group rule needs a "name" (text)' }).trim().min(1).max(200),
  description: z.string().optional(),
  /** @defaultValue true */
  enabled: z.boolean().optional(),
  match: z.unknown().refine((v) => v !== undefined, 'a group rule needs "match" conditions'),
  by: z.array(fieldPath).min(1, '"by" needs at least one field (e.g. "alert.site")').max(10),
  moreThan: z.number().int().min(1).max(100_000),
  withinSeconds: z.number().int().min(1).max(86_400),
  /** `{count}` and `{<field of by>}` are replaced. @defaultValue "{count} alerts: <rule name>" */
  title: z.string().trim().min(1).max(200).optional(),
  /** "default" (the company's default service-desk contract), "none", or a contract's code or name. @defaultValue "default" */
  contract: ref.optional(),
  service: ref.optional(),
  sla: ref.optional(),
  priority: priorityInput.optional(),
  queue: z.string().trim().min(1).max(100).optional(),
});

/** A field path of `equal` / `by`, parsed. */
export interface StormField {
  path: string;
  fact: FactName;
  segments: readonly string[];
}

export interface InhibitRuleDef {
  kind: 'inhibit';
  name: string;
  file: string;
  pointer: string;
  enabled: boolean;
  source: ConditionNode;
  target: ConditionNode;
  equal: StormField[];
  whenSourceResolves: 'open' | 'stay';
}

export interface GroupRuleDef {
  kind: 'group';
  name: string;
  file: string;
  pointer: string;
  enabled: boolean;
  match: ConditionNode;
  by: StormField[];
  moreThan: number;
  withinSeconds: number;
  title: string;
  contract: string;
  service: string | null;
  sla: string | null;
  priority: Priority | null;
  queue: string | null;
}

export type StormRuleDef = InhibitRuleDef | GroupRuleDef;

/** What validate.ts lends this module: its condition validator and its issue collector. */
export interface StormValidationCtx {
  file: string;
  condition(raw: unknown, ptr: string, rule: string): ConditionNode | null;
  error(rule: string | null, ptr: string, message: string): void;
  zod(rule: string | null, ptr: string, error: z.ZodError): void;
}

/** `alert.site` → fact `alert`, segments `['site']`; a string says why it is no field. */
export function parseStormField(path: string): StormField | string {
  const [fact, ...segments] = path.split('.');
  if (!isFactName(fact)) return `unknown fact "${fact ?? ''}" in field "${path}"; write a fact and its property path, e.g. "alert.site", "company.code", "alert.labels.room"`;
  if (segments.length === 0 || segments.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) {
    return `"${path}" must be a fact and a plain property path, e.g. "alert.site"`;
  }
  const spec = resolveSpec(fact, segments);
  if (typeof spec === 'string') return spec;
  if (spec.spec.kind === 'object' || spec.spec.kind === 'map') return `"${path}" is an object; name one of its properties`;
  return { path, fact, segments };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validates a file's `inhibit` and `group` arrays; `names` holds the storm rule names met so far (all files). */
export function validateStormEntries(content: Record<string, unknown>, ctx: StormValidationCtx, names: Map<string, string>): StormRuleDef[] {
  const out: StormRuleDef[] = [];
  for (const kind of ['inhibit', 'group'] as const) {
    const list = content[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      ctx.error(null, `/${kind}`, `"${kind}" must be an array of ${kind} rules`);
      continue;
    }
    list.forEach((raw, i) => {
      const base = `/${kind}/${i}`;
      const label = isObject(raw) && typeof raw.name === 'string' && raw.name.trim() !== '' ? raw.name.trim() : `${kind}[${i}]`;
      const schema = kind === 'inhibit' ? inhibitEntrySchema : groupEntrySchema;
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        ctx.zod(label, base, parsed.error);
        return;
      }
      const seen = names.get(label);
      if (seen) {
        ctx.error(label, joinPointer(base, 'name'), `storm rule name "${label}" is already used in ${seen}`);
        return;
      }
      names.set(label, `${ctx.file} ${base}`);
      const fields = (key: 'equal' | 'by', paths: string[]): StormField[] | null => {
        const parsedFields: StormField[] = [];
        let ok = true;
        paths.forEach((p, j) => {
          const f = parseStormField(p);
          if (typeof f === 'string') {
            ctx.error(label, joinPointer(base, key, j), f);
            ok = false;
          } else parsedFields.push(f);
        });
        return ok ? parsedFields : null;
      };
      const enabled = parsed.data.enabled ?? true;
      if (kind === 'inhibit') {
        const d = parsed.data as z.output<typeof inhibitEntrySchema>;
        const source = ctx.condition(d.source, joinPointer(base, 'source'), label);
        const target = ctx.condition(d.target, joinPointer(base, 'target'), label);
        const equal = fields('equal', d.equal);
        if (!source || !target || !equal) return;
        out.push({ kind, name: label, file: ctx.file, pointer: base, enabled, source, target, equal, whenSourceResolves: d.whenSourceResolves ?? 'open' });
      } else {
        const d = parsed.data as z.output<typeof groupEntrySchema>;
        const match = ctx.condition(d.match, joinPointer(base, 'match'), label);
        const by = fields('by', d.by);
        if (!match || !by) return;
        out.push({
          kind,
          name: label,
          file: ctx.file,
          pointer: base,
          enabled,
          match,
          by,
          moreThan: d.moreThan,
          withinSeconds: d.withinSeconds,
          title: d.title ?? `{count} alerts: ${label}`,
          contract: d.contract ?? 'default',
          service: d.service ?? null,
          sla: d.sla ?? null,
          priority: d.priority ?? null,
          queue: d.queue ?? null,
        });
      }
    });
  }
  return out;
}

/** Group rules name contracts, services and SLAs like `assign` does: checked against the database. */
export function checkStormCatalog(
  defs: readonly StormRuleDef[],
  catalog: RefCatalog | null,
  add: (severity: 'error' | 'warning', file: string, rule: string, ptr: string, message: string) => void,
): void {
  for (const d of defs) {
    if (d.kind !== 'group') continue;
    const checks = [
      { key: 'contract', value: d.contract, set: 'contracts', what: 'contract' },
      { key: 'service', value: d.service, set: 'services', what: 'service' },
      { key: 'sla', value: d.sla, set: 'slas', what: 'SLA' },
    ] as const;
    for (const { key, value, set, what } of checks) {
      if (value === null) continue;
      if (key === 'contract' && (RESERVED_CONTRACT_WORDS as readonly string[]).includes(value)) continue;
      const at = joinPointer(d.pointer, key);
      if (catalog === null) add('warning', d.file, d.name, at, `could not check that ${what} "${value}" exists: the database is unreachable`);
      else if (!catalog[set].has(value)) add('error', d.file, d.name, at, `unknown ${what} "${value}": no ${what} has this name or code`);
    }
  }
}

// ---- evaluation ----

export type Matcher = (facts: DecisionFacts) => boolean;

const lower = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

/** A condition tree as a predicate over the facts (json-rules-engine's semantics, as compile.ts). */
export function compileMatcher(node: ConditionNode, shared: ReadonlyMap<string, SharedConditionDef>): Matcher {
  switch (node.kind) {
    case 'all': {
      const parts = node.children.map((c) => compileMatcher(c, shared));
      return (f) => parts.every((p) => p(f));
    }
    case 'any': {
      const parts = node.children.map((c) => compileMatcher(c, shared));
      return (f) => parts.length === 0 || parts.some((p) => p(f));
    }
    case 'not': {
      const inner = compileMatcher(node.child, shared);
      return (f) => !inner(f);
    }
    case 'ref': {
      const def = shared.get(node.name);
      if (!def) throw new Error(`shared condition "${node.name}" is not defined (validation should have refused this)`);
      return compileMatcher(def.condition, shared);
    }
    case 'leaf': {
      const get = compileGetter(node.fact, node.segments);
      const test = compileOperator(node.op, node.value);
      return isTextOperator(node.op) ? (f) => test(lower(get(f))) : (f) => test(get(f));
    }
  }
}

export interface CompiledInhibitRule {
  def: InhibitRuleDef;
  source: Matcher;
  target: Matcher;
  equal: Getter[];
}

export interface CompiledGroupRule {
  def: GroupRuleDef;
  match: Matcher;
  by: Getter[];
}

/** The enabled storm rules of a ruleset, compiled. */
export interface StormRules {
  inhibit: CompiledInhibitRule[];
  group: CompiledGroupRule[];
}

export const NO_STORM_RULES: StormRules = Object.freeze({ inhibit: [], group: [] }) as StormRules;

export function compileStormRules(defs: readonly StormRuleDef[], shared: ReadonlyMap<string, SharedConditionDef>): StormRules {
  const inhibit: CompiledInhibitRule[] = [];
  const group: CompiledGroupRule[] = [];
  for (const d of defs) {
    if (!d.enabled) continue;
    if (d.kind === 'inhibit') {
      inhibit.push({ def: d, source: compileMatcher(d.source, shared), target: compileMatcher(d.target, shared), equal: d.equal.map((f) => compileGetter(f.fact, f.segments)) });
    } else {
      group.push({ def: d, match: compileMatcher(d.match, shared), by: d.by.map((f) => compileGetter(f.fact, f.segments)) });
    }
  }
  return { inhibit, group };
}

/** The values of a rule's fields in the facts, by field path (for titles and traces). */
export function fieldValues(fields: readonly StormField[], getters: readonly Getter[], facts: DecisionFacts): { values: unknown[]; byPath: Record<string, unknown> } {
  const values = getters.map((g) => {
    const v = g(facts);
    return v === undefined ? null : v;
  });
  const byPath: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    byPath[f.path] = values[i];
  });
  return { values, byPath };
}

const compiledCache = new WeakMap<object, StormRules>();

/** The storm rules of a compiled ruleset, compiled once per ruleset (the ruleset is never mutated). */
export function stormRulesOf(ruleset: { readonly source: { storms?: StormRuleDef[]; conditions: ReadonlyMap<string, SharedConditionDef> } }): StormRules {
  const known = compiledCache.get(ruleset);
  if (known) return known;
  const defs = ruleset.source.storms ?? [];
  const compiled = defs.length === 0 ? NO_STORM_RULES : compileStormRules(defs, ruleset.source.conditions);
  compiledCache.set(ruleset, compiled);
  return compiled;
}
