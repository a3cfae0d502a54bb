import { conditionDate, conditionString, ConnectWiseError, cwCall, cwListAll, type CwFetch } from './http';
import { cwPriority, refObject, type ConnectWiseConfig } from './schema';

/** The hub's priorities (core/tickets). */
export type HubPriority = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** What the hub sends for a new ticket; the refs are the `psaRefs` of the ticket's records for this connection. */
export interface CwTicketInput {
  hubTicketId: string;
  title: string;
  /** The alert message plus the hub's decision in plain words. */
  description: string;
  priority: HubPriority;
  /** The company's ConnectWise id (required: a ticket of a company without a ref is not sent). */
  companyRef: string;
  /** The contract's ConnectWise agreement id. */
  contractRef?: string | undefined;
  /** The device's ConnectWise configuration id. */
  deviceRef?: string | undefined;
  /** The hub's resolution due date (ISO instant): ConnectWise's `requiredDate`. */
  dueAt?: string | undefined;
}

export interface CwTicketChange {
  priority?: HubPriority | undefined;
  contractRef?: string | null | undefined;
  title?: string | undefined;
}

/** The part of a ConnectWise ticket the hub reads. */
export interface CwTicketState {
  id: number;
  externalXRef?: string | null;
  closedFlag?: boolean;
  status?: { id?: number; name?: string };
  _info?: { lastUpdated?: string };
}

export const marker = (config: ConnectWiseConfig, hubTicketId: string): string => `${config.markerPrefix}${hubTicketId}`;

/** Hub ticket id of a marker of this connection, or null when the ticket was not made by this hub. */
export function hubTicketIdOf(config: ConnectWiseConfig, externalXRef: string | null | undefined): string | null {
  if (typeof externalXRef !== 'string' || !externalXRef.startsWith(config.markerPrefix)) return null;
  const id = externalXRef.slice(config.markerPrefix.length);
  return /^\d{1,19}$/.test(id) ? id : null;
}

const numericId = (what: string, ref: string): number => {
  if (!/^\d{1,12}$/.test(ref)) throw new ConnectWiseError('permanent', `${what} "${ref}" is not a ConnectWise id`);
  return Number(ref);
};

// CW's summary is at most 100 characters; initialDescription is long text.
const SUMMARY_MAX = 100;
const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** The ticket the hub created for hubTicketId earlier (a crash or a lost answer), found by its marker. */
export async function findTicketByMarker(config: ConnectWiseConfig, hubTicketId: string, fetchImpl?: CwFetch): Promise<CwTicketState | null> {
  const found = await cwCall<CwTicketState[]>(
    config,
    {
      method: 'GET',
      path: '/service/tickets',
      query: { conditions: `externalXRef=${conditionString(marker(config, hubTicketId))}`, fields: 'id,externalXRef,closedFlag,status,_info', orderBy: 'id asc', pageSize: 2 },
    },
    fetchImpl,
  );
  if (!Array.isArray(found) || found.length === 0) return null;
  return found[0] ?? null;
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
  if (input.contractRef !== undefined) body.agreement = { id: numericId('agreement ref', input.contractRef) };
  if (input.dueAt !== undefined) body.requiredDate = input.dueAt.replace(/\.\d{3}(?=Z$)/, '');
  return body;
}

/** Attaches the device as a configuration of the ticket, once (a retried call finds it attached). */
export async function attachConfiguration(config: ConnectWiseConfig, ticketId: number, deviceRef: string, fetchImpl?: CwFetch): Promise<void> {
  const configurationId = numericId('device ref', deviceRef);
  const attached = await cwCall<Array<{ id: number }>>(config, { method: 'GET', path: `/service/tickets/${ticketId}/configurations`, query: { fields: 'id', pageSize: 1000 } }, fetchImpl);
  if (Array.isArray(attached) && attached.some((c) => c.id === configurationId)) return;
  await cwCall(config, { method: 'POST', path: `/service/tickets/${ticketId}/configurations`, body: { id: configurationId } }, fetchImpl);
}

/** POST /service/tickets, then the configuration. Returns the ConnectWise ticket id. */
export async function createTicket(config: ConnectWiseConfig, input: CwTicketInput, fetchImpl?: CwFetch): Promise<number> {
  const created = await cwCall<{ id?: unknown }>(config, { method: 'POST', path: '/service/tickets', body: ticketBody(config, input) }, fetchImpl);
  if (typeof created?.id !== 'number') throw new ConnectWiseError('transient', 'ConnectWise created a ticket but answered no id');
  if (input.deviceRef !== undefined) await attachConfiguration(config, created.id, input.deviceRef, fetchImpl);
  return created.id;
}

