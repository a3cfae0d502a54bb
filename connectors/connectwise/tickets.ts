import { PsaError } from '../types';
import { conditionDate, conditionString, cwCall, cwListAll, type CwContext } from './http';
import { cwPriority, refObject, type ConnectWiseConfig, type HubPriority } from './schema';

/** What the hub sends for a new ticket; the refs are the `psaRefs` of the ticket's records for this connection. */
export interface CwTicketInput {
  hubTicketId: string;
  title: string;
  /** The alert message plus the hub's decision in plain words. */
  description: string;
  priority: HubPriority;
  /** The company's ConnectWise id (required: a ticket of a company without a ref is not sent). */
  companyRef: string;
  /** The contract's ConnectWise agreement id (R-LINK-3). */
  contractRef?: string | null | undefined;
  /** The device's ConnectWise configuration id. */
  deviceRef?: string | null | undefined;
  /** The hub's resolution due date (ISO instant): ConnectWise's `requiredDate`. */
  dueAt?: string | null | undefined;
}

export interface CwTicketChange {
  priority?: HubPriority | undefined;
  /** The company's ConnectWise id: a ticket moved to another company in the hub moves there too. */
  companyRef?: string | undefined;
  contractRef?: string | null | undefined;
  title?: string | undefined;
  dueAt?: string | null | undefined;
}

/** The part of a ConnectWise ticket the hub reads. */
export interface CwTicketState {
  id: number;
  externalXRef?: string | null;
  closedFlag?: boolean;
  status?: { id?: number; name?: string };
  _info?: { lastUpdated?: string };
}

const TICKET_FIELDS = 'id,externalXRef,closedFlag,status,_info';

export const marker = (config: ConnectWiseConfig, hubTicketId: string): string => `${config.markerPrefix}${hubTicketId}`;

/** Hub ticket id of a marker of this connection, or null when the ticket was not made by this hub. */
export function hubTicketIdOf(config: ConnectWiseConfig, externalXRef: string | null | undefined): string | null {
  if (typeof externalXRef !== 'string' || !externalXRef.startsWith(config.markerPrefix)) return null;
  const id = externalXRef.slice(config.markerPrefix.length);
  return /^\d{1,19}$/.test(id) ? id : null;
}

const numericId = (what: string, ref: string): number => {
  if (!/^\d{1,12}$/.test(ref)) throw new PsaError('permanent', `${what} "${ref}" is not a ConnectWise id`);
  return Number(ref);
};

// ConnectWise's summary is at most 100 characters; initialDescription is long text.
const SUMMARY_MAX = 100;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
const cwInstant = (iso: string): string => iso.replace(/\.\d{3}(?=Z$)/, '');

/** The ticket the hub created for hubTicketId earlier (a crash or a lost answer), found by its marker. */
export async function findTicketByMarker(ctx: CwContext, hubTicketId: string): Promise<CwTicketState | null> {
  const found = await cwCall<CwTicketState[]>(ctx, {
    method: 'GET',
    path: '/service/tickets',
    query: { conditions: `externalXRef=${conditionString(marker(ctx.config, hubTicketId))}`, fields: TICKET_FIELDS, orderBy: 'id asc', pageSize: 2 },
  });
  return Array.isArray(found) && found.length > 0 ? (found[0] ?? null) : null;
}

/** The create body of POST /service/tickets. */
export function ticketBody(config: ConnectWiseConfig, input: CwTicketInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    summary: clip(input.title.replace(/\s+/g, ' ').trim() || `Hub ticket ${input.hubTicketId}`, SUMMARY_MAX),
    externalXRef: marker(config, input.hubTicketId),
    company: { id: numericId('company ref', input.companyRef) },
    board: refObject(config.board),
    status: refObject(config.statusNew),
    priority: refObject(cwPriority(config, input.priority)),
    initialDescription: input.description,
  };
  if (input.contractRef) body.agreement = { id: numericId('agreement ref', input.contractRef) };
  if (input.dueAt) body.requiredDate = cwInstant(input.dueAt);
  return body;
}

/** Attaches the device as a configuration of the ticket, once (a retried call finds it attached). */
export async function attachConfiguration(ctx: CwContext, ticketId: number, deviceRef: string): Promise<void> {
  const configurationId = numericId('device ref', deviceRef);
  const attached = await cwCall<Array<{ id: number }>>(ctx, { method: 'GET', path: `/service/tickets/${ticketId}/configurations`, query: { fields: 'id', pageSize: 1000 } });
  if (Array.isArray(attached) && attached.some((c) => c.id === configurationId)) return;
  await cwCall(ctx, { method: 'POST', path: `/service/tickets/${ticketId}/configurations`, body: { id: configurationId } });
}

