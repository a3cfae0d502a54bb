import { DateTime } from 'luxon';
import { z } from 'zod';
import { HubError } from '../../core/errors';
import type { DecisionFacts, FactName, TimeFact, Weekday } from './types';

/**
 * The facts as data: one table says which properties each fact has and what their values can
 * be. Validation uses it to refuse a path to a property that does not exist (`$.severty`) and a
 * value that can never match (`"Critical"`, `8080` for a string label); the zod schema below
 * parses facts given as input (dry run, CLI).
 */
export type FieldSpec =
  | { kind: 'string'; nullable: boolean; values?: readonly string[] }
  | { kind: 'number'; nullable: boolean }
  | { kind: 'boolean'; nullable: boolean }
  /** Any key, values of `of` (alert labels); a missing key yields undefined. */
  | { kind: 'map'; of: FieldSpec }
  | { kind: 'object'; nullable: boolean; fields: Readonly<Record<string, FieldSpec>> };

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const CONTRACT_TYPES = [
  'recurring_service',
  'time_and_materials',
  'fixed_price',
  'block_hours',
  'retainer',
  'per_ticket',
] as const;

const str = (nullable = false, values?: readonly string[]): FieldSpec => ({ kind: 'string', nullable, ...(values ? { values } : {}) });
const num: FieldSpec = { kind: 'number', nullable: false };
const bool: FieldSpec = { kind: 'boolean', nullable: false };

const contractFields: Record<string, FieldSpec> = {
  name: str(),
  code: str(true),
  type: str(false, CONTRACT_TYPES),
  serviceName: str(true),
  serviceCode: str(true),
  slaName: str(true),
  slaCode: str(true),
};

export const FACT_SPECS: Readonly<Record<FactName, Extract<FieldSpec, { kind: 'object' }>>> = {
  alert: {
    kind: 'object',
    nullable: false,
    fields: {
      source: str(),
      sourceAlertId: str(),
      dedupKey: str(),
      state: str(false, ['firing', 'resolved']),
      severity: str(false, SEVERITIES),
      category: str(true),
      title: str(),
      message: str(true),
      hostname: str(true),
      site: str(true),
      labels: { kind: 'map', of: str() },
      occurredAt: str(),
    },
  },
  device: {
    kind: 'object',
    nullable: true,
    fields: { hostname: str(), site: str(true), role: str(true), discovered: bool, known: bool },
  },
  company: { kind: 'object', nullable: true, fields: { name: str(), code: str(true) } },
  deviceContract: { kind: 'object', nullable: true, fields: contractFields },
  defaultContract: { kind: 'object', nullable: true, fields: contractFields },
  contract: { kind: 'object', nullable: true, fields: contractFields },
  sla: { kind: 'object', nullable: true, fields: { name: str(), code: str(true), timezone: str() } },
  time: {
    kind: 'object',
    nullable: false,
    fields: { weekday: str(false, WEEKDAYS), hour: num, minute: num, date: str(), isBusinessHours: bool, timezone: str() },
  },
};

export const FACT_NAMES = Object.keys(FACT_SPECS) as FactName[];

export const isFactName = (name: unknown): name is FactName => typeof name === 'string' && Object.hasOwn(FACT_SPECS, name);

/** What a path leads to: its spec, whether the value can be null, whether it can be missing. */
export interface ResolvedSpec {
  spec: FieldSpec;
  mayBeNull: boolean;
  mayBeMissing: boolean;
  /** `alert.labels.env` — for messages. */
  label: string;
}

/** Follows `segments` through the fact's spec; a string says why the path leads nowhere. */
export function resolveSpec(fact: FactName, segments: readonly string[]): ResolvedSpec | string {
  const root = FACT_SPECS[fact];
  let spec: FieldSpec = root;
  let mayBeNull = root.nullable;
  let mayBeMissing = false;
  let label: string = fact;
  for (const segment of segments) {
    if (spec.kind === 'object') {
      const next: FieldSpec | undefined = spec.fields[segment];
      if (!Object.hasOwn(spec.fields, segment) || !next) {
        return `${label} has no property "${segment}"; it has ${Object.keys(spec.fields).join(', ')}`;
      }
      spec = next;
    } else if (spec.kind === 'map') {
      spec = spec.of;
      mayBeMissing = true;
    } else {
      return `${label} is a ${spec.kind}; it has no property "${segment}"`;
    }
    label = `${label}.${segment}`;
    if ('nullable' in spec && spec.nullable) mayBeNull = true;
  }
  return { spec, mayBeNull, mayBeMissing, label };
}

// ---- zod schema of facts given as input (dry run, CLI) ----

const contractFactSchema = z.strictObject({
  name: z.string(),
  code: z.string().nullable(),
  type: z.enum(CONTRACT_TYPES),
  serviceName: z.string().nullable(),
  serviceCode: z.string().nullable(),
  slaName: z.string().nullable(),
  slaCode: z.string().nullable(),
});

export const alertFactSchema = z.strictObject({
  source: z.string(),
  sourceAlertId: z.string(),
  dedupKey: z.string(),
  state: z.enum(['firing', 'resolved']),
  severity: z.enum(SEVERITIES),
  category: z.string().nullable(),
  title: z.string(),
  message: z.string().nullable(),
  hostname: z.string().nullable(),
  site: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  occurredAt: z.iso.datetime({ offset: true }),
});

export const timeFactSchema = z.strictObject({
  weekday: z.enum(WEEKDAYS),
  hour: z.number().int().min(0).max(23),
  minute: z.number().int().min(0).max(59),
  date: z.iso.date(),
  isBusinessHours: z.boolean(),
  timezone: z.string().min(1),
});

export const decisionFactsSchema = z.strictObject({
  alert: alertFactSchema,
  device: z
    .strictObject({
      hostname: z.string(),
      site: z.string().nullable(),
      role: z.string().nullable(),
      discovered: z.boolean(),
      known: z.boolean(),
    })
    .nullable(),
  company: z.strictObject({ name: z.string(), code: z.string().nullable() }).nullable(),
  deviceContract: contractFactSchema.nullable(),
  defaultContract: contractFactSchema.nullable(),
  contract: contractFactSchema.nullable(),
  sla: z.strictObject({ name: z.string(), code: z.string().nullable(), timezone: z.string() }).nullable(),
  time: timeFactSchema,
}) satisfies z.ZodType<DecisionFacts>;

const LUXON_WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/**
 * The `time` fact of an instant in a zone. Whether that instant is inside business hours comes
 * from the SLA's calendar, which the caller evaluates (core/slas); it is passed in, not guessed.
 */
export function timeFact(at: Date | string, timezone: string, isBusinessHours: boolean): TimeFact {
  const base = typeof at === 'string' ? DateTime.fromISO(at, { setZone: true }) : DateTime.fromJSDate(at);
  if (!base.isValid) throw new HubError('VALIDATION_FAILED', `at: "${String(at)}" is not a valid instant`);
  const local = base.setZone(timezone);
  if (!local.isValid) throw new HubError('VALIDATION_FAILED', `timezone: "${timezone}" is not an IANA time zone`);
  return {
    weekday: LUXON_WEEKDAYS[local.weekday - 1] ?? 'mon',
    hour: local.hour,
    minute: local.minute,
    date: local.toISODate() ?? '',
    isBusinessHours,
    timezone,
  };
}
