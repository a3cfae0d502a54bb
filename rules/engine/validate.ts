import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { parseRulesFileWindows } from '../../core/maintenance/window-match';
import { EVENT_TYPES, RESERVED_CONTRACT_WORDS, effectOf, eventParamsSchemas, type Effect, type EventType } from './events';
import { isFactName, resolveSpec, FACT_NAMES } from './facts';
import { canonicalJson, joinPointer, locatePointer, locateValues, pointer, positionAt, sha256 } from './json-text';
import { checkOperatorValue, parseOperator, type ParsedOperator } from './operators';
import { parsePath } from './path-resolver';
import { checkStormCatalog, validateStormEntries, type StormRuleDef } from './storm-rules';
import type { FactName, RefCatalog, RuleEvent, RuleIssue } from './types';

/**
 * R-RUL-2: a ruleset is validated as a whole before it is used — schema (zod), known facts,
 * properties and operators, values that can match, known contract/service/SLA references, no
 * cycles among shared conditions, size caps. Every finding names the file, the rule and the JSON
 * pointer (and the line, when the text is known). Pure: reading files and the database happens
 * elsewhere and is passed in.
 *
 * One piece (about 650 lines): one pass over a ruleset that must report every finding with its
 * file, rule and JSON path; the checks share that path bookkeeping and the fact catalogue.
 */

export interface RulesLimits {
  /** @defaultValue 1 MiB */
  maxFileBytes: number;
  /** @defaultValue 8 MiB */
  maxTotalBytes: number;
  /** @defaultValue 200 */
  maxFiles: number;
  /** Rules across all files. @defaultValue 5000 */
  maxRules: number;
  /** Shared conditions across all files. @defaultValue 1000 */
  maxSharedConditions: number;
  /** Nesting of all/any/not, counted through shared conditions. @defaultValue 16 */
  maxConditionDepth: number;
  /** Condition nodes of one rule, shared conditions expanded. @defaultValue 500 */
  maxConditionsPerRule: number;
  /** Nesting of the JSON text itself. @defaultValue 64 */
  maxJsonDepth: number;
  /** Values of one in/notIn/someValue/everyValue. @defaultValue 1000 */
  maxArrayValues: number;
  /** Any string in a file. @defaultValue 1000 */
  maxStringLength: number;
}

export const RULES_LIMITS: Readonly<RulesLimits> = {
  maxFileBytes: 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
  maxFiles: 200,
  maxRules: 5000,
  maxSharedConditions: 1000,
  maxConditionDepth: 16,
  maxConditionsPerRule: 500,
  maxJsonDepth: 64,
  maxArrayValues: 1000,
  maxStringLength: 1000,
};

/** A file as read from disk (`text`) or from a stored ruleset (`content`). */
export interface RulesFileInput {
  name: string;
  text?: string;
  content?: unknown;
}

// ---- the validated form ----

interface NodeBase {
  /** Pointer into `file`. */
  pointer: string;
  file: string;
}
export type ConditionNode =
  | (NodeBase & { kind: 'all' | 'any'; children: ConditionNode[] })
  | (NodeBase & { kind: 'not'; child: ConditionNode })
  | (NodeBase & { kind: 'ref'; name: string })
  | (NodeBase & {
      kind: 'leaf';
      fact: FactName;
      path?: string;
      segments: readonly string[];
      operator: string;
      op: ParsedOperator;
      value: unknown;
    });

export interface RuleDef {
  name: string;
  priority: number;
  file: string;
  /** `/rules/<i>` in `file`. */
  pointer: string;
  /** Position across all files (file name order, then order in the file). */
  order: number;
  conditions: ConditionNode;
  /** The event exactly as written (what json-rules-engine emits). */
  event: RuleEvent;
  effect: Effect;
}

export interface SharedConditionDef {
  name: string;
  file: string;
  pointer: string;
  condition: ConditionNode;
}

