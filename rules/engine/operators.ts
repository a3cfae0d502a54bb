import type { Engine } from 'json-rules-engine';
import type { ResolvedSpec } from './facts';

/**
 * Operators, twice over: compiled to closures for the fast path, and registered on the
 * json-rules-engine reference Engine. The built-ins replicate json-rules-engine 7.3.1's
 * dist/engine-default-operators.js to the letter (including its quirks: `contains` only looks
 * into arrays, comparisons first check that the fact value parses as a float), so the compiled
 * decision is the reference decision; the differential test holds both to that.
 */

export const BUILTIN_OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
] as const;

/**
 * The hub's own: case-insensitive text tests, because json-rules-engine's `contains` only looks
 * into arrays and alerts are mostly text. No regex operator: a rules file is input, and a
 * catastrophic-backtracking pattern would stall every worker.
 */
export const HUB_OPERATORS = ['containsText', 'startsWith', 'endsWith'] as const;

/** Decorators a rules file may use (json-rules-engine 7 syntax `decorator:operator`). */
export const SUPPORTED_DECORATORS = ['not', 'someValue', 'everyValue'] as const;

type BaseOperator = (typeof BUILTIN_OPERATORS)[number] | (typeof HUB_OPERATORS)[number];
type Decorator = (typeof SUPPORTED_DECORATORS)[number];

const BASE = new Set<string>([...BUILTIN_OPERATORS, ...HUB_OPERATORS]);
const DECORATORS = new Set<string>(SUPPORTED_DECORATORS);
/** json-rules-engine has these too, but they need array facts (none exist) or swap sides. */
const UNSUPPORTED_DECORATORS: Record<string, string> = {
  someFact: 'someFact needs a fact value that is an array; no fact has array values',
  everyFact: 'everyFact needs a fact value that is an array; no fact has array values',
  swap: 'swap is not supported: write the condition the other way round',
};

export interface ParsedOperator {
  decorators: Decorator[];
  base: BaseOperator;
}

export function parseOperator(name: unknown): ParsedOperator | string {
  if (typeof name !== 'string' || name.length === 0) return 'operator must be a non-empty string';
  const parts = name.split(':');
  const base = parts.pop() ?? '';
  if (!BASE.has(base)) {
    return `unknown operator "${base}"; known: ${[...BUILTIN_OPERATORS, ...HUB_OPERATORS].join(', ')}`;
  }
  const decorators: Decorator[] = [];
  for (const part of parts) {
    const why = UNSUPPORTED_DECORATORS[part];
    if (why) return why;
    if (!DECORATORS.has(part)) return `unknown operator decorator "${part}"; known: ${SUPPORTED_DECORATORS.join(', ')}`;
    decorators.push(part as Decorator);
  }
  if (decorators.length > 4) return 'at most 4 operator decorators';
  return { decorators, base: base as BaseOperator };
}

// ---- semantics (shared by the closures and the reference Engine) ----

const numberValidator = (factValue: unknown): boolean => Number.parseFloat(String(factValue)).toString() !== 'NaN';

/**
 * Text operators compare lower-cased text (String.prototype.toLowerCase, locale-independent).
 * The compiled path lower-cases each text property once per decision (a "lowered" slot) and the
 * needle once at compile time; the reference Engine lower-cases both on every call. Same result.
 */
const textTests: Record<TextOperator, (text: string, needle: string) => boolean> = {
  containsText: (t, n) => t.includes(n),
  startsWith: (t, n) => t.startsWith(n),
  endsWith: (t, n) => t.endsWith(n),
};

export type TextOperator = (typeof HUB_OPERATORS)[number];
export const isTextOperator = (op: ParsedOperator): boolean => (HUB_OPERATORS as readonly string[]).includes(op.base);

/** Registers the hub's operators on a reference Engine (the built-ins and decorators it has). */
export function registerHubOperators(engine: Engine): void {
  for (const name of HUB_OPERATORS) {
    const test = textTests[name];
    engine.addOperator<unknown, unknown>(name, (a, b) => typeof a === 'string' && typeof b === 'string' && test(a.toLowerCase(), b.toLowerCase()));
  }
}

export type Test = (factValue: unknown) => boolean;

/**
 * `value` is the (validated) condition value; the closure it returns tests a fact value — for
 * the text operators, the fact value already lower-cased (see isTextOperator).
 */
export function compileOperator(op: ParsedOperator, value: unknown): Test {
  return compileDecorated(op.decorators, op.base, value);
}

function compileDecorated(decorators: readonly Decorator[], base: BaseOperator, value: unknown): Test {
  const [first, ...rest] = decorators;
  if (first === undefined) return compileBase(base, value);
  if (first === 'not') {
    const inner = compileDecorated(rest, base, value);
    return (fv) => !inner(fv);
  }
  const items = Array.isArray(value) ? value.map((v) => compileDecorated(rest, base, v)) : [];
  if (first === 'someValue') return (fv) => items.some((t) => t(fv));
  return (fv) => items.every((t) => t(fv));
}

