import type { z } from 'zod';
import { HubError, validationError } from '../core/errors';
import { findUnstorableJson } from '../core/storable-json';

export interface FieldIssue {
  field: string;
  message: string;
}

export function zodIssues(error: z.ZodError, root = ''): FieldIssue[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    const field = [root, path].filter(Boolean).join('.') || root || '(body)';
    return { field, message: i.message };
  });
}

/**
 * Parses a request part with a strict zod schema; a failure is a 400 whose message names the
 * first offending field and whose details list them all (R-ALR-5, issue 6 "strict bodies").
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.infer<S> {
  // Before zod: a NUL, an unpaired surrogate or 10,000-deep nesting would pass a z.string() or
  // z.unknown() and then be a 500 in the INSERT or the audit row (core/storable-json.ts).
  const unstorable = findUnstorableJson(value);
  if (unstorable) throw validationError([root, ...unstorable.path.map(String)].join('.'), unstorable.message);
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = zodIssues(r.error, root);
  const first = issues[0] ?? { field: root, message: 'invalid' };
  throw new HubError('VALIDATION_FAILED', `${first.field}: ${first.message}`, issues);
}
