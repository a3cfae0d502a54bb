import type { Priority } from '../../core/slas/due-dates';
import type { TicketStatus } from '../../core/tickets/ticket-status';
import { createHttpClient, httpError, type JsonResponse } from '../http';
import { PsaError, type ConnectionCheck, type ConnectorDeps, type PsaConnector, type PsaSession, type PsaTicket, type PsaTicketHandle, type PsaTicketState } from '../types';
import { reverseStatusMap } from '../../core/psa/status-back';
import { queryAll, type AtContext } from './query';
import { listCompanies, listConfigurationItems, listContracts, listServices, listSlas } from './reference';
import { AUTOTASK_SECRET_FIELDS, autotaskConfigSchema, type AutotaskConfig } from './schema';
import { registerTicketWebhook } from './webhooks';

/**
 * Autotask PSA, REST API v1.0 (https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/REST_API_Home.htm).
 *
 * - Auth: the headers `ApiIntegrationCode`, `UserName`, `Secret` on every call.
 * - Zone: `GET <lookup>/v1.0/zoneInformation?user=<UserName>` answers `{ url }` (the zone's
 *   `…/atservicesrest/`); looked up once per session unless `baseUrl` is configured.
 * - `POST /v1.0/Tickets` answers `{ itemId }`; `PATCH /v1.0/Tickets` with `{ id, … }`;
 *   `POST /v1.0/Tickets/query` with `{ filter: [{ op, field, value }] }` answers `{ items }`;
 *   notes: `POST /v1.0/Tickets/{id}/Notes` (TicketNotes, a child entity). The ticket number
 *   (`ticketNumber`) is not in the create's answer: `ticketNumbers` reads those of a whole delivery
 *   run's creates in one `POST /v1.0/Tickets/query` with `id in [...]`.
 * - Status back: `listChangedSince` (the polling fallback) queries Tickets with
 *   `lastActivityDate gt <since>` and an `externalID` (only tickets the hub made), page by page
 *   (`pageDetails.nextPageUrl`, query.ts); `registerWebhook` registers the hub's ticket webhook
 *   (webhooks.ts).
 * - Import: companies, the SLA picklist, services, contracts with their service lines, configuration
 *   items (reference.ts).
 * - Errors: `{ errors: ["…"] }`; 429 and 5xx transient (Autotask slows or refuses clients near
 *   its 10,000 requests an hour per database), any other 4xx permanent with its message.
 *
 * Why not `@apigrate/autotask-restapi`: it wraps the same few calls, but its zone lookup host is
 * fixed (tests and the demo need a local stand-in), it has no request timeout or error
 * classification, and it would add a second HTTP stack beside undici; the calls used here are
 * five, each a few lines over {@link createHttpClient}.
 */
export const DEFAULT_ZONE_LOOKUP_URL = 'https://webservices.autotask.net/atservicesrest';

/** Title and description limits of the Tickets entity. */
const TITLE_MAX = 255;
const DESCRIPTION_MAX = 8000;
/** Without an SLA the hub has no due date; Autotask requires one: this long after the first occurrence. */
const DEFAULT_DUE_HOURS = 24;

function statusMap(c: AutotaskConfig): Record<TicketStatus, string> {
  return {
    new: String(c.statusNew),
    in_progress: String(c.statusInProgress),
    waiting_customer: String(c.statusWaitingCustomer),
    resolved: String(c.statusComplete),
    closed: String(c.statusComplete),
  };
}

function priorityMap(c: AutotaskConfig): Record<Priority, string> {
  const m = c.priorityMap;
  return { critical: String(m.critical), high: String(m.high), medium: String(m.medium), low: String(m.low) };
}

const int = (v: string | null): number | undefined => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined);

/** The PSA's message of an `{ errors: [...] }` answer (or whatever text it sent). */
export function autotaskMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'errors' in body && Array.isArray((body as { errors: unknown }).errors)) {
    return (body as { errors: unknown[] }).errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ');
  }
  return typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body ?? '').slice(0, 500);
}

/** The Tickets fields of a hub ticket (R-LINK-3/5: contract and SLA copied; the service is named in the description). */
export function ticketFields(c: AutotaskConfig, t: PsaTicket): Record<string, unknown> {
  const due = t.dueAt ?? new Date(new Date(t.firstOccurredAt).getTime() + DEFAULT_DUE_HOURS * 3_600_000).toISOString();
  const fields: Record<string, unknown> = {
    companyID: int(t.refs.company),
    title: t.title.slice(0, TITLE_MAX),
    description: t.description.slice(0, DESCRIPTION_MAX),
    priority: Number(priorityMap(c)[t.priority]),
    status: Number(statusMap(c)[t.status]),
    dueDateTime: due,
    externalID: t.hubTicketId,
    ticketType: c.ticketType,
  };
  const optional: Record<string, number | undefined> = {
    configurationItemID: int(t.refs.device),
    contractID: int(t.refs.contract),
    serviceLevelAgreementID: int(t.refs.sla),
    queueID: c.queueId,
    source: c.ticketSource,
    issueType: c.issueType,
    subIssueType: c.subIssueType,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) fields[k] = v;
  return fields;
}