function compileBase(base: BaseOperator, value: unknown): Test {
  switch (base) {
    case 'equal':
      return (fv) => fv === value;
    case 'notEqual':
      return (fv) => fv !== value;
    case 'in':
    case 'notIn': {
      const list: readonly unknown[] = Array.isArray(value) ? value : [];
      // indexOf uses ===; a Set uses SameValueZero, which differs only for NaN (never in JSON).
      const set = new Set(list);
      const has =
        list.length <= 8 ? (fv: unknown) => list.indexOf(fv) > -1 : (fv: unknown) => fv === fv && set.has(fv);
      return base === 'in' ? has : (fv) => !has(fv);
    }
    case 'contains':
      return (fv) => Array.isArray(fv) && fv.indexOf(value) > -1;
    case 'doesNotContain':
      return (fv) => Array.isArray(fv) && fv.indexOf(value) === -1;
    case 'lessThan':
      return (fv) => numberValidator(fv) && (fv as number) < (value as number);
    case 'lessThanInclusive':
      return (fv) => numberValidator(fv) && (fv as number) <= (value as number);
    case 'greaterThan':
      return (fv) => numberValidator(fv) && (fv as number) > (value as number);
    case 'greaterThanInclusive':
      return (fv) => numberValidator(fv) && (fv as number) >= (value as number);
    case 'containsText':
    case 'startsWith':
    case 'endsWith': {
      if (typeof value !== 'string') return () => false;
      const needle = value.toLowerCase();
      const test = textTests[base];
      return (fv) => typeof fv === 'string' && test(fv, needle);
    }
  }
}

// ---- validation of a condition's value against the operator and the fact it looks at ----

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/**
 * Says why `value` can never be meaningful for `op` on `target` (wrong type, a value outside an
 * enumeration, a shape that would make json-rules-engine throw), or null when it is fine.
 */
export function checkOperatorValue(op: ParsedOperator, value: unknown, target: ResolvedSpec, maxArray: number): string | null {
  return checkDecorated(op.decorators, op.base, value, target, maxArray);
}

function checkDecorated(
  decorators: readonly Decorator[],
  base: BaseOperator,
  value: unknown,
  target: ResolvedSpec,
  maxArray: number,
): string | null {
  const [first, ...rest] = decorators;
  if (first === undefined) return checkBase(base, value, target, maxArray);
  if (first === 'not') return checkDecorated(rest, base, value, target, maxArray);
  if (!Array.isArray(value)) return `"${first}" needs an array value, got ${typeName(value)}`;
  if (value.length === 0) return `"${first}" needs at least one value`;
  if (value.length > maxArray) return `at most ${maxArray} values`;
  for (const [i, item] of value.entries()) {
    const why = checkDecorated(rest, base, item, target, maxArray);
    if (why) return `value ${i}: ${why}`;
  }
  return null;
}

function checkScalar(value: unknown, target: ResolvedSpec): string | null {
  const { spec, label } = target;
  if (value === null) {
    if (target.mayBeNull) return null;
    if (target.mayBeMissing) return `${label} is a ${spec.kind} or missing (undefined), never null`;
    return `${label} is never null`;
  }
  if (typeof value === 'object') return `value must be a string, number, boolean or null, got ${typeName(value)} (fact references in values are not supported)`;
  switch (spec.kind) {
    case 'object':
    case 'map':
      return `${label} is an object: compare one of its properties (add a path like "$.name"), or compare it with null`;
    case 'string':
      if (typeof value !== 'string') return `${label} is a string; ${JSON.stringify(value)} is ${typeName(value)} and never equals it (write "${String(value)}")`;
      if (spec.values && !spec.values.includes(value)) return `${label} is one of ${spec.values.join(', ')}; "${value}" never matches`;
      return null;
    case 'number':
      return typeof value === 'number' ? null : `${label} is a number; ${JSON.stringify(value)} is ${typeName(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${label} is true or false; ${JSON.stringify(value)} is ${typeName(value)}`;
  }
}

function checkBase(base: BaseOperator, value: unknown, target: ResolvedSpec, maxArray: number): string | null {
  const { spec, label } = target;
  switch (base) {
    case 'equal':
    case 'notEqual':
      return checkScalar(value, target);
    case 'in':
    case 'notIn': {
      if (!Array.isArray(value)) return `"${base}" needs an array value, got ${typeName(value)}`;
      if (value.length === 0) return `"${base}" needs at least one value`;
      if (value.length > maxArray) return `at most ${maxArray} values`;
      for (const [i, item] of value.entries()) {
        const why = checkScalar(item, target);
        if (why) return `value ${i}: ${why}`;
      }
      return null;
    }
    case 'contains':
    case 'doesNotContain':
      return `"${base}" tests array facts and no fact is an array (${label} is ${spec.kind === 'string' ? 'text: use "containsText"' : `a ${spec.kind}`})`;
    case 'lessThan':
    case 'lessThanInclusive':
    case 'greaterThan':
    case 'greaterThanInclusive':
      if (spec.kind === 'number') return typeof value === 'number' ? null : `${label} is a number; compare it with a number, got ${typeName(value)}`;
      if (spec.kind === 'string' && !spec.values) {
        return typeof value === 'string' ? null : `${label} is text; compare it with text (e.g. an ISO date), got ${typeName(value)}`;
      }
      return `"${base}" does not order ${spec.kind === 'string' ? `the names of ${label}` : label}`;
    case 'containsText':
    case 'startsWith':
    case 'endsWith':
      if (spec.kind !== 'string') return `"${base}" tests text; ${label} is ${spec.kind === 'map' || spec.kind === 'object' ? 'an object' : `a ${spec.kind}`}`;
      if (typeof value !== 'string' || value.length === 0) return `"${base}" needs non-empty text, got ${typeName(value)}`;
      return null;
  }
}
