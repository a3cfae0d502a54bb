import { createHttpClient } from '../http';
import type { PsaConnector, PsaSession, PsaTicket, PsaTicketState } from '../types';
import type { TicketStatus } from '../../core/tickets/ticket-status';
import type { CwContext } from './http';
import { listCompanies, listConfigurationItems, listContracts, listServices, listSlas, testConnection } from './reference';
import { CW_SECRET_FIELDS, connectWiseConfigSchema, cwPriority, type ConnectWiseConfig } from './schema';
import { addNote, attachConfiguration, closeTicket, createTicket, findTicketByMarker, getTicket, hubTicketIdOf, listClosedSince, updateTicket, type CwTicketState } from './tickets';

/**
 * ConnectWise PSA (formerly Manage), REST API 3.0. Tickets go to one service board; the hub's
 * ticket id is the ticket's `externalXRef` marker (ConnectWise has no external id of its own), so a
 * lost create is found again with a conditions search before it is retried. Status back is by
 * polling (`closedFlag` of the hub's tickets updated since the last poll).
 */
function statusMap(c: ConnectWiseConfig): Record<TicketStatus, string> {
  const closed = String(c.statusClosed);
  return {
    new: String(c.statusNew),
    in_progress: String(c.statusInProgress ?? c.statusNew),
    waiting_customer: String(c.statusWaitingCustomer ?? c.statusInProgress ?? c.statusNew),
    resolved: closed,
    closed,
  };
}

function stateOf(ctx: CwContext, t: CwTicketState): PsaTicketState {
  const map = statusMap(ctx.config);
  const name = t.status?.name ?? (t.status?.id === undefined ? '' : String(t.status.id));
  // closedFlag is ConnectWise's own "this status closes the ticket", whatever the board calls it.
  let status: TicketStatus | null = t.closedFlag === true ? 'closed' : null;
  if (status === null) status = (Object.keys(map) as TicketStatus[]).find((s) => s !== 'resolved' && s !== 'closed' && map[s] === name) ?? null;
  return { externalId: String(t.id), hubTicketId: hubTicketIdOf(ctx.config, t.externalXRef), status, psaStatus: name, lastActivityAt: t._info?.lastUpdated ?? null };
}

const noteText = (title: string, body: string): string => (title ? `${title}\n\n${body}` : body);

export const connectWiseConnector: PsaConnector<ConnectWiseConfig> = {
  type: 'connectwise',
  displayName: 'ConnectWise PSA (Manage)',
  docsUrl: 'https://developer.connectwise.com/Products/ConnectWise_PSA/REST',
  configSchema: connectWiseConfigSchema,
  secretFields: CW_SECRET_FIELDS,
  needsCompanyRef: true,
  priorityMap: (c) => ({
    critical: String(cwPriority(c, 'critical')),
    high: String(cwPriority(c, 'high')),
    medium: String(cwPriority(c, 'medium')),
    low: String(cwPriority(c, 'low')),
  }),
  statusMap,
  open(config, deps): PsaSession {
    const http = createHttpClient({ timeoutMs: deps.timeoutMs ?? config.timeoutMs, now: deps.now, beforeCall: deps.beforeCall });
    const ctx: CwContext = { config, http, now: deps.now };
    const input = (t: PsaTicket) => ({
      hubTicketId: t.hubTicketId,
      title: t.title,
      description: t.description,
      priority: t.priority,
      companyRef: t.refs.company ?? '',
      contractRef: t.refs.contract,
      deviceRef: t.refs.device,
      dueAt: t.dueAt,
    });
    return {
      async createTicket(ticket) {
        const id = await createTicket(ctx, input(ticket));
        return { externalId: String(id), number: String(id) };
      },
      async findByExternalId(hubTicketId) {
        const t = await findTicketByMarker(ctx, hubTicketId);
        return t ? { externalId: String(t.id), number: String(t.id) } : null;
      },
      async addNote(externalId, note) {
        await addNote(ctx, externalId, noteText(note.title, note.body));
      },
      async updateTicket(externalId, ticket) {
        // The company first (the agreement must be the new company's); a company without a ref is not sent (the ticket stays there).
        await updateTicket(ctx, externalId, { priority: ticket.priority, ...(ticket.refs.company ? { companyRef: ticket.refs.company } : {}), contractRef: ticket.refs.contract, dueAt: ticket.dueAt });
        // A crash between the create and the configuration's attach is healed by the next update.
        if (ticket.refs.device) await attachConfiguration(ctx, Number(externalId), ticket.refs.device);
      },
      async closeTicket(externalId, ticket) {
        await closeTicket(ctx, externalId, `The hub's ticket ${ticket.hubTicketId} was ${ticket.status === 'closed' ? 'closed' : 'resolved'}.`);
      },
      testConnection: () => testConnection(ctx),
      async getTicket(externalId) {
        const t = await getTicket(ctx, externalId);
        return t ? stateOf(ctx, t) : null;
      },
      async listChangedSince(since) {
        return (await listClosedSince(ctx, since)).map((t) => stateOf(ctx, t));
      },
      listCompanies: (cursor) => listCompanies(ctx, cursor),
      listContracts: (cursor) => listContracts(ctx, cursor),
      listServices: (cursor) => listServices(ctx, cursor),
      listSlas: (cursor) => listSlas(ctx, cursor),
      listConfigurationItems: (cursor) => listConfigurationItems(ctx, cursor),
      close: () => http.close(),
    };
  },
};
