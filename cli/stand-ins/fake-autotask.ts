import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shipped (not only a test helper): the demo (`cli/demo.ts`) runs it as its PSA, the benchmark
 * (`bench/delivery.bench.ts`) delivers to it, the tests import it through `test/helpers/fake-autotask.ts`.
 * It keeps everything in memory and never listens beyond the host it is given (127.0.0.1 by default).
 *
 * A local stand-in of the Autotask PSA REST API v1.0 — the documented subset the `autotask`
 * connector uses (https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/REST_API_Home.htm,
 * …/Entities/TicketsEntity.htm, …/Entities/TicketNotesEntity.htm, …/General_Topics/REST_Zones.htm):
 *
 * - `GET /atservicesrest/v1.0/zoneInformation?user=` → `{ zoneName, url, webUrl, ci }` (no auth)
 * - header auth `ApiIntegrationCode`, `UserName`, `Secret` on everything else (401 otherwise)
 * - `POST /atservicesrest/v1.0/Tickets` → `{ itemId }`; requires companyID, title, status, priority, dueDateTime
 * - `GET /atservicesrest/v1.0/Tickets/{id}` → `{ item }`
 * - `PATCH /atservicesrest/v1.0/Tickets` with `{ id, … }` → `{ itemId }`; `null` clears a field. A contract or
 *   configuration item of `data` whose `companyID` is not the ticket's (after the PATCH) is refused (400),
 *   as Autotask ties both to the ticket's company (the Tickets entity's conditions)
 * - `POST /atservicesrest/v1.0/<Entity>/query` with `{ MaxRecords?, IncludeFields?, filter: [{ op, field, value }] }`
 *   → `{ items, pageDetails: { count, requestCount, prevPageUrl, nextPageUrl } }` for Tickets, Companies,
 *   Contracts, ContractServices, Services, ConfigurationItems and TicketWebhooks; ops eq, noteq, gt, gte,
 *   lt, lte, exist, notExist, in, notIn (others answer 400); at most `pageSize` (default 500) items a page,
 *   the next one by `GET nextPageUrl` (authenticated like everything else)
 * - `POST /atservicesrest/v1.0/Tickets/{id}/Notes` → `{ itemId }`; requires ticketID, description, noteType, publish
 * - `GET /atservicesrest/v1.0/Tickets/entityInformation/fields` → the status, priority and
 *   serviceLevelAgreementID picklists (`slas`)
 * - webhooks (…/APIs/Webhooks/REST_WebhooksEntity.htm, REST_WebhookFieldsEntity.htm):
 *   `POST|PATCH /TicketWebhooks` (webhookUrl, deactivationUrl, secretKey ≤ 64, name ≤ 50 required on create),
 *   `GET /TicketWebhooks/{id}`, `GET|POST|PATCH /TicketWebhooks/{id}/Fields` (webhookID, fieldID,
 *   isSubscribedField), `GET /TicketWebhookFields/entityInformation/fields` (the `fieldID` picklist, labels
 *   = ticket field names). Every ticket status change (`setTicketStatus` — a technician in Autotask — or a
 *   PATCH) is sent to each active webhook subscribed to update events with `status` as a subscribed field:
 *   `POST <webhookUrl>` with `{ Action, Guid, EntityType, Id, Fields, EventTime, SequenceNumber, PersonID }`
 *   signed `X-Hook-Signature: sha1=<base64 HMAC-SHA1(secretKey, raw body)>`; `callouts` records them.
 * - `lastActivityDate` of a ticket is set on its create, PATCH, note and status change
 * - errors as `{ errors: ["…"] }`
 *
 * Faults for tests: `failNext(n, status, retryAfterSeconds?)`, `failOn(method, path, n, status)` (the next n
 * requests to that one endpoint only), `down(true)` (500 until up again),
 * `delayMs` (slow answers), `loseNextCreate()` (the ticket is created, the answer never arrives:
 * the socket is destroyed), `holdNextCreate()` (created, the answer never sent: the request hangs
 * until its client goes away). `calls` records every authenticated request in order.
 *
 * One file over 300 lines on purpose: it is one stand-in server whose entities share one in-memory
 * store and one auth check; the routes are small and read best side by side with the docs above.
 */
export interface FakeTicket {
  id: number;
  ticketNumber: string;
  fields: Record<string, unknown>;
  notes: Array<Record<string, unknown>>;
  patches: Array<Record<string, unknown>>;
}

