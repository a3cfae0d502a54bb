import type { z } from 'zod';
import type { Priority } from '../core/slas/due-dates';
import type { TicketStatus } from '../core/tickets/ticket-status';

/**
 * The outbound connector contract (issue 16 item 1): the mirror of an inbound plugin
 * (plugins/types.ts). A connector is a value — its type name, a strict zod config schema with the
 * secret fields named, the status and priority maps, and `open()`, which gives the operations on
 * one configured connection. No class hierarchy, no `this`.
 *
 * Errors: every operation throws a {@link PsaError} for a failed call, classified transient (429,
 * 5xx, timeouts, connection refused: retry later, honouring `retryAfterMs`) or permanent (other
 * 4xx: retrying the same request cannot help; the PSA's own message is kept for the operator).
 */
export const PSA_TYPES = ['autotask', 'connectwise', 'webhook'] as const;
export type PsaType = (typeof PSA_TYPES)[number];

/** The PSA ids of the hub records a ticket refers to (from their `psaRefs[<connection>]`). */
export interface PsaTicketRefs {
  company: string | null;
  device: string | null;
  contract: string | null;
  service: string | null;
  sla: string | null;
}

/** A hub ticket as a connector sees it: everything it may copy into the PSA's ticket. */
export interface PsaTicket {
  /** The hub's ticket id: the PSA ticket's external id (Autotask `externalID`), how a lost create is found again. */
  hubTicketId: string;
  title: string;
  /** The alert's message plus the hub's decision in plain words (contract, service, SLA, why). */
  description: string;
  priority: Priority;
  status: TicketStatus;
  queue: string | null;
  /** The hub's resolution due date (ISO 8601), or null without an SLA. */
  dueAt: string | null;
  occurrences: number;
  firstOccurredAt: string;
  refs: PsaTicketRefs;
  /** Names of the records, for receivers without ids (webhook) and for the description. */
  names: { company: string | null; device: string | null; contract: string | null; service: string | null; sla: string | null };
}

/** What the PSA answered for a created or found ticket. */
export interface PsaTicketHandle {
  /** The PSA's id of the ticket (Autotask `itemId` / `id`). */
  externalId: string;
  /**
   * The number technicians see (Autotask `ticketNumber`, e.g. T20261206.0001), when the PSA has one
   * and answered it here (Autotask's create does not: see {@link PsaSession.ticketNumbers}).
   */
  number: string | null;
}

export interface PsaNote {
  title: string;
  body: string;
}

/** A ticket's state in the PSA, for status back (item 4, psaback). */
export interface PsaTicketState {
  externalId: string;
  hubTicketId: string | null;
  /** The hub status the PSA's status maps to (statusMap reversed), or null when it has no meaning for the hub. */
  status: TicketStatus | null;
  psaStatus: string;
  lastActivityAt: string | null;
}

/** One page of a list (import, item 5, psaback). */
export interface PsaPage<T> {
  items: T[];
  /** Opaque cursor of the next page; null on the last one. */
  next: string | null;
}

/** A record of the PSA as the import sees it: its id, its name and the raw fields the importer maps. */
export interface PsaRecord {
  externalId: string;
  name: string;
  fields: Record<string, unknown>;
}

/** What `hub psa register-webhook` asks of a connector (issue 16 item 4). */
export interface WebhookRegistration {
  /** `https://<hub>/hooks/psa/<connection>`. */
  webhookUrl: string;
  deactivationUrl: string;
  secretKey: string;
  name: string;
  notificationEmail?: string | null;
}

export interface WebhookRegistrationResult {
  webhookId: string;
  guid: string | null;
  /** Created now (false: found by its URL and brought up to date). */
  created: boolean;
  /** The status field subscription was added now (false: it was there already). */
  statusFieldAdded: boolean;
}

export interface ConnectionCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** The answer of `POST /api/v1/psa-connections/:name/test`: what worked and what did not. */
export interface ConnectionTestResult {
  ok: boolean;
  checks: ConnectionCheck[];
}

/**
 * The operations on one configured connection. Required ones are what delivery needs; the
 * optional ones are for status back and import (psaback): a connector that lacks them simply
 * does not offer that feature.
 */
