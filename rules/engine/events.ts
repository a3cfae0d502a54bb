import { z } from 'zod';
import type { ContractChoice, Priority } from './types';

/**
 * The hub's event types and what each does to a decision. A rule's `event` is json-rules-engine's
 * `{ type, params }`; the params are validated here and normalised into an Effect, the only thing
 * the merge in decide.ts looks at.
 */

export const EVENT_TYPES = ['assign', 'setPriority', 'suppress', 'stop', 'link'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `contract` values that are not references; a contract with one of these names is referenced by code. */
export const RESERVED_CONTRACT_WORDS = ['device', 'default', 'none'] as const;

const PRIORITY_ALIASES: Record<string, Priority> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  p1: 'critical',
  p2: 'high',
  p3: 'medium',
  p4: 'low',
};

export const priorityInput = z
  .string()
  .refine((v) => Object.hasOwn(PRIORITY_ALIASES, v) || /^P[1-4]$/.test(v), {
    message: 'must be one of critical, high, medium, low (or P1, P2, P3, P4)',
  })
  .transform((v): Priority => PRIORITY_ALIASES[v.toLowerCase()] ?? 'medium');

const ref = z.string().trim().min(1).max(200);

const assignParams = z
  .strictObject({
    /** "device" | "default" | "none" | a contract's code or name. */
    contract: ref.optional(),
    service: ref.optional(),
    sla: ref.optional(),
    priority: priorityInput.optional(),
    queue: z.string().trim().min(1).max(100).optional(),
    /** Wait this long before opening a ticket; a resolve within it means no ticket. */
    holdOffSeconds: z.number().int().min(0).max(86_400).optional(),
    /** A re-fire within this many minutes of the ticket's resolution reopens it (R-ALR-4). */
    reopenWindowMinutes: z.number().int().min(0).max(43_200).optional(),
    /** Resolve the ticket when the alert has not repeated for this many minutes. */
    staleAfterMinutes: z.number().int().min(1).max(525_600).optional(),
    /** What a resolved alert does to its ticket. */
    resolveAction: z.enum(['resolve', 'annotate']).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, { message: '"assign" needs at least one of its params' });

/**
 * R-LINK-7 (issue 15 item 3): links the alert's device, when it has no link in force on the alert's
 * date, to a contract (and service) of its company from that date on — a dated link naming the rule.
 */
const linkParams = z.strictObject({
  /** A contract's code or name (not "device", "default" or "none"). */
  contract: ref.refine((v) => !(RESERVED_CONTRACT_WORDS as readonly string[]).includes(v), {
    message: `must name a contract by code or name, not ${RESERVED_CONTRACT_WORDS.join(' / ')}`,
  }),
  service: ref.optional(),
});

export const eventParamsSchemas = {
  assign: assignParams,
  setPriority: z.strictObject({ priority: priorityInput }),
  suppress: z.strictObject({ reason: z.string().trim().min(1).max(500) }),
  stop: z.strictObject({}).optional(),
  link: linkParams,
} as const;

/** What one fired rule contributes. Undefined fields leave the decision to later rules. */
export interface Effect {
  contract?: ContractChoice;
  service?: string;
  sla?: string;
  priority?: Priority;
  queue?: string;
  holdOffSeconds?: number;
  reopenWindowMinutes?: number;
  staleAfterMinutes?: number;
  resolveAction?: 'resolve' | 'annotate';
  suppress?: string;
  stop?: true;
  /** R-LINK-7: link the device to this contract (and service), refs as in `assign`. */
  link?: { contract: string; service?: string };
}

export type AssignParams = z.output<typeof assignParams>;

export function contractChoice(value: string): ContractChoice {
  if (value === 'device' || value === 'default') return value;
  if (value === 'none') return null;
  return { ref: value };
}

/** Builds the effect of validated params (the parse already succeeded). */
export function effectOf(type: EventType, params: unknown): Effect {
  switch (type) {
    case 'assign': {
      const p = assignParams.parse(params);
      const { contract, ...rest } = p;
      const effect: Effect = {};
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) Object.assign(effect, { [k]: v });
      if (contract !== undefined) effect.contract = contractChoice(contract);
      return effect;
    }
    case 'setPriority':
      return { priority: eventParamsSchemas.setPriority.parse(params).priority };
    case 'suppress':
      return { suppress: eventParamsSchemas.suppress.parse(params).reason };
    case 'stop':
      return { stop: true };
    case 'link': {
      const p = linkParams.parse(params);
      return { link: p.service === undefined ? { contract: p.contract } : { contract: p.contract, service: p.service } };
    }
  }
}
