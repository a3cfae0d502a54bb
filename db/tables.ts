/**
 * Row types of every table, in one place (Backstage catalog style). Conventions of the pg driver
 * as configured in db/connection.ts: bigint ids and numeric come back as strings, DATE as
 * 'YYYY-MM-DD' strings, timestamptz as Date.
 *
 * One file over 300 lines on purpose: only type declarations, one per table, looked up by name.
 */
export type Id = string;
export type Money = string;
export type IsoDate = string;

export interface CompanyRow {
  id: Id;
  name: string;
  code: string | null;
  /** IANA zone its alerts' dates are counted in (issue 15 item 5); null = the SLA's, else the hub's. */
  timezone: string | null;
  created_at: Date;
  updated_at: Date;
  /** Migration 20261206183000. */
  psa_refs?: PsaRefs;
}
export interface CompanySourceSiteRow { id: Id; company_id: Id; source: string; site_id: string; site_name: string | null }

export interface SlaRow { id: Id; name: string; code: string | null; timezone: string; is_24x7: boolean; created_at: Date; updated_at: Date; psa_refs?: PsaRefs }
export interface SlaBusinessHoursRow { id: Id; sla_id: Id; weekday: number; start_time: string; end_time: string }
export interface SlaHolidayRow { sla_id: Id; day: IsoDate; name: string | null }
export type Priority = 'critical' | 'high' | 'medium' | 'low';
export interface SlaTargetRow {
  sla_id: Id;
  priority: Priority;
  first_response_minutes: number;
  resolution_plan_minutes: number;
  resolution_minutes: number;
}

export interface ServiceRow { id: Id; name: string; code: string | null; unit_price: Money; unit_cost: Money | null; created_at: Date; updated_at: Date; psa_refs?: PsaRefs }
export interface ServiceBundleRow { id: Id; name: string; code: string | null; unit_price: Money; unit_cost: Money | null; created_at: Date; updated_at: Date }
export interface ServiceBundleItemRow { bundle_id: Id; service_id: Id }

export type ContractType = 'recurring_service' | 'time_and_materials' | 'fixed_price' | 'block_hours' | 'retainer' | 'per_ticket';
export type PeriodType = 'monthly' | 'quarterly' | 'semi_annual' | 'yearly';
export interface ContractRow {
  id: Id;
  company_id: Id;
  name: string;
  code: string | null;
  description: string | null;
  type: ContractType;
  period_type: PeriodType;
  status: 'active' | 'inactive';
  start_date: IsoDate;
  end_date: IsoDate;
  sla_id: Id | null;
  is_default_service_desk: boolean;
  integrated_billing: boolean;
  purchase_order: string | null;
  contact_name: string | null;
  auto_renew: boolean;
  auto_renew_days_before: number | null;
  renewal_of_id: Id | null;
  renewed_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Migration 20261206183000. */
  psa_refs?: PsaRefs;
}
export interface ContractServiceRow { id: Id; contract_id: Id; service_id: Id; units: Money; unit_price: Money; unit_cost: Money | null }
export interface ContractServiceAdjustmentRow {
  id: Id;
  contract_service_id: Id;
  effective_date: IsoDate;
  units: Money | null;
  unit_price: Money | null;
  created_at: Date;
}
export interface ContractBundleRow { id: Id; contract_id: Id; bundle_id: Id; units: Money; unit_price: Money; unit_cost: Money | null }
export interface ContractBundleAdjustmentRow {
  id: Id;
  contract_bundle_id: Id;
  effective_date: IsoDate;
  units: Money | null;
  unit_price: Money | null;
  created_at: Date;
}
export interface BillingRuleRow {
  id: Id;
  contract_id: Id;
  name: string;
  description: string | null;
  service_id: Id | null;
  amount: Money | null;
  frequency: 'monthly' | 'quarterly' | 'semi_annual' | 'yearly' | 'one_time';
  active: boolean;
  start_date: IsoDate;
  end_date: IsoDate | null;
  created_at: Date;
}
export interface ContractNoteRow { id: Id; contract_id: Id; kind: string; body: string; author: string | null; created_at: Date }
export interface ServiceMappingRow { id: Id; contract_id: Id; module_billing_type: string; service_id: Id }
export interface ContractChargeRow { id: Id; contract_id: Id; charge_date: IsoDate; description: string; amount: Money; billed: boolean; created_at: Date }
export interface ProjectRow { id: Id; company_id: Id; contract_id: Id | null; name: string; status: 'open' | 'closed'; created_at: Date }

