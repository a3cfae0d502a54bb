import type { MatchedCondition } from './types';

/**
 * The evidence a decision keeps (which conditions held, with the values they saw): small, and
 * mostly known in advance — a condition `equal "critical"` that held saw "critical" — so such
 * entries are built once at compile time and shared (frozen) by every decision.
 */

export const MAX_MATCHED = 20;
const MAX_TEXT = 200;

export function summarize(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (value !== null && typeof value === 'object') {
    // A whole fact (e.g. "deviceContract notEqual null"): its name and code say which one.
    const o = value as Record<string, unknown>;
    return typeof o.name === 'string' ? { name: summarize(o.name), code: typeof o.code === 'string' ? summarize(o.code) : null } : '[object]';
  }
  return value;
}

export interface LeafDescription {
  fact: string;
  path?: string;
  operator: string;
  value: unknown;
}

// Plain assignments: conditional spreads cost more than the rest of a decision.
export function evidenceOf(leaf: LeafDescription, factValue: unknown, negated = false): MatchedCondition {
  const m: MatchedCondition = { fact: leaf.fact, operator: leaf.operator, value: leaf.value, factValue: summarize(factValue) };
  if (leaf.path !== undefined) m.path = leaf.path;
  if (negated) m.negated = true;
  return m;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