export interface RulesFileContent {
  rules: unknown[];
  conditions?: Record<string, unknown>;
  maintenanceWindows?: Array<Record<string, unknown>>;
  /** Storm rules (R-STORM-1): see storm-rules.ts. */
  inhibit?: unknown[];
  group?: unknown[];
  description?: string;
}

export interface ValidatedRuleset {
  /** The files as parsed: what is stored and what the reference Engine is built from. */
  files: Array<{ name: string; content: RulesFileContent }>;
  rules: RuleDef[];
  conditions: Map<string, SharedConditionDef>;
  /** Passed through for core/maintenance, which owns their meaning. */
  maintenanceWindows: Array<{ file: string; window: Record<string, unknown> }>;
  /** Inhibit and group rules of all files, in file order (disabled ones included). */
  storms: StormRuleDef[];
}

export interface ValidationResult {
  ok: boolean;
  errors: RuleIssue[];
  warnings: RuleIssue[];
  /** Present when ok. */
  ruleset?: ValidatedRuleset;
  /** Hash of the canonical content (or of the raw texts when a file does not parse). */
  contentHash: string;
}

export interface ValidateOptions {
  /**
   * Names and codes that exist. Undefined: references are not checked (content that already went
   * live once); null: the database is unreachable, so unknown references are warnings.
   */
  catalog?: RefCatalog | null;
  limits?: Partial<RulesLimits>;
}

/**
 * Where a JSON text stops being JSON. V8 names a position for some syntax errors only ("Unexpected
 * token '}', … is not valid JSON" has none), so the offset comes from jsonc-parser's scanner (strict:
 * no comments, no trailing commas), falling back to the position in V8's message.
 */
function syntaxErrorOffset(text: string, message: string): number | undefined {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) return first.offset;
  const at = /position (\d+)/.exec(message);
  return at?.[1] ? Number(at[1]) : undefined;
}

export const HASH_FORMAT = 'hub-rules/v1';

/** The content hash of parsed files: canonical JSON, so formatting alone never makes a new version. */
export function contentHashOf(files: ReadonlyArray<{ name: string; content: unknown }>): string {
  return sha256(`${HASH_FORMAT}\n${canonicalJson({ files: files.map((f) => ({ name: f.name, content: f.content })) })}`);
}

// ---- zod shapes of a file and of a rule's shell ----

const fileSchema = z.strictObject({
  description: z.string().optional(),
  rules: z.array(z.unknown(), { error: 'a rules file needs "rules": [ ... ] (an array of rules)' }),
  conditions: z.record(z.string(), z.unknown(), { error: '"conditions" must be an object of named shared conditions' }).optional(),
  maintenanceWindows: z.array(z.record(z.string(), z.unknown()), { error: '"maintenanceWindows" must be an array of objects' }).optional(),
  inhibit: z.array(z.unknown(), { error: '"inhibit" must be an array of inhibit rules' }).optional(),
  group: z.array(z.unknown(), { error: '"group" must be an array of group rules' }).optional(),
});

const ruleShellSchema = z.strictObject({
  name: z.string({ error: 'every rule needs a "name" (text)' }).trim().min(1, 'every rule needs a "name"').max(200),
  priority: z.number().int().min(1).max(100_000).optional(),
  description: z.string().optional(),
  conditions: z.unknown().refine((v) => v !== undefined, 'every rule needs "conditions"'),
  event: z.unknown().refine((v) => v !== undefined, 'every rule needs an "event"'),
});

const SHARED_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

class Collector {
  readonly errors: RuleIssue[] = [];
  readonly warnings: RuleIssue[] = [];
  private texts = new Map<string, { text: string; offsets?: Map<string, number> }>();

  setText(file: string, text: string): void {
    this.texts.set(file, { text });
  }