/**
 * The PATCH of a hub ticket's change (triage: company, device, contract, SLA, priority; status; due
 * date). The company, contract and configuration item become what a create would send now: the
 * ticket moved to another company (PATCH /api/v1/tickets/:id) gets its new `companyID`, and a
 * contract or item the hub cannot name in this PSA (none, or no psaRefs entry) is cleared (`null`)
 * rather than left — one of the previous company beside a new companyID would be refused, and a
 * refused update would fail every later delivery of the ticket. A company without a ref is not
 * sent: the PSA ticket stays where it is (the hub's triage note says so, app/psa/outbox.ts). The
 * SLA is sent when the hub has one, else left (a picklist, not tied to the company; Autotask may
 * have set its own default).
 */
export function updateFields(c: AutotaskConfig, t: PsaTicket): Record<string, unknown> {
  const f = ticketFields(c, t);
  const fields: Record<string, unknown> = { priority: f.priority, status: f.status, dueDateTime: f.dueDateTime };
  if (f.companyID !== undefined) fields.companyID = f.companyID;
  fields.contractID = f.contractID ?? null;
  fields.configurationItemID = f.configurationItemID ?? null;
  for (const k of ['serviceLevelAgreementID', 'queueID'] as const) if (f[k] !== undefined) fields[k] = f[k];
  return fields;
}