export interface DeviceRow {
  id: Id;
  company_id: Id | null;
  hostname: string;
  site: string | null;
  role: string | null;
  discovered: boolean;
  first_seen_at: Date | null;
  last_seen_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Migration 20261206183000. */
  psa_refs?: PsaRefs;
}
export interface DeviceSourceRefRow { id: Id; device_id: Id; source: string; source_device_id: string }
export interface DeviceContractLinkRow {
  id: Id;
  device_id: Id;
  contract_id: Id;
  service_id: Id | null;
  valid_from: IsoDate;
  valid_to: IsoDate | null;
  /** The rule whose `link` event made it (R-LINK-7); null = by hand, import or renewal. */
  created_by_rule: string | null;
  /** Where it came from (migration 20261207040000): a device import row, a rules `link` event, or null (by hand, triage, renewal, older). */
  origin?: 'import' | 'rule' | null;
  created_at: Date;
}

export interface SourceRow {
  id: Id;
  name: string;
  plugin: string;
  config: Record<string, unknown>;
  auth_type: 'hmac' | 'token' | 'basic';
  auth_settings: Record<string, unknown>;
  auth_secrets_enc: string;
  max_body_bytes: number | null;
  rate_limit_per_second: number | null;
  /** Dot path into each alert's payload whose value is the site (SPEC §8 `siteField`). */
  site_field: string | null;
  enabled: boolean;
  origin: 'api' | 'file';
  created_at: Date;
  updated_at: Date;
}

export interface RulesetRow {
  id: Id;
  version: number;
  content_hash: string;
  content: unknown;
  activated_at: Date;
  activated_by: string;
  /** The file texts as saved (`[{ name, text }]`); null for versions recorded before 20261206182000. */
  files: unknown;
  /** Why the version was saved through the API; null for file edits. */
  message: string | null;
}

export type RuleReplayState = 'queued' | 'running' | 'done' | 'failed';
export interface RuleReplayRow {
  id: Id;
  state: RuleReplayState;
  since: Date;
  until: Date;
  /** `{ files: [{ name, text }] }`. */
  candidate: unknown;
  candidate_hash: string;
  live_version: number;
  progress_done: number;
  progress_total: number | null;
  cursor_alert_id: Id | null;
  error: string | null;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}
export interface RuleReplayChangeRow {
  replay_id: Id;
  alert_id: Id;
  occurred_at: Date;
  title: string;
  device: unknown;
  /** `[{ field, before, after }]`. */
  changes: unknown;
  fields: string[];
}
export interface RulesetErrorRow { id: Id; content_hash: string; errors: unknown; detected_at: Date; detected_by: string; resolved_at: Date | null }

export interface MaintenanceWindowRow {
  id: Id;
  name: string;
  company_id: Id | null;
  site: string | null;
  device_id: Id | null;
  category: string | null;
  timezone: string;
  time_intervals: unknown;
  starts_at: Date | null;
  ends_at: Date | null;
  process_after: boolean;
  created_at: Date;
}

export type TicketStatus = 'new' | 'in_progress' | 'waiting_customer' | 'resolved' | 'closed';
export const OPEN_TICKET_STATUSES: readonly TicketStatus[] = ['new', 'in_progress', 'waiting_customer'];
export interface TicketRow {
  id: Id;
  company_id: Id | null;
  device_id: Id | null;
  contract_id: Id | null;
  service_id: Id | null;
  sla_id: Id | null;
  source: string;
  dedup_key: string;
  priority: Priority;
  status: TicketStatus;
  queue: string | null;
  title: string;
  description: string | null;
  needs_triage: boolean;
  occurrences: number;
  flaps: number;
  first_occurred_at: Date;
  last_occurred_at: Date;
  /** The firing that last reopened it (issue 15 item 7); null = first_occurred_at. */
  episode_started_at: Date | null;
  first_response_due_at: Date | null;
  resolution_plan_due_at: Date | null;
  resolution_due_at: Date | null;
  sla_paused_at: Date | null;
  resolved_at: Date | null;
  resolved_automatically: boolean;
  closed_at: Date | null;
  stale_after_minutes: number | null;
  reopen_window_minutes: number | null;
  resolve_action: 'resolve' | 'annotate';
  decision: unknown;
  ruleset_version: number | null;
  /** Who works the ticket (R-TKT-1). */
  assignee: string | null;
  /** The first response: first status change out of `new`, or a note marked as the response (R-TKT-2). */
  first_response_at: Date | null;
  /** R-STORM-1: the group parent this ticket is a child of. */
  parent_ticket_id: Id | null;
  /** R-STORM-1: the storm group the ticket was counted in. */
  storm_group_id: Id | null;
  /** R-STORM-1: the ticket is a group's parent incident. */
  storm_parent: boolean;
  created_at: Date;
  updated_at: Date;
}
/** R-TKT-2: a target whose due date passed unmet, recorded once by the upkeep job. */
export interface TicketSlaBreachRow { id: Id; ticket_id: Id; target: 'response' | 'resolution'; due_at: Date; priority: Priority; recorded_at: Date }
export interface TicketNoteRow { id: Id; ticket_id: Id; kind: string; body: string; author: string | null; created_at: Date }
export interface TicketSlaPauseRow { id: Id; ticket_id: Id; paused_at: Date; resumed_at: Date | null }
export interface TimeEntryRow {
  id: Id;
  ticket_id: Id | null;
  project_id: Id | null;
  contract_id: Id | null;
  service_id: Id | null;
  work_date: IsoDate;
  hours: string;
  cost_rate: Money | null;
  description: string | null;
  created_at: Date;
}