/**
 * Exactly once towards a system without idempotency keys: look the marker up, create only when absent,
 * and (again) make sure the configuration is attached — a crash may have come between the two calls.
 */
export async function ensureTicket(config: ConnectWiseConfig, input: CwTicketInput, fetchImpl?: CwFetch): Promise<{ id: number; created: boolean }> {
  const earlier = await findTicketByMarker(config, input.hubTicketId, fetchImpl);
  if (earlier) {
    if (input.deviceRef !== undefined) await attachConfiguration(config, earlier.id, input.deviceRef, fetchImpl);
    return { id: earlier.id, created: false };
  }
  return { id: await createTicket(config, input, fetchImpl), created: true };
}

export type CwNoteKind = 'internal' | 'discussion' | 'resolution';

/** POST /service/tickets/{id}/notes; the hub's notes are internal analysis unless said otherwise. */
export async function addNote(config: ConnectWiseConfig, ticketId: string, text: string, kind: CwNoteKind = 'internal', fetchImpl?: CwFetch): Promise<void> {
  const flags =
    kind === 'resolution' ? { resolutionFlag: true } : kind === 'discussion' ? { detailDescriptionFlag: true } : { internalAnalysisFlag: true };
  await cwCall(config, { method: 'POST', path: `/service/tickets/${numericId('ticket', ticketId)}/notes`, body: { text, ...flags } }, fetchImpl);
}

/** PATCH /service/tickets/{id} with JSON Patch operations (ConnectWise's update format). */
export async function updateTicket(config: ConnectWiseConfig, ticketId: string, change: CwTicketChange, fetchImpl?: CwFetch): Promise<void> {
  const ops: Array<{ op: 'replace'; path: string; value: unknown }> = [];
  if (change.priority !== undefined) ops.push({ op: 'replace', path: 'priority', value: refObject(cwPriority(config, change.priority)) });
  if (change.title !== undefined) ops.push({ op: 'replace', path: 'summary', value: clip(change.title, SUMMARY_MAX) });
  if (change.contractRef !== undefined)
    ops.push({ op: 'replace', path: 'agreement', value: change.contractRef === null ? null : { id: numericId('agreement ref', change.contractRef) } });
  if (ops.length === 0) return;
  await cwCall(config, { method: 'PATCH', path: `/service/tickets/${numericId('ticket', ticketId)}`, body: ops }, fetchImpl);
}

/** Sets the configured closed status (and the resolution as a resolution note first, when given). */
export async function closeTicket(config: ConnectWiseConfig, ticketId: string, resolution?: string, fetchImpl?: CwFetch): Promise<void> {
  if (resolution !== undefined && resolution !== '') await addNote(config, ticketId, resolution, 'resolution', fetchImpl);
  await cwCall(
    config,
    { method: 'PATCH', path: `/service/tickets/${numericId('ticket', ticketId)}`, body: [{ op: 'replace', path: 'status', value: refObject(config.statusClosed) }] },
    fetchImpl,
  );
}

/** GET /service/tickets/{id}: its closed flag and status (polling one ticket). */
export async function getTicket(config: ConnectWiseConfig, ticketId: string, fetchImpl?: CwFetch): Promise<CwTicketState | null> {
  try {
    return await cwCall<CwTicketState>(config, { method: 'GET', path: `/service/tickets/${numericId('ticket', ticketId)}`, query: { fields: 'id,externalXRef,closedFlag,status,_info' } }, fetchImpl);
  } catch (e) {
    if (e instanceof ConnectWiseError && e.status === 404) return null;
    throw e;
  }
}

/**
 * The status-back poll: the hub's tickets (by marker) closed in ConnectWise and updated since `since`.
 * `lastUpdated` is ConnectWise's own change stamp; the caller keeps the newest one it saw as the next `since`.
 */
export async function listClosedSince(config: ConnectWiseConfig, since: Date, fetchImpl?: CwFetch): Promise<CwTicketState[]> {
  const conditions = [`lastUpdated > ${conditionDate(since)}`, `closedFlag = true`, `externalXRef like ${conditionString(`${config.markerPrefix}*`)}`].join(' and ');
  return cwListAll<CwTicketState>(config, '/service/tickets', { conditions, fields: 'id,externalXRef,closedFlag,status,_info', orderBy: 'id asc' }, { fetchImpl });
}
