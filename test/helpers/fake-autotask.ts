import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in of the Autotask PSA REST API v1.0 — the documented subset the `autotask`
 * connector uses (https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/REST_API_Home.htm,
 * …/Entities/TicketsEntity.htm, …/Entities/TicketNotesEntity.htm, …/General_Topics/REST_Zones.htm):
 *
 * - `GET /atservicesrest/v1.0/zoneInformation?user=` → `{ zoneName, url, webUrl, ci }` (no auth)
 * - header auth `ApiIntegrationCode`, `UserName`, `Secret` on everything else (401 otherwise)
 * - `POST /atservicesrest/v1.0/Tickets` → `{ itemId }`; requires companyID, title, status, priority, dueDateTime
 * - `GET /atservicesrest/v1.0/Tickets/{id}` → `{ item }`
 * - `PATCH /atservicesrest/v1.0/Tickets` with `{ id, … }` → `{ itemId }`
 * - `POST /atservicesrest/v1.0/Tickets/query` with `{ filter: [{ op: "eq", field, value }] }` → `{ items, pageDetails }`
 * - `POST /atservicesrest/v1.0/Tickets/{id}/Notes` → `{ itemId }`; requires ticketID, description, noteType, publish
 * - errors as `{ errors: ["…"] }`
 *
 * Faults for tests: `failNext(n, status, retryAfterSeconds?)`, `down(true)` (500 until up again),
 * `delayMs` (slow answers), `loseNextCreate()` (the ticket is created, the answer never arrives:
 * the socket is destroyed), `holdNextCreate()` (created, the answer never sent: the request hangs
 * until its client goes away). `calls` records every authenticated request in order.
 */
export interface FakeTicket {
  id: number;
  ticketNumber: string;
  fields: Record<string, unknown>;
  notes: Array<Record<string, unknown>>;
  patches: Array<Record<string, unknown>>;
}

export interface FakeAutotask {
  url: string;
  /** The zone URL the lookup answers (what a connection's baseUrl would be). */
  baseUrl: string;
  credentials: { username: string; secret: string; integrationCode: string };
  tickets: FakeTicket[];
  calls: Array<{ method: string; path: string; at: number }>;
  failNext(n: number, status: number, retryAfterSeconds?: number): void;
  down(on: boolean): void;
  loseNextCreate(): void;
  /** The next create is made, and its answer never sent: the request hangs until the client goes away (a worker killed mid-call). */
  holdNextCreate(): void;
  delayMs: number;
  reset(): void;
  close(): Promise<void>;
}

const REQUIRED_TICKET = ['companyID', 'title', 'status', 'priority', 'dueDateTime'] as const;

export async function startFakeAutotask(opts: { port?: number; host?: string } = {}): Promise<FakeAutotask> {
  const credentials = { username: 'hub-api@example.com', secret: 'fake-secret-0123456789', integrationCode: 'FAKEINTEGRATIONCODE' };
  let tickets: FakeTicket[] = [];
  let calls: FakeAutotask['calls'] = [];
  let failures: Array<{ status: number; retryAfter?: number }> = [];
  let isDown = false;
  let loseCreate = false;
  let holdCreate = false;
  const state = { delayMs: 0 };

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
        tickets.push({ id, ticketNumber: `T20261206.${String(tickets.length + 1).padStart(4, '0')}`, fields: body, notes: [], patches: [] });
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
        t.patches.push(body);
        Object.assign(t.fields, body);
        return reply(200, { itemId: t.id });
      }
      if (req.method === 'POST' && p === '/Tickets/query') {
        const filter = (body.filter as Array<{ op: string; field: string; value: unknown }>) ?? [];
        const items = tickets
          .filter((t) => filter.every((f) => f.op === 'eq' && String(f.field === 'id' ? t.id : t.fields[f.field]) === String(f.value)))
          .map((t) => ({ id: t.id, ticketNumber: t.ticketNumber, ...t.fields }));
        return reply(200, { items, pageDetails: { count: items.length, requestCount: 500, prevPageUrl: null, nextPageUrl: null } });
      }
      const notes = /^\/Tickets\/(\d+)\/Notes$/.exec(p);
      if (req.method === 'POST' && notes) {
        const t = tickets.find((x) => x.id === Number(notes[1]));
        if (!t) return reply(404, { errors: ['ticket not found'] });
        const missing = ['ticketID', 'description', 'noteType', 'publish'].filter((k) => body[k] === undefined);
        if (missing.length > 0) return reply(500, { errors: missing.map((k) => `${k}: is required`) });
        t.notes.push(body);
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
    reset() {
      tickets = [];
      calls = [];
      failures = [];
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