  add(severity: RuleIssue['severity'], file: string, rule: string | null, ptr: string, message: string): void {
    const issue: RuleIssue = { severity, file, rule, pointer: ptr, message };
    const known = this.texts.get(file);
    if (known) {
      try {
        known.offsets ??= locateValues(known.text);
        const pos = locatePointer(known.text, known.offsets, ptr);
        if (pos) Object.assign(issue, pos);
      } catch {
        // A position is a convenience; the pointer is always there.
      }
    }
    (severity === 'error' ? this.errors : this.warnings).push(issue);
  }

  zod(file: string, rule: string | null, base: string, error: z.ZodError): void {
    for (const issue of error.issues) {
      const at = joinPointer(base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.add('error', file, rule, joinPointer(at, key), `unknown property "${key}"`);
      } else {
        this.add('error', file, rule, at, issue.message);
      }
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Iterative (a hostile file must not overflow the stack): depth, string lengths, NUL characters. */
function checkJsonShape(value: unknown, limits: RulesLimits): { ptr: string; message: string } | null {
  const stack: Array<{ v: unknown; ptr: string; depth: number }> = [{ v: value, ptr: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    const { v, ptr, depth } = item;
    if (depth > limits.maxJsonDepth) return { ptr, message: `nested deeper than ${limits.maxJsonDepth} levels` };
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) return { ptr, message: `text longer than ${limits.maxStringLength} characters` };
      if (v.includes('\u0000')) return { ptr, message: 'text contains a NUL character' };
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, ptr: joinPointer(ptr, i), depth: depth + 1 }));
    } else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k.length > limits.maxStringLength || k.includes('\u0000')) return { ptr, message: 'a property name is too long or contains NUL' };
        stack.push({ v: x, ptr: joinPointer(ptr, k), depth: depth + 1 });
      }
    }
  }
  return null;
}

interface RuleCtx {
  c: Collector;
  file: string;
  rule: string | null;
  limits: RulesLimits;
  /** Shared-condition references met, for the cross-file check. */
  refs: Array<{ name: string; file: string; rule: string | null; pointer: string; from: string | null }>;
  /** The shared condition being validated (null inside a rule). */
  within: string | null;
  nodes: number;
}

const BOOLEAN_KEYS = ['all', 'any', 'not'] as const;
const LEAF_KEYS = new Set(['fact', 'operator', 'value', 'path', 'name', 'priority']);
const GROUP_KEYS = new Set(['all', 'any', 'not', 'name', 'priority']);
const REF_KEYS = new Set(['condition', 'name', 'priority']);