export interface DeliveryRow {
  id: Id;
  source_id: Id;
  delivery_key: string | null;
  body_sha256: string;
  body_bytes: number;
  remote_addr: string | null;
  received_at: Date;
}
export type AlertStatus = 'received' | 'processed' | 'suppressed' | 'held' | 'failed';
export interface AlertRow {
  id: Id;
  source_id: Id;
  source_alert_id: string;
  dedup_key: string;
  state: 'firing' | 'resolved';
  severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  category: string | null;
  title: string;
  message: string | null;
  device_source_id: string | null;
  hostname: string | null;
  site: string | null;
  occurred_at: Date;
  labels: Record<string, string>;
  raw: unknown;
  first_delivery_id: Id;
  receipt_count: number;
  status: AlertStatus;
  ticket_id: Id | null;
  outcome: string | null;
  decision: unknown;
  ruleset_version: number | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}
export interface AlertReceiptRow {
  id: Id;
  alert_id: Id;
  delivery_id: Id;
  received_at: Date;
  enqueued_at: Date | null;
  not_before: Date | null;
  processed_at: Date | null;
  outcome: string | null;
  ticket_id: Id | null;
  attempts: number;
  error: string | null;
  /** The BullMQ job carrying the receipt now (issue 13 item 2); NULL before it was marked enqueued. */
  job_id: string | null;
  /** Times the receipt sweeper re-drove it (its job was no longer live). */
  redrives: number;
  dead_lettered_at: Date | null;
  dead_lettered_by: string | null;
  dead_letter_reason: string | null;
}

export interface RenewalApplicationRow {
  id: Id;
  renewal_contract_id: Id;
  original_contract_id: Id;
  effective_date: IsoDate;
  applied_at: Date | null;
  applied_by: string | null;
  created_at: Date;
}

export type Role = 'admin' | 'operator' | 'viewer';
export interface ApiTokenRow {
  id: Id;
  name: string;
  prefix: string;
  token_hash: string;
  role: Role;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  /** true = every company; false = only its api_token_companies rows (none = nothing). Issue 13 item 1. */
  all_companies: boolean;
}
export interface AuditLogRow {
  id: Id;
  at: Date;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string | null;
  company_id: Id | null;
  before: unknown;
  after: unknown;
  request_id: string | null;
}

/** Issue 16: PSA connections (migration 20261206183000). Secrets are in `secrets_enc`, never in `config`. */
export interface PsaConnectionRow {
  id: Id;
  name: string;
  type: 'autotask' | 'connectwise' | 'webhook';
  enabled: boolean;
  config: Record<string, unknown>;
  secrets_enc: string;
  /** Migration 20261206183100; null = the type's default. */
  rate_limit_per_hour: number | null;
  created_at: Date;
  updated_at: Date;
}
export type PsaDeliveryState = 'pending' | 'delivered' | 'failed' | 'skipped';
/** The outbox of PSA delivery: one row per (ticket, connection); see the migration for the meaning of the counters. */
export interface PsaDeliveryRow {
  id: Id;
  ticket_id: Id;
  connection_id: Id;
  state: PsaDeliveryState;
  rank: number;
  external_id: string | null;
  external_number: string | null;
  attempts: number;
  last_error: string | null;
  pending_occurrences: number;
  occurrences_since: Date | null;
  pending_notes: Array<{ title: string; body: string }>;
  change_seq: string;
  sent_seq: string;
  closed_in_psa: boolean;
  claimed_by: string | null;
  claimed_until: Date | null;
  pending_since: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
}
/** `psa_refs` of companies, contracts, services, slas and devices: connection name → the PSA's id. */
export type PsaRefs = Record<string, string>;