/** POST /service/tickets, then the configuration. Returns the ConnectWise ticket id. */
export async function createTicket(ctx: CwContext, input: CwTicketInput): Promise<number> {
  const created = await cwCall<{ id?: unknown }>(ctx, { method: 'POST', path: '/service/tickets', body: ticketBody(ctx.config, input) });
  if (typeof created?.id !== 'number') throw new PsaError('transient', 'ConnectWise created a ticket but answered no id');
  if (input.deviceRef) await attachConfiguration(ctx, created.id, input.deviceRef);
  return created.id;
}

/**
 * Exactly once towards a system without idempotency keys: look the marker up, create only when
 * absent, and (again) make sure the configuration is attached — a crash may have come between the two.
 */
export async function ensureTicket(ctx: CwContext, input: CwTicketInput): Promise<{ id: number; created: boolean }> {
  const earlier = await findTicketByMarker(ctx, input.hubTicketId);
  if (earlier) {
    if (input.deviceRef) await attachConfiguration(ctx, earlier.id, input.deviceRef);
    return { id: earlier.id, created: false };
  }
  return { id: await createTicket(ctx, input), created: true };
}

export type CwNoteKind = 'internal' | 'discussion' | 'resolution';

/** POST /service/tickets/{id}/notes; the hub's notes are internal analysis unless said otherwise. */
export async function addNote(ctx: CwContext, ticketId: string, text: string, kind: CwNoteKind = 'internal'): Promise<void> {
  const flags = kind === 'resolution' ? { resolutionFlag: true } : kind === 'discussion' ? { detailDescriptionFlag: true } : { internalAnalysisFlag: true };
  await cwCall(ctx, { method: 'POST', path: `/service/tickets/${numericId('ticket', ticketId)}/notes`, body: { text, ...flags } });
}

/** PATCH /service/tickets/{id} with JSON Patch operations (ConnectWise's update format). */
export async function updateTicket(ctx: CwContext, ticketId: string, change: CwTicketChange): Promise<void> {
  const ops: Array<{ op: 'replace'; path: string; value: unknown }> = [];
  if (change.priority !== undefined) ops.push({ op: 'replace', path: 'priority', value: refObject(cwPriority(ctx.config, change.priority)) });
  if (change.companyRef !== undefined) ops.push({ op: 'replace', path: 'company', value: { id: numericId('company ref', change.companyRef) } });
  if (change.title !== undefined) ops.push({ op: 'replace', path: 'summary', value: clip(change.title, SUMMARY_MAX) });
  if (change.contractRef !== undefined)
    ops.push({ op: 'replace', path: 'agreement', value: change.contractRef === null ? null : { id: numericId('agreement ref', change.contractRef) } });
  if (change.dueAt !== undefined) ops.push({ op: 'replace', path: 'requiredDate', value: change.dueAt === null ? null : cwInstant(change.dueAt) });
  if (ops.length === 0) return;
  await cwCall(ctx, { method: 'PATCH', path: `/service/tickets/${numericId('ticket', ticketId)}`, body: ops });
}

/** Sets the configured closed status (and the resolution as a resolution note first, when given). */
export async function closeTicket(ctx: CwContext, ticketId: string, resolution?: string): Promise<void> {
  if (resolution !== undefined && resolution !== '') await addNote(ctx, ticketId, resolution, 'resolution');
  await cwCall(ctx, {
    method: 'PATCH',
    path: `/service/tickets/${numericId('ticket', ticketId)}`,
    body: [{ op: 'replace', path: 'status', value: refObject(ctx.config.statusClosed) }],
  });
}

/** GET /service/tickets/{id}: its closed flag and status (null when ConnectWise has no such ticket). */
export async function getTicket(ctx: CwContext, ticketId: string): Promise<CwTicketState | null> {
  try {
    return await cwCall<CwTicketState>(ctx, { method: 'GET', path: `/service/tickets/${numericId('ticket', ticketId)}`, query: { fields: TICKET_FIELDS } });
  } catch (e) {
    if (e instanceof PsaError && e.details.status === 404) return null;
    throw e;
  }
}

/**
 * The status-back poll: the hub's tickets (by marker) closed in ConnectWise and updated after
 * `since`. `lastUpdated` is ConnectWise's own change stamp; the caller keeps the newest one it saw.
 */
export async function listClosedSince(ctx: CwContext, since: Date): Promise<CwTicketState[]> {
  const conditions = [`lastUpdated > ${conditionDate(since)}`, `closedFlag = true`, `externalXRef like ${conditionString(`${ctx.config.markerPrefix}*`)}`].join(' and ');
  return cwListAll<CwTicketState>(ctx, '/service/tickets', { conditions, fields: TICKET_FIELDS, orderBy: 'id asc' });
}
