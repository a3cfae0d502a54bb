/**
 * The rules engine's public vocabulary: the facts the worker hands to a decision, the decision
 * it gets back, and the issues validation reports. Facts are plain JSON (no database ids), so
 * the same rules file means the same thing in staging and production.
 */

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Priority = 'critical' | 'high' | 'medium' | 'low';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type ContractType =
  | 'recurring_service'
  | 'time_and_materials'
  | 'fixed_price'
  | 'block_hours'
  | 'retainer'
  | 'per_ticket';

export interface AlertFact {
  source: string;
  sourceAlertId: string;
  dedupKey: string;
  state: 'firing' | 'resolved';
  severity: Severity;
  category: string | null;
  title: string;
  message: string | null;
  hostname: string | null;
  site: string | null;
  labels: Record<string, string>;
  /** ISO 8601 instant with offset. */
  occurredAt: string;
}

export interface DeviceFact {
  hostname: string;
  site: string | null;
  role: string | null;
  /** First seen in an alert or an import rather than created by an admin (R-LINK-7). */
  discovered: boolean;
  /** The device existed before this alert (false: it was discovered by this very alert). */
  known: boolean;
}

export interface CompanyFact {
  name: string;
  code: string | null;
}

export interface ContractFact {
  name: string;
  code: string | null;
  type: ContractType;
  serviceName: string | null;
  serviceCode: string | null;
  slaName: string | null;
  slaCode: string | null;
}

export interface SlaFact {
  name: string;
  code: string | null;
  timezone: string;
}

export interface TimeFact {
  weekday: Weekday;
  hour: number;
  minute: number;
  /** Local date, YYYY-MM-DD. */
  date: string;
  isBusinessHours: boolean;
  /** IANA zone the other fields are local to (the SLA's, else the company's, else UTC). */
  timezone: string;
}

/**
 * Everything a rule can look at. Missing facts are `null`, never undefined; a path through a
 * null fact yields the null itself (json-rules-engine's behaviour), a path through a missing
 * property yields undefined — neither throws.
 */
export interface DecisionFacts {
  alert: AlertFact;
  device: DeviceFact | null;
  company: CompanyFact | null;
  /** The device's contract link effective on the alert's date (R-LINK-3). */
  deviceContract: ContractFact | null;
  /** The company's default service-desk contract active on the alert's date (R-LINK-4). */
  defaultContract: ContractFact | null;
  /** deviceContract ?? defaultContract. */
  contract: ContractFact | null;
  /** The SLA of `contract`. */
  sla: SlaFact | null;
  time: TimeFact;
}

export type FactName = keyof DecisionFacts;

/** `device` / `default`: the fact of that name; `{ ref }`: a contract by code or name; null: none. */
export type ContractChoice = 'device' | 'default' | { ref: string } | null;

export interface Assignment {
  contract: ContractChoice;
  /** A service by code or name; null: for contract `device` the link's service, else none. */
  service: string | null;
  /** An SLA by code or name; null: the contract's SLA. */
  sla: string | null;
  priority: Priority | null;
  queue: string | null;
}

export interface RuleEvent {
  type: string;
  params?: Record<string, unknown>;
}

/** A leaf condition that held when its rule fired: the evidence stored on the ticket. */
export interface MatchedCondition {
  fact: string;
  path?: string;
  operator: string;
  value: unknown;
  factValue: unknown;
  /** The leaf sits under a `not`: it was false, which is why the rule fired. */
  negated?: true;
}

export interface FiredRule {
  name: string;
  priority: number;
  file: string;
  event: RuleEvent;
  matched: MatchedCondition[];
}

export interface Decision {
  outcome: 'ticket' | 'suppress';
  assignment: Assignment;
  suppressReason?: string;
  holdOffSeconds?: number;
  reopenWindowMinutes?: number;
  staleAfterMinutes?: number;
  resolveAction?: 'resolve' | 'annotate';
  /** R-LINK-7: the first `link` event that fired — the device is linked to this contract (and service) if it has no link. */
  link?: { contract: string; service: string | null; rule: string };
  /** No contract could be chosen (R-LINK-4): the ticket is created without one, marked for triage. */
  needsTriage: boolean;
  rulesFired: FiredRule[];
  rulesetVersion: number;
  contentHash: string;
}

export type IssueSeverity = 'error' | 'warning';

/** One finding of validation: always names the file, the rule (when inside one) and the JSON pointer. */
export interface RuleIssue {
  severity: IssueSeverity;
  file: string;
  /** The rule's name (or `rules[i]` when it has none); null for file-level findings. */
  rule: string | null;
  /** RFC 6901 pointer into the file, '' for the whole file. */
  pointer: string;
  message: string;
  /** 1-based line and column in the file, when its text is known. */
  line?: number;
  column?: number;
}

/** Names and codes that exist in the database; null when it could not be reached. */
export interface RefCatalog {
  contracts: Set<string>;
  services: Set<string>;
  slas: Set<string>;
}