function openAutotask(c: AutotaskConfig, deps: ConnectorDeps): PsaSession {
  const http = createHttpClient({ timeoutMs: deps.timeoutMs, now: deps.now, beforeCall: deps.beforeCall });
  const headers = { ApiIntegrationCode: c.integrationCode, UserName: c.username, Secret: c.secret };
  let base: Promise<string> | null = c.baseUrl ? Promise.resolve(c.baseUrl) : null;

  const lookupZone = async (): Promise<string> => {
    const lookup = (deps.autotaskZoneLookupUrl ?? DEFAULT_ZONE_LOOKUP_URL).replace(/\/$/, '');
    const url = `${lookup}/v1.0/zoneInformation?user=${encodeURIComponent(c.username)}`;
    const res = await http.send('GET', url);
    if (res.status !== 200) throw httpError('GET', url, res, autotaskMessage(res.body), deps.now());
    const zone = res.body as { url?: unknown };
    if (typeof zone?.url !== 'string') throw new PsaError('permanent', `zone lookup for ${c.username}: no url in the answer`);
    return zone.url.replace(/\/$/, '');
  };
  const baseUrl = (): Promise<string> => {
    // A failed lookup is not cached: the next call asks again.
    base ??= lookupZone().catch((e: unknown) => {
      base = null;
      throw e;
    });
    return base;
  };

  const call = async (method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown): Promise<JsonResponse> => {
    const url = `${await baseUrl()}/v1.0${path}`;
    const res = await http.send(method, url, { headers, ...(json !== undefined ? { json } : {}) });
    if (res.status < 200 || res.status > 299) throw httpError(method, url, res, autotaskMessage(res.body), deps.now());
    return res;
  };

  const findByExternalId = async (hubTicketId: string): Promise<PsaTicketHandle | null> => {
    const res = await call('POST', '/Tickets/query', { filter: [{ op: 'eq', field: 'externalID', value: hubTicketId }] });
    const items = (res.body as { items?: Array<{ id: number; ticketNumber?: string }> }).items ?? [];
    const first = items.sort((a, b) => a.id - b.id)[0];
    return first ? { externalId: String(first.id), number: first.ticketNumber ?? null } : null;
  };

  const ctx: AtContext = { config: c, http, headers, baseUrl, now: deps.now, call };
  const map = statusMap(c);
  const stateOf = (t: AtTicket): PsaTicketState => ({
    externalId: String(t.id),
    hubTicketId: typeof t.externalID === 'string' && t.externalID !== '' ? t.externalID : null,
    status: reverseStatusMap(map, t.status),
    psaStatus: t.status === undefined || t.status === null ? '' : String(t.status),
    lastActivityAt: t.lastActivityDate ?? null,
  });

  const patch = async (externalId: string, fields: Record<string, unknown>): Promise<void> => {
    await call('PATCH', '/Tickets', { id: Number(externalId), ...fields });
  };

  return {
    async createTicket(t) {
      if (t.refs.company === null) throw new PsaError('permanent', 'the ticket has no Autotask company (psaRefs of its company)');
      const res = await call('POST', '/Tickets', ticketFields(c, t));
      const itemId = (res.body as { itemId?: unknown }).itemId;
      if (typeof itemId !== 'number' && typeof itemId !== 'string') throw new PsaError('transient', 'POST /Tickets: no itemId in the answer');
      // The create answers the id only; the number is read for a whole run's creates at once (ticketNumbers).
      return { externalId: String(itemId), number: null };
    },
    async ticketNumbers(externalIds) {
      const ids = externalIds.map(int).filter((n): n is number => n !== undefined);
      const out = new Map<string, string>();
      // One query page holds 500 items; a delivery run reads far fewer.
      for (let i = 0; i < ids.length; i += 500) {
        const res = await call('POST', '/Tickets/query', { MaxRecords: 500, IncludeFields: ['id', 'ticketNumber'], filter: [{ op: 'in', field: 'id', value: ids.slice(i, i + 500) }] });
        for (const t of (res.body as { items?: Array<{ id: number; ticketNumber?: string | null }> }).items ?? []) if (t.ticketNumber) out.set(String(t.id), t.ticketNumber);
      }
      return out;
    },
    findByExternalId,
    async addNote(externalId, note) {
      await call('POST', `/Tickets/${encodeURIComponent(externalId)}/Notes`, {
        ticketID: Number(externalId),
        title: note.title.slice(0, 250),
        description: note.body.slice(0, 32000),
        noteType: c.noteType,
        publish: c.notePublish,
      });
    },
    async updateTicket(externalId, t) {
      await patch(externalId, updateFields(c, t));
    },
    async closeTicket(externalId) {
      await patch(externalId, { status: c.statusComplete });
    },
    async testConnection() {
      const checks: ConnectionCheck[] = [];
      try {
        const url = await baseUrl();
        checks.push({ name: 'zone', ok: true, detail: c.baseUrl ? `configured: ${url}` : `looked up: ${url}` });
      } catch (e) {
        checks.push({ name: 'zone', ok: false, detail: e instanceof Error ? e.message : String(e) });
        return { ok: false, checks };
      }
      try {
        await call('POST', '/Tickets/query', { MaxRecords: 1, filter: [{ op: 'eq', field: 'id', value: 0 }] });
        checks.push({ name: 'credentials', ok: true, detail: 'the API user can query tickets' });
      } catch (e) {
        checks.push({ name: 'credentials', ok: false, detail: e instanceof Error ? e.message : String(e) });
      }
      return { ok: checks.every((k) => k.ok), checks };
    },
    async getTicket(externalId) {
      if (!/^\d{1,15}$/.test(externalId)) return null;
      const items = await queryAll<AtTicket>(ctx, 'Tickets', { filter: [{ op: 'eq', field: 'id', value: Number(externalId) }], IncludeFields: TICKET_STATE_FIELDS });
      return items[0] ? stateOf(items[0]) : null;
    },
    async listChangedSince(since) {
      const items = await queryAll<AtTicket>(ctx, 'Tickets', {
        filter: [
          { op: 'gt', field: 'lastActivityDate', value: since.toISOString() },
          { op: 'exist', field: 'externalID' },
        ],
        IncludeFields: TICKET_STATE_FIELDS,
      });
      return items.map(stateOf);
    },
    listCompanies: (cursor) => listCompanies(ctx, cursor),
    listSlas: () => listSlas(ctx),
    listServices: (cursor) => listServices(ctx, cursor),
    listContracts: (cursor) => listContracts(ctx, cursor),
    listConfigurationItems: (cursor) => listConfigurationItems(ctx, cursor),
    async registerWebhook(input) {
      return registerTicketWebhook(ctx, input);
    },
    async close() {
      await http.close();
    },
  };
}

/** What status back reads of a ticket. */
interface AtTicket {
  id: number;
  externalID?: string | null;
  status?: number | null;
  lastActivityDate?: string | null;
}
const TICKET_STATE_FIELDS = ['id', 'externalID', 'status', 'lastActivityDate'];

export const autotaskConnector: PsaConnector<AutotaskConfig> = {
  type: 'autotask',
  displayName: 'Autotask PSA',
  docsUrl: 'https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/REST_API_Home.htm',
  configSchema: autotaskConfigSchema,
  secretFields: AUTOTASK_SECRET_FIELDS,
  needsCompanyRef: true,
  priorityMap,
  statusMap,
  open: openAutotask,
};