export interface FakeWebhook {
  id: number;
  guid: string;
  fields: Record<string, unknown>;
  webhookFields: Array<{ id: number; webhookID: number; fieldID: number; isSubscribedField: boolean; isDisplayAlwaysField: boolean }>;
}

export interface FakeCallout {
  webhookId: number;
  url: string;
  body: string;
  /** The hub's answer status (0: no answer). */
  status: number;
  answer: string;
}

/** Reference records the import reads (Autotask field names), one array per entity. */
export interface FakeAutotaskData {
  companies: Array<Record<string, unknown>>;
  contracts: Array<Record<string, unknown>>;
  contractServices: Array<Record<string, unknown>>;
  services: Array<Record<string, unknown>>;
  configurationItems: Array<Record<string, unknown>>;
  /** The serviceLevelAgreementID picklist of Tickets. */
  slas: Array<{ value: number; label: string; isActive?: boolean }>;
}

/** The `fieldID` picklist of TicketWebhookFields: ticket field name → Autotask's internal field id. */
export const FAKE_WEBHOOK_FIELD_IDS: Record<string, number> = { status: 17, priority: 12, title: 3, assignedResourceID: 21, externalID: 44 };

export interface FakeAutotask {
  url: string;
  /** The zone URL the lookup answers (what a connection's baseUrl would be). */
  baseUrl: string;
  credentials: { username: string; secret: string; integrationCode: string };
  tickets: FakeTicket[];
  calls: Array<{ method: string; path: string; at: number }>;
  failNext(n: number, status: number, retryAfterSeconds?: number): void;
  /** The next `n` requests to `method path` (e.g. `POST /Tickets/query`) answer `status`; other requests are served. */
  failOn(method: string, path: string, n: number, status: number): void;
  down(on: boolean): void;
  loseNextCreate(): void;
  /** The next create is made, and its answer never sent: the request hangs until the client goes away (a worker killed mid-call). */
  holdNextCreate(): void;
  delayMs: number;
  /** Items per query page (Autotask: at most 500). */
  pageSize: number;
  data: FakeAutotaskData;
  webhooks: FakeWebhook[];
  callouts: FakeCallout[];
  /** A technician changes the ticket's status in Autotask: lastActivityDate moves, subscribed webhooks are called (awaited). */
  setTicketStatus(id: number, status: number): Promise<FakeCallout[]>;
  reset(): void;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
interface Filter {
  op: string;
  field?: string;
  value?: unknown;
  items?: Filter[];
}

const cmp = (a: unknown, b: unknown): number => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const da = typeof a === 'string' ? Date.parse(a) : NaN;
  const db = typeof b === 'string' ? Date.parse(b) : NaN;
  if (!Number.isNaN(da) && !Number.isNaN(db) && /^\d{4}-\d\d-\d\d/.test(String(a)) && /^\d{4}-\d\d-\d\d/.test(String(b))) return da - db;
  return String(a).localeCompare(String(b));
};
/** Autotask field names are case-insensitive. */
const get = (r: Row, field: string): unknown => {
  const k = Object.keys(r).find((x) => x.toLowerCase() === field.toLowerCase());
  return k === undefined ? undefined : r[k];
};
const eq = (a: unknown, b: unknown) => a !== undefined && a !== null && String(a).toLowerCase() === String(b).toLowerCase();

/** One filter expression over a record; an unknown op throws (answered 400). */
function matches(r: Row, f: Filter): boolean {
  const op = f.op.toLowerCase();
  if (op === 'and') return (f.items ?? []).every((x) => matches(r, x));
  if (op === 'or') return (f.items ?? []).some((x) => matches(r, x));
  if (!f.field) throw new Error(`filter ${f.op}: no field`);
  const v = get(r, f.field);
  switch (op) {
    case 'eq':
      return eq(v, f.value);
    case 'noteq':
      return !eq(v, f.value);
    case 'gt':
      return v !== undefined && v !== null && cmp(v, f.value) > 0;
    case 'gte':
      return v !== undefined && v !== null && cmp(v, f.value) >= 0;
    case 'lt':
      return v !== undefined && v !== null && cmp(v, f.value) < 0;
    case 'lte':
      return v !== undefined && v !== null && cmp(v, f.value) <= 0;
    case 'exist':
      return v !== undefined && v !== null && v !== '';
    case 'notexist':
      return v === undefined || v === null || v === '';
    case 'in':
      if (!Array.isArray(f.value)) throw new Error('in: value must be an array');
      return f.value.some((x) => eq(v, x));
    case 'notin':
      if (!Array.isArray(f.value)) throw new Error('notIn: value must be an array');
      return !f.value.some((x) => eq(v, x));
    default:
      throw new Error(`unsupported filter op ${f.op}`);
  }
}