function validateCondition(raw: unknown, ctx: RuleCtx, ptr: string, depth: number, top: boolean): ConditionNode | null {
  const { c, file, rule, limits } = ctx;
  const err = (at: string, message: string): null => {
    c.add('error', file, rule, at, message);
    return null;
  };
  if (depth > limits.maxConditionDepth) return err(ptr, `conditions nested deeper than ${limits.maxConditionDepth} levels`);
  if (++ctx.nodes > limits.maxConditionsPerRule) {
    if (ctx.nodes === limits.maxConditionsPerRule + 1) err(ptr, `more than ${limits.maxConditionsPerRule} conditions`);
    return null;
  }
  if (!isObject(raw)) return err(ptr, `a condition must be an object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);

  const kinds = [...BOOLEAN_KEYS.filter((k) => Object.hasOwn(raw, k)), ...(Object.hasOwn(raw, 'condition') ? ['condition'] : []), ...(Object.hasOwn(raw, 'fact') ? ['fact'] : [])];
  if (kinds.length === 0) return err(ptr, 'a condition needs one of "all", "any", "not", "condition" or "fact" (with "operator" and "value")');
  if (kinds.length > 1) return err(ptr, `a condition has exactly one of "all", "any", "not", "condition", "fact"; this one has ${kinds.map((k) => `"${k}"`).join(' and ')}`);
  const kind = kinds[0];
  if (top && kind === 'fact') {
    return err(ptr, 'the top of "conditions" must be "all", "any", "not" or a shared "condition" (json-rules-engine requires it): wrap it as { "all": [ ... ] }');
  }

  const allowed = kind === 'fact' ? LEAF_KEYS : kind === 'condition' ? REF_KEYS : GROUP_KEYS;
  let ok = true;
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) {
      ok = false;
      err(joinPointer(ptr, key), key === 'params' ? 'condition "params" are not supported: facts are values, not functions' : `unknown property "${key}" in a condition`);
    }
  }
  if (Object.hasOwn(raw, 'priority')) {
    const p = raw.priority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 1_000_000) ok = err(joinPointer(ptr, 'priority'), 'condition "priority" must be a whole number ≥ 1') ?? false;
  }
  if (Object.hasOwn(raw, 'name') && (typeof raw.name !== 'string' || raw.name.length === 0)) ok = err(joinPointer(ptr, 'name'), 'condition "name" must be text') ?? false;

  if (kind === 'all' || kind === 'any') {
    const list = raw[kind];
    if (!Array.isArray(list)) return err(joinPointer(ptr, kind), `"${kind}" must be an array of conditions`);
    if (kind === 'any' && list.length === 0) {
      return err(joinPointer(ptr, kind), 'an empty "any" is always true in json-rules-engine, which is never what is meant: add conditions or remove it');
    }
    const children = list.map((child, i) => validateCondition(child, ctx, joinPointer(ptr, kind, i), depth + 1, false));
    if (!ok || children.some((ch) => ch === null)) return null;
    return { kind, children: children as ConditionNode[], pointer: ptr, file };
  }
  if (kind === 'not') {
    const inner = raw.not;
    if (Array.isArray(inner)) return err(joinPointer(ptr, 'not'), '"not" takes one condition, not an array (wrap several in "all" or "any")');
    const child = validateCondition(inner, ctx, joinPointer(ptr, 'not'), depth + 1, false);
    return ok && child ? { kind: 'not', child, pointer: ptr, file } : null;
  }
  if (kind === 'condition') {
    const name = raw.condition;
    if (typeof name !== 'string' || !SHARED_NAME.test(name)) return err(joinPointer(ptr, 'condition'), '"condition" must name a shared condition (letters, digits, "_", "-", ".")');
    ctx.refs.push({ name, file, rule, pointer: joinPointer(ptr, 'condition'), from: ctx.within });
    return ok ? { kind: 'ref', name, pointer: ptr, file } : null;
  }

  // A leaf: fact, operator, value, optional path.
  const fact = raw.fact;
  if (!isFactName(fact)) {
    return err(joinPointer(ptr, 'fact'), `unknown fact ${JSON.stringify(fact)}; facts are ${FACT_NAMES.join(', ')}`);
  }
  if (!Object.hasOwn(raw, 'operator')) return err(ptr, 'a condition on a fact needs an "operator"');
  if (!Object.hasOwn(raw, 'value')) return err(ptr, 'a condition on a fact needs a "value"');
  let segments: readonly string[] = [];
  let path: string | undefined;
  if (Object.hasOwn(raw, 'path')) {
    const parsed = parsePath(raw.path);
    if (!parsed.ok) return err(joinPointer(ptr, 'path'), parsed.message);
    segments = parsed.segments;
    path = raw.path as string;
  }
  const target = resolveSpec(fact, segments);
  if (typeof target === 'string') return err(joinPointer(ptr, 'path'), target);
  const op = parseOperator(raw.operator);
  if (typeof op === 'string') return err(joinPointer(ptr, 'operator'), op);
  const why = checkOperatorValue(op, raw.value, target, limits.maxArrayValues);
  if (why) return err(joinPointer(ptr, 'value'), why);
  if (!ok) return null;
  return {
    kind: 'leaf',
    fact,
    ...(path === undefined ? {} : { path }),
    segments,
    operator: raw.operator as string,
    op,
    value: raw.value,
    pointer: ptr,
    file,
  };
}

const PARAMS_HINT: Record<EventType, string> = {
  assign: '{ "contract"?, "service"?, "sla"?, "priority"?, "queue"?, "holdOffSeconds"?, "reopenWindowMinutes"?, "staleAfterMinutes"?, "resolveAction"? }',
  setPriority: '{ "priority": "critical" | "high" | "medium" | "low" | "P1".."P4" }',
  suppress: '{ "reason": "..." }',
  stop: '(none)',
  link: '{ "contract": "<code or name>", "service"?: "<code or name>" }',
};

function validateEvent(raw: unknown, c: Collector, file: string, rule: string, ptr: string): { event: RuleEvent; effect: Effect } | null {
  if (!isObject(raw)) {
    c.add('error', file, rule, ptr, 'the "event" must be an object { "type": ..., "params": { ... } }');
    return null;
  }
  const type = raw.type;
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    c.add('error', file, rule, joinPointer(ptr, 'type'), `unknown event type ${JSON.stringify(type)}; known: ${EVENT_TYPES.join(', ')}`);
    return null;
  }
  let bad = false;
  for (const key of Object.keys(raw)) {
    if (key !== 'type' && key !== 'params') {
      c.add('error', file, rule, joinPointer(ptr, key), `unknown property "${key}" in an event (its settings go in "params")`);
      bad = true;
    }
  }
  const eventType = type as EventType;
  const params = raw.params;
  if (params !== undefined && !isObject(params)) {
    c.add('error', file, rule, joinPointer(ptr, 'params'), '"params" must be an object');
    return null;
  }
  if (params === undefined && eventType !== 'stop') {
    c.add('error', file, rule, joinPointer(ptr, 'params'), `"${eventType}" needs "params": ${PARAMS_HINT[eventType]}`);
    return null;
  }
  const parsed = eventParamsSchemas[eventType].safeParse(params);
  if (!parsed.success) {
    c.zod(file, rule, joinPointer(ptr, 'params'), parsed.error);
    return null;
  }
  if (bad) return null;
  const event: RuleEvent = params ? { type, params } : { type };
  return { event, effect: effectOf(eventType, params) };
}

function withLimits(partial: Partial<RulesLimits> | undefined): RulesLimits {
  return { ...RULES_LIMITS, ...(partial ?? {}) };
}

/** Validates the files of one ruleset (in the order given: callers sort by file name). */
export function validateRuleset(inputs: readonly RulesFileInput[], opts: ValidateOptions = {}): ValidationResult {
  const limits = withLimits(opts.limits);
  const c = new Collector();
  const parsedFiles: Array<{ name: string; content: RulesFileContent }> = [];
  const rules: RuleDef[] = [];
  const shared = new Map<string, SharedConditionDef>();
  const windows: ValidatedRuleset['maintenanceWindows'] = [];
  const refs: RuleCtx['refs'] = [];
  const ruleNames = new Map<string, { file: string; pointer: string }>();
  const referencing: Referencing[] = [];
  const storms: StormRuleDef[] = [];
  const stormNames = new Map<string, string>();
  let parseFailed = false;
  let totalBytes = 0;

  if (inputs.length === 0) c.add('error', '(rules directory)', null, '', 'no rules files (*.json) found');
  if (inputs.length > limits.maxFiles) c.add('error', '(rules directory)', null, '', `more than ${limits.maxFiles} rules files`);

  for (const input of inputs) {
    const file = input.name;
    let content: unknown = input.content;
    if (input.text !== undefined) {
      const bytes = Buffer.byteLength(input.text, 'utf8');
      totalBytes += bytes;
      if (bytes > limits.maxFileBytes) {
        c.add('error', file, null, '', `file is ${bytes} bytes; the limit is ${limits.maxFileBytes}`);
        parseFailed = true;
        continue;
      }
      c.setText(file, input.text);
      try {
        content = JSON.parse(input.text);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const issue: RuleIssue = { severity: 'error', file, rule: null, pointer: '', message: `not valid JSON: ${message}` };
        const at = syntaxErrorOffset(input.text, message);
        if (at !== undefined) Object.assign(issue, positionAt(input.text, at));
        c.errors.push(issue);
        parseFailed = true;
        continue;
      }
    }
    const shape = checkJsonShape(content, limits);
    if (shape) {
      c.add('error', file, null, shape.ptr, shape.message);
      parseFailed = true;
      continue;
    }
    const fileParsed = fileSchema.safeParse(content);
    if (!fileParsed.success) {
      c.zod(file, null, '', fileParsed.error);
      parsedFiles.push({ name: file, content: content as RulesFileContent });
      continue;
    }
    const fileContent = content as RulesFileContent;
    parsedFiles.push({ name: file, content: fileContent });

    for (const [name, raw] of Object.entries(fileParsed.data.conditions ?? {})) {
      const ptr = pointer('conditions', name);
      if (!SHARED_NAME.test(name)) {
        c.add('error', file, null, ptr, `shared condition name "${name}" may use letters, digits, "_", "-" and "." only`);
        continue;
      }
      const existing = shared.get(name);
      if (existing) {
        c.add('error', file, null, ptr, `shared condition "${name}" is already defined in ${existing.file} ${existing.pointer}`);
        continue;
      }
      const ctx: RuleCtx = { c, file, rule: null, limits, refs, within: name, nodes: 0 };
      const node = validateCondition(raw, ctx, ptr, 1, true);
      if (node) shared.set(name, { name, file, pointer: ptr, condition: node });
    }

    for (const w of fileParsed.data.maintenanceWindows ?? []) windows.push({ file, window: w });

    storms.push(
      ...validateStormEntries(
        fileParsed.data,
        {
          file,
          condition: (raw, ptr, rule) => validateCondition(raw, { c, file, rule, limits, refs, within: null, nodes: 0 }, ptr, 1, true),
          error: (rule, ptr, message) => c.add('error', file, rule, ptr, message),
          zod: (rule, ptr, error) => c.zod(file, rule, ptr, error),
        },
        stormNames,
      ),
    );

    fileParsed.data.rules.forEach((raw, i) => {
      const base = pointer('rules', i);
      const label = isObject(raw) && typeof raw.name === 'string' && raw.name.trim() !== '' ? raw.name : `rules[${i}]`;
      const shell = ruleShellSchema.safeParse(raw);
      if (!shell.success) {
        c.zod(file, label, base, shell.error);
        return;
      }
      const { name } = shell.data;
      const seen = ruleNames.get(name);
      if (seen) c.add('error', file, name, joinPointer(base, 'name'), `rule name "${name}" is already used in ${seen.file} ${seen.pointer}`);
      else ruleNames.set(name, { file, pointer: joinPointer(base, 'name') });
      const ctx: RuleCtx = { c, file, rule: name, limits, refs, within: null, nodes: 0 };
      const conditions = validateCondition(shell.data.conditions, ctx, joinPointer(base, 'conditions'), 1, true);
      const ev = validateEvent(shell.data.event, c, file, name, joinPointer(base, 'event'));
      // References are checked even when the conditions are wrong: every error in one pass.
      if (ev) referencing.push({ name, file, pointer: base, event: ev.event, effect: ev.effect });
      if (!conditions || !ev) return;
      rules.push({
        name,
        priority: shell.data.priority ?? 1,
        file,
        pointer: base,
        order: rules.length,
        conditions,
        event: ev.event,
        effect: ev.effect,
      });
    });
  }

  if (totalBytes > limits.maxTotalBytes) c.add('error', '(rules directory)', null, '', `rules files total ${totalBytes} bytes; the limit is ${limits.maxTotalBytes}`);
  const ruleCount = parsedFiles.reduce((n, f) => n + (Array.isArray(f.content.rules) ? f.content.rules.length : 0), 0);
  if (ruleCount > limits.maxRules) {
    const last = parsedFiles.at(-1);
    c.add('error', last?.name ?? '(rules directory)', null, '/rules', `${ruleCount} rules; the limit is ${limits.maxRules}`);
  }
  if (shared.size > limits.maxSharedConditions) c.add('error', '(rules directory)', null, '', `${shared.size} shared conditions; the limit is ${limits.maxSharedConditions}`);

  // References to shared conditions, and cycles among them.
  for (const r of refs) {
    if (!shared.has(r.name)) {
      const known = [...shared.keys()];
      c.add('error', r.file, r.rule, r.pointer, `unknown shared condition "${r.name}"${known.length ? `; defined: ${known.slice(0, 20).join(', ')}` : '; none are defined ("conditions": { ... } at the top of a file)'}`);
    }
  }
  const cyclic = findCycles(shared, c);
  if (cyclic.size === 0) checkExpandedSize(rules, shared, limits, c);

  // References to contracts, services and SLAs (by name or code, never ids).
  if (opts.catalog !== undefined) checkCatalog(referencing, opts.catalog, c);
  if (opts.catalog !== undefined) checkStormCatalog(storms, opts.catalog, (severity, file, rule, ptr, message) => c.add(severity, file, rule, ptr, message));
  warnTies(rules, c);
  // Maintenance windows declared in rules files: an invalid one makes the file invalid (R-RUL-2),
  // instead of going live and being ignored.
  for (const issue of parseRulesFileWindows(windows).issues) c.errors.push(issue);

  const contentHash = parseFailed
    ? sha256(`${HASH_FORMAT}:unparsed\n${inputs.map((f) => `${f.name}\n${f.text ?? canonicalJson(f.content)}`).join('\n')}`)
    : contentHashOf(parsedFiles);
  const ok = c.errors.length === 0;
  return {
    ok,
    errors: c.errors,
    warnings: c.warnings,
    contentHash,
    ...(ok ? { ruleset: { files: parsedFiles, rules, conditions: shared, maintenanceWindows: windows, storms } } : {}),
  };
}

function childrenOf(node: ConditionNode): ConditionNode[] {
  if (node.kind === 'all' || node.kind === 'any') return node.children;
  if (node.kind === 'not') return [node.child];
  return [];
}

function refsIn(node: ConditionNode, out: Array<{ name: string; pointer: string }> = []): Array<{ name: string; pointer: string }> {
  if (node.kind === 'ref') out.push({ name: node.name, pointer: joinPointer(node.pointer, 'condition') });
  for (const child of childrenOf(node)) refsIn(child, out);
  return out;
}

/** Depth-first search over shared conditions; each cycle is reported once, where it closes. */
function findCycles(shared: Map<string, SharedConditionDef>, c: Collector): Set<string> {
  const state = new Map<string, 'visiting' | 'done'>();
  const cyclic = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    const def = shared.get(name);
    if (!def) return;
    state.set(name, 'visiting');
    stack.push(name);
    for (const ref of refsIn(def.condition)) {
      const s = state.get(ref.name);
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(ref.name)), ref.name];
        cycle.forEach((n) => cyclic.add(n));
        c.add('error', def.file, null, ref.pointer, `shared conditions form a cycle: ${cycle.join(' → ')}`);
      } else if (s === undefined) {
        visit(ref.name);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of shared.keys()) if (!state.has(name)) visit(name);
  return cyclic;
}

/** Depth and size of each rule with its shared conditions expanded (the evaluated tree). */
function checkExpandedSize(rules: RuleDef[], shared: Map<string, SharedConditionDef>, limits: RulesLimits, c: Collector): void {
  const memo = new Map<string, { depth: number; nodes: number }>();
  const measure = (node: ConditionNode): { depth: number; nodes: number } => {
    if (node.kind === 'ref') {
      const cached = memo.get(node.name);
      if (cached) return cached;
      const def = shared.get(node.name);
      const m = def ? measure(def.condition) : { depth: 0, nodes: 0 };
      memo.set(node.name, m);
      return m;
    }
    if (node.kind === 'leaf') return { depth: 1, nodes: 1 };
    let depth = 0;
    let nodes = 1;
    for (const child of childrenOf(node)) {
      const m = measure(child);
      depth = Math.max(depth, m.depth);
      nodes += m.nodes;
    }
    return { depth: depth + 1, nodes };
  };
  for (const rule of rules) {
    const m = measure(rule.conditions);
    const at = joinPointer(rule.pointer, 'conditions');
    if (m.depth > limits.maxConditionDepth) c.add('error', rule.file, rule.name, at, `with its shared conditions, nested ${m.depth} levels deep; the limit is ${limits.maxConditionDepth}`);
    if (m.nodes > limits.maxConditionsPerRule) c.add('error', rule.file, rule.name, at, `with its shared conditions, ${m.nodes} conditions; the limit is ${limits.maxConditionsPerRule}`);
  }
}

type Referencing = Pick<RuleDef, 'name' | 'file' | 'pointer' | 'event' | 'effect'>;

function checkCatalog(rules: Referencing[], catalog: RefCatalog | null, c: Collector): void {
  const unreachableWarned = new Set<string>();
  for (const rule of rules) {
    const params = rule.event.params ?? {};
    const checks: Array<{ key: 'contract' | 'service' | 'sla'; set: keyof RefCatalog; what: string }> = [
      { key: 'contract', set: 'contracts', what: 'contract' },
      { key: 'service', set: 'services', what: 'service' },
      { key: 'sla', set: 'slas', what: 'SLA' },
    ];
    for (const { key, set, what } of checks) {
      // A `link` event names its contract and service like `assign` does (R-LINK-7).
      const ref = rule.effect[key] === undefined && !(rule.effect.link && key !== 'sla') ? undefined : params[key];
      if (typeof ref !== 'string') continue;
      const name = ref.trim();
      if (key === 'contract' && (RESERVED_CONTRACT_WORDS as readonly string[]).includes(name)) continue;
      const at = joinPointer(rule.pointer, 'event', 'params', key);
      if (catalog === null) {
        const k = `${key}:${name}`;
        if (!unreachableWarned.has(k)) {
          unreachableWarned.add(k);
          c.add('warning', rule.file, rule.name, at, `could not check that ${what} "${name}" exists: the database is unreachable`);
        }
      } else if (!catalog[set].has(name)) {
        c.add('error', rule.file, rule.name, at, `unknown ${what} "${name}": no ${what} has this name or code`);
      }
    }
  }
}

/**
 * A rule that ties on priority with a rule of an earlier file, both setting the same field,
 * loses to it (file order breaks ties). Admins adding rules beside the shipped default usually
 * mean to override it, so say so.
 */
function warnTies(rules: RuleDef[], c: Collector): void {
  const FIELDS = ['contract', 'service', 'sla', 'priority', 'queue', 'suppress'] as const;
  const first = new Map<string, RuleDef>();
  for (const rule of rules) {
    for (const field of FIELDS) {
      if (rule.effect[field] === undefined) continue;
      const key = `${rule.priority}:${field}`;
      const earlier = first.get(key);
      if (!earlier) first.set(key, rule);
      else if (earlier.file !== rule.file) {
        c.add(
          'warning',
          rule.file,
          rule.name,
          joinPointer(rule.pointer, 'priority'),
          `has priority ${rule.priority} like rule "${earlier.name}" in ${earlier.file}, which loads first and wins when both set "${field}"; give this rule a higher priority to override it`,
        );
        break;
      }
    }
  }
}
