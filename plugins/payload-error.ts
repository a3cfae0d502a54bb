import type { z } from 'zod';
import { HubError, type ErrorCode } from '../core/errors';

/**
 * Turns zod issues into the one error the hub answers with (R-ALR-5): the message starts with the
 * path of the offending field, so a sender's developer sees what to fix without reading our code.
 */
export type PathSegment = string | number;

export interface FieldProblem {
  field: string;
  message: string;
}

/** `alerts[0].labels.severity`; an empty path is the whole body. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? 'body' : out;
}

const MISSING = Symbol('missing');

/** The value at an issue's path in the parsed input, or MISSING when the path does not exist. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || typeof segment === 'symbol') return MISSING;
    if (!Object.hasOwn(current, segment)) return MISSING;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** A short, safe rendering of what the sender sent: scalars only, capped. */
function shown(value: unknown): string | null {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return null;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  const known = input !== MISSING;
  const value = known ? valueAt(input, issue.path) : MISSING;
  const absent = known ? value === MISSING || value === undefined : / received undefined$/.test(issue.message);
  const typeLike = issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value';
  // zod says "expected string, received undefined" (or "Invalid input" for a union) for a missing field; say it plainly.
  if (typeLike && absent) return 'is required';
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
    const got = value === MISSING ? null : shown(value);
    return `must be one of ${options}${got === null ? '' : ` (got ${got})`}`;
  }
  return issue.message;
}

export interface PathProblem {
  path: PropertyKey[];
  message: string;
}

/** Issues with plain messages, paths kept as arrays (to re-raise them inside another schema's refinement). */
export function issuesToPathProblems(issues: readonly z.core.$ZodIssue[], input: unknown = MISSING): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: [...issue.path, key], message: 'unknown field' });
      continue;
    }
    problems.push({ path: [...issue.path], message: describe(issue, input) });
  }
  return problems;
}

/** One problem per issue; unknown keys become one problem per key, each named by its own path. */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  base: readonly PathSegment[] = [],
  input: unknown = MISSING,
): FieldProblem[] {
  return issuesToPathProblems(issues, input).map((p) => ({ field: formatPath([...base, ...p.path]), message: p.message }));
}

const MAX_DETAILS = 20;

/** A HubError whose message names the first offending field and whose details list them all (capped). */
export function problemsError(problems: readonly FieldProblem[], code: ErrorCode = 'VALIDATION_FAILED'): HubError {
  const first = problems[0] ?? { field: 'body', message: 'is invalid' };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new HubError(code, `${first.field}: ${first.message}${more}`, problems.slice(0, MAX_DETAILS));
}

/** @param input the value that was parsed: lets messages say "is required" and show what was sent. */
export function zodError(error: z.ZodError, base: readonly PathSegment[] = [], input: unknown = MISSING, code: ErrorCode = 'VALIDATION_FAILED'): HubError {
  return problemsError(issuesToProblems(error.issues, base, input), code);
}

/** A single named problem, for checks zod cannot express (cross-field rules in normalize()). */
export function fieldError(path: readonly PathSegment[], message: string): HubError {
  return problemsError([{ field: formatPath(path), message }]);
}

/** Parses or throws the VALIDATION_FAILED HubError naming the field; `base` prefixes the reported paths. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, base: readonly PathSegment[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw zodError(result.error, base, value);
  return result.data;
}