const emptyData = (): FakeAutotaskData => ({ companies: [], contracts: [], contractServices: [], services: [], configurationItems: [], slas: [] });

const REQUIRED_TICKET = ['companyID', 'title', 'status', 'priority', 'dueDateTime'] as const;

export async function startFakeAutotask(opts: { port?: number; host?: string } = {}): Promise<FakeAutotask> {
  const credentials = { username: 'hub-api@example.com', secret: 'fake-secret-0123456789', integrationCode: 'FAKEINTEGRATIONCODE' };
  let tickets: FakeTicket[] = [];
  let calls: FakeAutotask['calls'] = [];
  let failures: Array<{ status: number; retryAfter?: number }> = [];
  let endpointFailures: Array<{ method: string; path: string; status: number }> = [];
  let isDown = false;
  let loseCreate = false;
  let holdCreate = false;
  const state = { delayMs: 0, pageSize: 500 };
  let data = emptyData();
  let webhooks: FakeWebhook[] = [];
  let callouts: FakeCallout[] = [];
  let sequence = 0;
  /** Open query cursors: token → the remaining items of that query. */
  let pages = new Map<string, Row[]>();

  const ticketRow = (t: FakeTicket): Row => ({ id: t.id, ticketNumber: t.ticketNumber, ...t.fields });
  const collection = (entity: string): Row[] | null => {
    switch (entity.toLowerCase()) {
      case 'tickets':
        return tickets.map(ticketRow);
      case 'companies':
        return data.companies;
      case 'contracts':
        return data.contracts;
      case 'contractservices':
        return data.contractServices;
      case 'services':
        return data.services;
      case 'configurationitems':
        return data.configurationItems;
      case 'ticketwebhooks':
        return webhooks.map((w) => ({ id: w.id, webhookGUID: w.guid, ...w.fields }));
      default:
        return null;
    }
  };
  const pageOf = (entity: string, rows: Row[], max: number) => {
    const size = Math.max(1, Math.min(max, state.pageSize, 500));
    const items = rows.slice(0, size);
    const rest = rows.slice(size);
    let nextPageUrl: string | null = null;
    if (rest.length > 0) {
      const token = crypto.randomBytes(12).toString('hex');
      pages.set(token, rest);
      nextPageUrl = `${baseUrl}/v1.0/${entity}/query/next?paging=${token}`;
    }
    return { items, pageDetails: { count: items.length, requestCount: size, prevPageUrl: null, nextPageUrl } };
  };
  const project = (rows: Row[], include: unknown): Row[] => {
    if (!Array.isArray(include) || include.length === 0) return rows;
    const names = include.map((x) => String(x));
    return rows.map((r) => Object.fromEntries(names.map((n) => [n, get(r, n) ?? null])));
  };

  /** Calls every active webhook subscribed to update events whose subscribed fields include status. */
  const statusChanged = async (t: FakeTicket): Promise<FakeCallout[]> => {
    const sent: FakeCallout[] = [];
    for (const w of webhooks) {
      const subscribed = w.webhookFields.some((f) => f.fieldID === FAKE_WEBHOOK_FIELD_IDS.status && f.isSubscribedField);
      if (w.fields.isActive !== true || w.fields.isSubscribedToUpdateEvents !== true || !subscribed) continue;
      const url = String(w.fields.webhookUrl);
      const secret = String(w.fields.secretKey ?? '');
      sequence += 1;
      const display = Object.fromEntries(
        w.webhookFields.filter((f) => f.isDisplayAlwaysField).flatMap((f) => Object.entries(FAKE_WEBHOOK_FIELD_IDS).filter(([, id]) => id === f.fieldID).map(([name]) => [name, t.fields[name] ?? null])),
      );
      const body = JSON.stringify({ Action: 'Update', Guid: w.guid, EntityType: 'Ticket', Id: t.id, Fields: { ...display, status: t.fields.status }, EventTime: new Date().toISOString(), SequenceNumber: sequence, PersonID: 29682885 });
      const signature = `sha1=${crypto.createHmac('sha1', secret).update(body).digest('base64')}`;
      const callout: FakeCallout = { webhookId: w.id, url, body, status: 0, answer: '' };
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hook-signature': signature }, body, signal: AbortSignal.timeout(10_000) });
        callout.status = res.status;
        callout.answer = await res.text();
      } catch (e) {
        callout.answer = e instanceof Error ? e.message : String(e);
      }
      callouts.push(callout);
      sent.push(callout);
    }
    return sent;
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
        }, state.delayMs);
      };
      const url = new URL(req.url ?? '/', 'http://fake');
      const p = url.pathname.replace(/^\/atservicesrest\/v1\.0/i, '');
      if (req.method === 'GET' && p === '/zoneInformation') {
        return reply(200, { zoneName: 'Fake Zone', url: `${baseUrl}/`, webUrl: 'https://fake.autotask.invalid/', ci: 1 });
      }
      if (req.headers['apiintegrationcode'] !== credentials.integrationCode || req.headers['username'] !== credentials.username || req.headers['secret'] !== credentials.secret) {
        return reply(401, { errors: ['Unauthorized: ApiIntegrationCode, UserName and Secret headers are required and must match'] });
      }
      calls.push({ method: req.method ?? '', path: p, at: Date.now() });
      if (isDown) return reply(500, { errors: ['Service unavailable (fake: down)'] });
      const e = endpointFailures.findIndex((x) => x.method === req.method && x.path === p);
      if (e !== -1) {
        const [x] = endpointFailures.splice(e, 1);
        return reply(x!.status, { errors: [`injected ${x!.status} on ${x!.method} ${x!.path}`] });
      }
      const f = failures.shift();
      if (f) return reply(f.status, { errors: [`injected ${f.status}`] }, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return reply(400, { errors: ['invalid JSON'] });
      }
      if (req.method === 'POST' && p === '/Tickets') {
        const missing = REQUIRED_TICKET.filter((k) => body[k] === undefined || body[k] === null || body[k] === '');
        if (missing.length > 0) return reply(500, { errors: missing.map((k) => `${k}: is required`) });
        if (typeof body.companyID !== 'number') return reply(400, { errors: ['companyID: must be an integer'] });
        const id = 1000 + tickets.length + 1;
        // Autotask's ticket number: T<creation date>.<sequence>.
        const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
        tickets.push({ id, ticketNumber: `T${day}.${String(tickets.length + 1).padStart(4, '0')}`, fields: { ...body, lastActivityDate: new Date().toISOString() }, notes: [], patches: [] });
        if (holdCreate) {
          holdCreate = false;
          return;
        }
        if (loseCreate) {
          loseCreate = false;
          // Created, but the answer is lost: the client sees a reset connection.
          res.destroy();
          return;
        }
        return reply(200, { itemId: id });
      }
      const one = /^\/Tickets\/(\d+)$/.exec(p);
      if (req.method === 'GET' && one) {
        const t = tickets.find((x) => x.id === Number(one[1]));
        return t ? reply(200, { item: { id: t.id, ticketNumber: t.ticketNumber, ...t.fields } }) : reply(404, { errors: ['not found'] });
      }
      if (req.method === 'PATCH' && p === '/Tickets') {
        const t = tickets.find((x) => x.id === Number(body.id));
        if (!t) return reply(404, { errors: [`ticket ${String(body.id)} not found`] });
        const companyAfter = body.companyID !== undefined ? body.companyID : t.fields.companyID;
        for (const [field, rows] of [['contractID', data.contracts], ['configurationItemID', data.configurationItems]] as const) {
          const ref = body[field] !== undefined ? body[field] : t.fields[field];
          const known = ref === null || ref === undefined ? undefined : rows.find((r) => r.id === ref);
          if (known && known.companyID !== companyAfter) return reply(400, { errors: [`${field}: ${String(ref)} does not belong to company ${String(companyAfter)}`] });
        }
        t.patches.push(body);
        const statusBefore = t.fields.status;
        Object.assign(t.fields, body, { lastActivityDate: new Date().toISOString() });
        // Autotask calls the webhooks for changes made through the API too.
        if (body.status !== undefined && String(body.status) !== String(statusBefore)) void statusChanged(t);
        return reply(200, { itemId: t.id });
      }
      const next = /^\/(\w+)\/query\/next$/i.exec(p);
      if (req.method === 'GET' && next) {
        const rest = pages.get(url.searchParams.get('paging') ?? '');
        if (!rest) return reply(400, { errors: ['paging: unknown or expired cursor'] });
        pages.delete(url.searchParams.get('paging') ?? '');
        return reply(200, pageOf(next[1]!, rest, 500));
      }
      const query = /^\/(\w+)\/query$/i.exec(p);
      if (req.method === 'POST' && query) {
        const rows = collection(query[1]!);
        if (rows === null) return reply(404, { errors: [`no entity ${query[1]!}`] });
        const filter = body.filter;
        if (!Array.isArray(filter) || filter.length === 0) return reply(500, { errors: ['filter: at least one filter expression is required'] });
        let found: Row[];
        try {
          found = rows.filter((r) => (filter as Filter[]).every((f) => matches(r, f))).sort((a, b) => Number(a.id) - Number(b.id));
        } catch (e) {
          return reply(400, { errors: [e instanceof Error ? e.message : String(e)] });
        }
        const max = body.MaxRecords ?? body.maxRecords;
        if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 500)) return reply(400, { errors: ['MaxRecords: between 1 and 500'] });
        return reply(200, pageOf(query[1]!, project(found, body.IncludeFields ?? body.includeFields), typeof max === 'number' ? max : 500));
      }
      if (req.method === 'GET' && p === '/Tickets/entityInformation/fields') {
        const picklist = (values: Array<{ value: number; label: string; isActive?: boolean }>) => values.map((v) => ({ value: String(v.value), label: v.label, isActive: v.isActive ?? true, isDefaultValue: false }));
        return reply(200, {
          fields: [
            { name: 'status', dataType: 'integer', isPickList: true, picklistValues: picklist([{ value: 1, label: 'New' }, { value: 5, label: 'Complete' }, { value: 7, label: 'Waiting Customer' }, { value: 8, label: 'In Progress' }]) },
            { name: 'priority', dataType: 'integer', isPickList: true, picklistValues: picklist([{ value: 1, label: 'High' }, { value: 2, label: 'Medium' }, { value: 3, label: 'Low' }, { value: 4, label: 'Critical' }]) },
            { name: 'serviceLevelAgreementID', dataType: 'integer', isPickList: true, picklistValues: picklist(data.slas) },
          ],
        });
      }
      if (req.method === 'GET' && p === '/TicketWebhookFields/entityInformation/fields') {
        return reply(200, { fields: [{ name: 'fieldID', dataType: 'integer', isPickList: true, picklistValues: Object.entries(FAKE_WEBHOOK_FIELD_IDS).map(([label, value]) => ({ value: String(value), label, isActive: true })) }] });
      }
      if (req.method === 'POST' && p === '/TicketWebhooks') {
        const missing = ['webhookUrl', 'deactivationUrl', 'secretKey', 'name'].filter((k) => typeof get(body, k) !== 'string' || get(body, k) === '');
        if (missing.length > 0) return reply(500, { errors: missing.map((k) => `${k}: is required`) });
        if (String(get(body, 'secretKey')).length > 64) return reply(500, { errors: ['secretKey: at most 64 characters'] });
        if (String(get(body, 'name')).length > 50) return reply(500, { errors: ['name: at most 50 characters'] });
        const id = 300 + webhooks.length + 1;
        webhooks.push({ id, guid: crypto.randomUUID(), fields: { ...body }, webhookFields: [] });
        return reply(200, { itemId: id });
      }
      if (req.method === 'PATCH' && p === '/TicketWebhooks') {
        const w = webhooks.find((x) => x.id === Number(body.id));
        if (!w) return reply(404, { errors: [`webhook ${String(body.id)} not found`] });
        if (body.secretKey !== undefined && String(body.secretKey).length > 64) return reply(500, { errors: ['secretKey: at most 64 characters'] });
        Object.assign(w.fields, body);
        return reply(200, { itemId: w.id });
      }
      const hook = /^\/TicketWebhooks\/(\d+)$/.exec(p);
      if (req.method === 'GET' && hook) {
        const w = webhooks.find((x) => x.id === Number(hook[1]));
        // Autotask never returns a webhook's secret key.
        if (!w) return reply(404, { errors: ['not found'] });
        const { secretKey: _secret, ...shown } = w.fields;
        return reply(200, { item: { id: w.id, webhookGUID: w.guid, isReady: w.webhookFields.some((f) => f.isSubscribedField), ...shown } });
      }
      const hookFields = /^\/TicketWebhooks\/(\d+)\/Fields$/.exec(p);
      if (hookFields) {
        const w = webhooks.find((x) => x.id === Number(hookFields[1]));
        if (!w) return reply(404, { errors: ['webhook not found'] });
        if (req.method === 'GET') return reply(200, { items: w.webhookFields, pageDetails: { count: w.webhookFields.length, requestCount: 500, prevPageUrl: null, nextPageUrl: null } });
        if (req.method === 'POST') {
          const fieldID = Number(body.fieldID);
          if (!Object.values(FAKE_WEBHOOK_FIELD_IDS).includes(fieldID)) return reply(500, { errors: [`fieldID: ${String(body.fieldID)} is not a webhook field`] });
          if (w.webhookFields.some((f) => f.fieldID === fieldID)) return reply(500, { errors: ['fieldID: already on this webhook'] });
          const f = { id: 9000 + w.webhookFields.length + 1, webhookID: w.id, fieldID, isSubscribedField: body.isSubscribedField === true, isDisplayAlwaysField: body.isDisplayAlwaysField === true };
          w.webhookFields.push(f);
          return reply(200, { itemId: f.id });
        }
        if (req.method === 'PATCH') {
          const f = w.webhookFields.find((x) => x.id === Number(body.id));
          if (!f) return reply(404, { errors: ['field not found'] });
          if (typeof body.isSubscribedField === 'boolean') f.isSubscribedField = body.isSubscribedField;
          if (typeof body.isDisplayAlwaysField === 'boolean') f.isDisplayAlwaysField = body.isDisplayAlwaysField;
          return reply(200, { itemId: f.id });
        }
      }
      const notes = /^\/Tickets\/(\d+)\/Notes$/.exec(p);
      if (req.method === 'POST' && notes) {
        const t = tickets.find((x) => x.id === Number(notes[1]));
        if (!t) return reply(404, { errors: ['ticket not found'] });
        const missing = ['ticketID', 'description', 'noteType', 'publish'].filter((k) => body[k] === undefined);
        if (missing.length > 0) return reply(500, { errors: missing.map((k) => `${k}: is required`) });
        t.notes.push(body);
        t.fields.lastActivityDate = new Date().toISOString();
        return reply(200, { itemId: 5000 + t.notes.length });
      }
      return reply(404, { errors: [`no route ${req.method ?? ''} ${p}`] });
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const addr = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${addr.port}`;
  const baseUrl = `${url}/atservicesrest`;
  const fake: FakeAutotask = {
    url,
    baseUrl,
    credentials,
    get tickets() {
      return tickets;
    },
    get calls() {
      return calls;
    },
    failNext(n, status, retryAfterSeconds) {
      for (let i = 0; i < n; i++) failures.push(retryAfterSeconds === undefined ? { status } : { status, retryAfter: retryAfterSeconds });
    },
    failOn(method, path, n, status) {
      for (let i = 0; i < n; i++) endpointFailures.push({ method, path, status });
    },
    down(on) {
      isDown = on;
    },
    loseNextCreate() {
      loseCreate = true;
    },
    holdNextCreate() {
      holdCreate = true;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(v: number) {
      state.pageSize = v;
    },
    get data() {
      return data;
    },
    get webhooks() {
      return webhooks;
    },
    get callouts() {
      return callouts;
    },
    async setTicketStatus(id, status) {
      const t = tickets.find((x) => x.id === id);
      if (!t) throw new Error(`fake Autotask: no ticket ${id}`);
      t.fields.status = status;
      t.fields.lastActivityDate = new Date().toISOString();
      return statusChanged(t);
    },
    reset() {
      data = emptyData();
      webhooks = [];
      callouts = [];
      pages = new Map();
      state.pageSize = 500;
      tickets = [];
      calls = [];
      failures = [];
      endpointFailures = [];
      isDown = false;
      loseCreate = false;
      holdCreate = false;
      state.delayMs = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return fake;
}