export interface PsaSession {
  createTicket(ticket: PsaTicket): Promise<PsaTicketHandle>;
  /**
   * The numbers technicians see of tickets this session created, by PSA id, read in one call after a
   * run's creates (Autotask answers a create with its id only). A connector whose create answers the
   * number, or that has none, leaves this out. Ids the PSA no longer knows are missing from the map.
   */
  ticketNumbers?(externalIds: readonly string[]): Promise<Map<string, string>>;
  /** The ticket created earlier for this hub ticket, or null: called before every retried create. */
  findByExternalId(hubTicketId: string): Promise<PsaTicketHandle | null>;
  addNote(externalId: string, note: PsaNote, ticket: PsaTicket): Promise<void>;
  /** Priority, status, contract/service/SLA, due date changed in the hub. */
  updateTicket(externalId: string, ticket: PsaTicket): Promise<void>;
  /** The hub ticket was resolved or closed. */
  closeTicket(externalId: string, ticket: PsaTicket): Promise<void>;
  testConnection(): Promise<ConnectionTestResult>;
  getTicket?(externalId: string): Promise<PsaTicketState | null>;
  listChangedSince?(since: Date): Promise<PsaTicketState[]>;
  listCompanies?(cursor: string | null): Promise<PsaPage<PsaRecord>>;
  listContracts?(cursor: string | null): Promise<PsaPage<PsaRecord>>;
  listServices?(cursor: string | null): Promise<PsaPage<PsaRecord>>;
  listSlas?(cursor: string | null): Promise<PsaPage<PsaRecord>>;
  listConfigurationItems?(cursor: string | null): Promise<PsaPage<PsaRecord>>;
  /** Registers the PSA's ticket webhook for status back (Autotask TicketWebhooks), idempotent by its URL. */
  registerWebhook?(input: WebhookRegistration): Promise<WebhookRegistrationResult>;
  /** Releases sockets (keep-alive agents). */
  close?(): Promise<void>;
}

export interface ConnectorDeps {
  /** The connection's name (logs, webhook ids). */
  connectionName: string;
  now: () => Date;
  /**
   * Where the Autotask zone is looked up (`https://webservices.autotask.net/atservicesrest`);
   * HUB_AUTOTASK_ZONE_LOOKUP_URL points tests and the demo at a local stand-in.
   */
  autotaskZoneLookupUrl?: string;
  /** Per-request timeout. @defaultValue 15000 */
  timeoutMs?: number;
  /**
   * Called before every HTTP request of the session (the delivery worker's per-connection rate
   * limit: one point per PSA call). What it throws propagates and the request is not sent.
   */
  beforeCall?: () => Promise<void>;
}

/**
 * A connector. `C` is its whole config (secrets included, as posted); `secretFields` names the
 * keys that are split off, encrypted at rest and never returned or logged.
 */
export interface PsaConnector<C extends Record<string, unknown> = Record<string, unknown>> {
  type: PsaType;
  displayName: string;
  /** The vendor's API documentation. */
  docsUrl: string;
  configSchema: z.ZodType<C>;
  secretFields: readonly string[];
  /**
   * True when a ticket can only be created for a company the PSA knows (Autotask, ConnectWise):
   * a ticket whose company has no `psaRefs[<connection>]` is not sent there and says so (R-PSA-1).
   */
  needsCompanyRef: boolean;
  /** The hub priority → the PSA's priority value (picklist id), defaults overridable in config. */
  priorityMap(config: C): Record<Priority, string>;
  /** The hub status → the PSA's status value; `open()` and `closed()` of the PSA. */
  statusMap(config: C): Record<TicketStatus, string>;
  open(config: C, deps: ConnectorDeps): PsaSession;
}

/** How a failed PSA call is treated (transient: retry with backoff; permanent: the delivery fails, visible and retryable). */
export type PsaErrorKind = 'transient' | 'permanent';

export class PsaError extends Error {
  override name = 'PsaError';
  constructor(
    readonly kind: PsaErrorKind,
    message: string,
    readonly details: {
      /** HTTP status, when there was an answer. */
      status?: number;
      /** From the PSA's Retry-After, in ms. */
      retryAfterMs?: number;
      /** The PSA's own message(s), kept for the operator. */
      psaMessage?: string;
    } = {},
  ) {
    super(message);
  }
}

/** HTTP status → kind: 408, 425, 429 and 5xx are transient; any other 4xx permanent. */
export function classifyStatus(status: number): PsaErrorKind {
  return status === 408 || status === 425 || status === 429 || status >= 500 ? 'transient' : 'permanent';
}

/** Retry-After (seconds or an HTTP date) in ms, or undefined. */
export function retryAfterMs(header: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
