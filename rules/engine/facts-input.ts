import { DateTime } from 'luxon';
import { z } from 'zod';
import { HubError } from '../../core/errors';
import { SEVERITIES, decisionFactsSchema, timeFact, timeFactSchema } from './facts';
import type { DecisionFacts } from './types';

/**
 * Facts for a dry run from a file an admin wrote by hand (`hub rules test alert.json`), without
 * a database to resolve device, company and contracts. Two shapes are accepted:
 *
 * 1. facts: `{ "alert": {...}, "device"?, "company"?, "deviceContract"?, "defaultContract"?,
 *    "contract"?, "sla"?, "time"? }` — the shape rules see. Missing facts are null; `contract`
 *    defaults to deviceContract ?? defaultContract; `time` is computed from the alert's
 *    occurredAt (or `at`) in the SLA's zone (else `timezone`, else UTC). Within `alert` only
 *    `severity`, `title` and `occurredAt` are required.
 * 2. a generic alert, the `generic` source's own shape (`{ "alertId", "state", "severity",
 *    "category", "title", "message", "device": { "id", "hostname", "site" }, "occurredAt" }`):
 *    only the alert is known, every other fact is null.
 *
 * Without an SLA calendar, business hours are assumed to be Monday–Friday 08:00–17:00 local
 * time unless `businessHours` says otherwise. The API's dry run builds facts exactly like the
 * worker instead; this is for files.
 */

const partialAlert = z.strictObject({
  source: z.string().default('generic'),
  sourceAlertId: z.string().default('dry-run'),
  dedupKey: z.string().optional(),
  state: z.enum(['firing', 'resolved']).default('firing'),
  severity: z.enum(SEVERITIES),
  category: z.string().nullable().default(null),
  title: z.string(),
  message: z.string().nullable().default(null),
  hostname: z.string().nullable().default(null),
  site: z.string().nullable().default(null),
  labels: z.record(z.string(), z.string()).default({}),
  occurredAt: z.iso.datetime({ offset: true }),
});

const { shape } = decisionFactsSchema;
const partialFacts = z.strictObject({
  alert: partialAlert,
  device: shape.device.default(null),
  company: shape.company.default(null),
  deviceContract: shape.deviceContract.default(null),
  defaultContract: shape.defaultContract.default(null),
  contract: shape.contract.optional(),
  sla: shape.sla.default(null),
  time: timeFactSchema.optional(),
});

const genericAlert = z.strictObject({
  alertId: z.string().min(1),
  state: z.enum(['firing', 'resolved']).default('firing'),
  severity: z.enum(SEVERITIES),
  category: z.string().nullable().default(null),
  title: z.string(),
  message: z.string().nullable().default(null),
  device: z
    .strictObject({ id: z.string().nullable().optional(), hostname: z.string().nullable().optional(), site: z.string().nullable().optional() })
    .default({}),
  occurredAt: z.iso.datetime({ offset: true }),
  labels: z.record(z.string(), z.string()).default({}),
});

export interface FactsInputOptions {
  /** Decide as of this instant instead of the alert's occurredAt. */
  at?: string;
  /** Zone of the `time` fact when no SLA gives one. @defaultValue UTC */
  timezone?: string;
  /** Overrides the Monday–Friday 08:00–17:00 assumption. */
  businessHours?: boolean;
}

function defaultBusinessHours(at: string, zone: string): boolean {
  const local = DateTime.fromISO(at, { setZone: true }).setZone(zone);
  return local.weekday <= 5 && local.hour >= 8 && local.hour < 17;
}

const issuesOf = (e: z.ZodError, prefix = '') =>
  e.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message }));

export function factsFromInput(input: unknown, opts: FactsInputOptions = {}): DecisionFacts {
  const isGeneric = input !== null && typeof input === 'object' && Object.hasOwn(input, 'alertId');
  let base: Omit<DecisionFacts, 'time' | 'contract'> & { contract?: DecisionFacts['contract']; time?: DecisionFacts['time'] };
  if (isGeneric) {
    const parsed = genericAlert.safeParse(input);
    if (!parsed.success) throw new HubError('VALIDATION_FAILED', `alert: ${issuesOf(parsed.error).map((i) => `${i.field}: ${i.message}`).join('; ')}`, issuesOf(parsed.error));
    const a = parsed.data;
    base = {
      alert: {
        source: 'generic',
        sourceAlertId: a.alertId,
        dedupKey: `generic:${a.device.id ?? a.device.hostname ?? '-'}:${a.category ?? a.title}`,
        state: a.state,
        severity: a.severity,
        category: a.category,
        title: a.title,
        message: a.message,
        hostname: a.device.hostname ?? null,
        site: a.device.site ?? null,
        labels: a.labels,
        occurredAt: a.occurredAt,
      },
      device: null,
      company: null,
      deviceContract: null,
      defaultContract: null,
      sla: null,
    };
  } else {
    const parsed = partialFacts.safeParse(input);
    if (!parsed.success) throw new HubError('VALIDATION_FAILED', `facts: ${issuesOf(parsed.error).map((i) => `${i.field}: ${i.message}`).join('; ')}`, issuesOf(parsed.error));
    const { alert, ...rest } = parsed.data;
    base = { ...rest, alert: { ...alert, dedupKey: alert.dedupKey ?? `${alert.source}:${alert.hostname ?? '-'}:${alert.category ?? alert.title}` } };
  }
  const at = opts.at ?? base.alert.occurredAt;
  const zone = base.sla?.timezone ?? opts.timezone ?? 'UTC';
  return {
    ...base,
    contract: base.contract === undefined ? (base.deviceContract ?? base.defaultContract) : base.contract,
    time: base.time ?? timeFact(at, zone, opts.businessHours ?? defaultBusinessHours(at, zone)),
  };
}
