import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in of the ConnectWise PSA REST API 3.0 (we do not run ConnectWise; STYLE.md
 * "Outbound connectors"), implementing the documented subset the `connectwise` connector uses:
 * https://developer.connectwise.com/Products/ConnectWise_PSA/REST (Service › Tickets, Ticket Notes,
 * Ticket Configurations, Boards, SLAs; Company › Companies, Configurations; Finance › Agreements,
 * Additions, Agreement Configurations; System › Info, Callbacks).
 *
 * It checks what ConnectWise checks: Basic auth `companyId+publicKey:privateKey`, the `clientId`
 * header, the required fields of a ticket (summary ≤ 100, company, board) and that the references
 * exist. Faults are injected per call: 429 with Retry-After, 500, slow answers, and a create that
 * is stored but whose answer is lost (the socket is destroyed).
 */
export interface FakeCwCredentials {
  companyId: string;
  publicKey: string;
  privateKey: string;
  clientId: string;
}

export interface FakeCwTicket {
  id: number;
  summary: string;
  externalXRef: string | null;
  company: { id: number };
  board: { id: number; name: string };
  status: { id: number; name: string };
  priority: { id: number; name: string };
  agreement: { id: number } | null;
  initialDescription: string;
  requiredDate: string | null;
  closedFlag: boolean;
  configurations: number[];
  notes: Array<{ id: number; text: string; internalAnalysisFlag: boolean; detailDescriptionFlag: boolean; resolutionFlag: boolean }>;
  _info: { lastUpdated: string; dateEntered: string };
}

export type FakeCwFault = { kind: 'status'; status: 429 | 500 | 502 | 503; retryAfter?: number } | { kind: 'slow'; ms: number } | { kind: 'lose-response' } | { kind: 'hold-response' };

interface Board {
  id: number;
  name: string;
  statuses: Array<{ id: number; name: string; closedStatus: boolean }>;
}

export interface FakeCwRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

const API = '/v4_6_release/apis/3.0';

export class FakeConnectWise {
  readonly credentials: FakeCwCredentials = { companyId: 'acme', publicKey: 'pub-key-1', privateKey: 'priv-key-1', clientId: '11111111-2222-3333-4444-555555555555' };
  readonly tickets = new Map<number, FakeCwTicket>();
  readonly requests: FakeCwRequest[] = [];
  readonly boards: Board[] = [
    {
      id: 1,
      name: 'Help Desk',
      statuses: [
        { id: 11, name: 'New', closedStatus: false },
        { id: 12, name: 'In Progress', closedStatus: false },
        { id: 13, name: 'Completed', closedStatus: true },
        { id: 14, name: '>Closed', closedStatus: true },
      ],
    },
  ];
  readonly priorities = [
    { id: 1, name: 'Priority 1 - Emergency Response' },
    { id: 2, name: 'Priority 2 - Quick Response' },
    { id: 3, name: 'Priority 3 - Normal Response' },
    { id: 4, name: 'Priority 4 - Schedule Maintenance' },
  ];
  companies: Array<{ id: number; identifier: string; name: string; deletedFlag: boolean }> = [];
  agreements: Array<Record<string, unknown> & { id: number; additions: Array<Record<string, unknown>>; configurations: number[] }> = [];
  slas: Array<{ id: number; name: string }> = [];
  catalog: Array<{ id: number; identifier: string; description: string; price: number; cost?: number }> = [];
  configurations: Array<{ id: number; name: string; company: { id: number }; serialNumber: string | null; activeFlag: boolean }> = [];
  readonly callbacks: Array<{ id: number; url: string; type: string; level: string; objectId: number; description: string }> = [];
  private faults: Array<{ match: (r: FakeCwRequest) => boolean; fault: FakeCwFault }> = [];
  private nextId = 1000;
  private server: http.Server | undefined;
  /** Clock of `_info.lastUpdated`; a test may move it. */
  now: () => Date = () => new Date();
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** The connection config that signs in to this fake. */
  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { site: this.url, ...this.credentials, board: 'Help Desk', ...extra };
  }

  /** The next `times` calls that match get the fault (default: any call). */
  inject(fault: FakeCwFault, opts: { times?: number; method?: string; path?: RegExp } = {}): void {
    const match = (r: FakeCwRequest) => (opts.method === undefined || r.method === opts.method) && (opts.path === undefined || opts.path.test(r.path));
    for (let i = 0; i < (opts.times ?? 1); i += 1) this.faults.push({ match, fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  ticketByMarker(marker: string): FakeCwTicket[] {
    return [...this.tickets.values()].filter((t) => t.externalXRef === marker);
  }

  /** A technician changes the ticket's status in ConnectWise; registered ticket callbacks are posted. */
  async setStatus(ticketId: number, statusName: string): Promise<void> {
    const t = this.tickets.get(ticketId);
    if (!t) throw new Error(`no ticket ${ticketId}`);
    const status = this.boards.find((b) => b.id === t.board.id)!.statuses.find((s) => s.name === statusName);
    if (!status) throw new Error(`no status ${statusName}`);
    t.status = { id: status.id, name: status.name };
    t.closedFlag = status.closedStatus;
    this.touch(t);
    await this.postCallbacks(t);
  }

  /** ConnectWise callback payload (System › Callbacks): the entity is a JSON string of the ticket. */
  private async postCallbacks(t: FakeCwTicket): Promise<void> {
    for (const cb of this.callbacks.filter((c) => c.type.toLowerCase() === 'ticket')) {
      const payload = {
        MessageId: `msg-${this.nextId++}`,
        FromUrl: this.url,
        CompanyId: this.credentials.companyId,
        MemberId: 'admin1',
        Action: 'updated',
        Type: 'ticket',
        ID: t.id,
        Entity: JSON.stringify(this.view(t)),
      };
      await fetch(cb.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }).catch(() => undefined);
    }
  }

  private touch(t: FakeCwTicket): void {
    t._info.lastUpdated = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private view(t: FakeCwTicket): Record<string, unknown> {
    const { configurations: _c, notes: _n, ...rest } = t;
    return rest;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: unknown = undefined;
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(400, { code: 'InvalidObject', message: 'The request body is not valid JSON' });
      }
    }
    if (!url.pathname.startsWith(API)) return send(404, { code: 'NotFound', message: 'not an API path' });
    const r: FakeCwRequest = { method: req.method ?? 'GET', path: url.pathname.slice(API.length), query: url.searchParams, body };
    this.requests.push(r);

    const expected = `Basic ${Buffer.from(`${this.credentials.companyId}+${this.credentials.publicKey}:${this.credentials.privateKey}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return send(401, { code: 'Unauthorized', message: 'Authentication failed' });
    if (req.headers.clientid !== this.credentials.clientId) return send(401, { code: 'Unauthorized', message: 'clientId header is missing or unknown' });

    const i = this.faults.findIndex((f) => f.match(r));
    let loseResponse = false;
    // Done, but never answered: the request hangs until its client goes away (a worker killed mid-call).
    let holdResponse = false;
    if (i >= 0) {
      const fault = this.faults.splice(i, 1)[0]!.fault;
      if (fault.kind === 'status') {
        const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
        return send(fault.status, { code: fault.status === 429 ? 'TooManyRequests' : 'ServerError', message: `injected ${fault.status}` }, headers);
      }
      if (fault.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
      if (fault.kind === 'lose-response') loseResponse = true;
      if (fault.kind === 'hold-response') holdResponse = true;
    }
    try {
      const [status, payload] = this.route(r);
      if (loseResponse) {
        req.socket.destroy();
        return;
      }
      if (holdResponse) return;
      send(status, payload);
    } catch (e) {
      send(500, { code: 'ServerError', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private invalid(field: string, message: string): [number, unknown] {
    return [400, { code: 'InvalidObject', message: 'Ticket object is invalid', errors: [{ code: 'InvalidField', message, resource: 'ticket', field }] }];
  }

  private page<T>(items: T[], q: URLSearchParams): T[] {
    const pageSize = Math.min(Number(q.get('pageSize') ?? 25), 1000);
    const page = Math.max(Number(q.get('page') ?? 1), 1);
    return items.slice((page - 1) * pageSize, page * pageSize);
  }

  private route(r: FakeCwRequest): [number, unknown] {
    const { method, path, query } = r;
    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/system/info') return [200, { version: 'v2025.1', isCloud: true, serverTimeZone: 'Eastern Standard Time' }];
    if (method === 'GET' && path === '/service/boards') {
      return [200, this.boards.filter((b) => matchConditions(query.get('conditions'), b as unknown as Record<string, unknown>)).map(({ id, name }) => ({ id, name }))];
    }
    if (method === 'POST' && path === '/system/callbacks') {
      const b = (r.body ?? {}) as Record<string, unknown>;
      for (const f of ['url', 'type', 'level', 'objectId']) if (b[f] === undefined) return this.invalid(f, `${f} is required`);
      const cb = { id: this.nextId++, url: String(b.url), type: String(b.type), level: String(b.level), objectId: Number(b.objectId), description: String(b.description ?? '') };
      this.callbacks.push(cb);
      return [201, cb];
    }
    if (method === 'GET' && path === '/system/callbacks') return [200, this.callbacks];
    if (method === 'POST' && path === '/service/tickets') return this.createTicket(r.body);
    if (method === 'GET' && path === '/service/tickets') {
      const list = [...this.tickets.values()].filter((t) => matchConditions(query.get('conditions'), t as unknown as Record<string, unknown>)).sort((a, b) => a.id - b.id);
      return [200, this.page(list, query).map((t) => this.view(t))];
    }
    if ((m = /^\/service\/tickets\/(\d+)$/.exec(path))) {
      const t = this.tickets.get(Number(m[1]));
      if (!t) return [404, { code: 'NotFound', message: `Ticket ${m[1]} not found` }];
      if (method === 'GET') return [200, this.view(t)];
      if (method === 'PATCH') return this.patchTicket(t, r.body);
    }
    if ((m = /^\/service\/tickets\/(\d+)\/notes$/.exec(path))) {
      const t = this.tickets.get(Number(m[1]));
      if (!t) return [404, { code: 'NotFound', message: `Ticket ${m[1]} not found` }];
      if (method === 'GET') return [200, t.notes];
      const b = (r.body ?? {}) as Record<string, unknown>;
      if (typeof b.text !== 'string' || b.text === '') return this.invalid('text', 'text is required');
      const note = {
        id: this.nextId++,
        text: b.text,
        internalAnalysisFlag: b.internalAnalysisFlag === true,
        detailDescriptionFlag: b.detailDescriptionFlag === true,
        resolutionFlag: b.resolutionFlag === true,
      };
      if (!note.internalAnalysisFlag && !note.detailDescriptionFlag && !note.resolutionFlag) return this.invalid('detailDescriptionFlag', 'one of the note flags must be set');
      t.notes.push(note);
      this.touch(t);
      return [201, note];
    }
    if ((m = /^\/service\/tickets\/(\d+)\/configurations$/.exec(path))) {
      const t = this.tickets.get(Number(m[1]));
      if (!t) return [404, { code: 'NotFound', message: `Ticket ${m[1]} not found` }];
      if (method === 'GET') return [200, t.configurations.map((id) => ({ id }))];
      const id = Number((r.body as { id?: unknown } | undefined)?.id);
      if (!this.configurations.some((c) => c.id === id)) return this.invalid('id', `configuration ${id} not found`);
      if (t.configurations.includes(id)) return [400, { code: 'InvalidObject', message: 'Configuration already attached' }];
      t.configurations.push(id);
      return [201, { id }];
    }
    if (method === 'GET' && path === '/company/companies') return [200, this.page(this.companies.filter((c) => matchConditions(query.get('conditions'), c)), query)];
    if (method === 'GET' && path === '/company/configurations') return [200, this.page(this.configurations.filter((c) => matchConditions(query.get('conditions'), c)), query)];
    if (method === 'GET' && path === '/service/SLAs') return [200, this.page(this.slas, query)];
    if (method === 'GET' && path === '/procurement/catalog') return [200, this.page(this.catalog.filter((c) => matchConditions(query.get('conditions'), c)), query)];
    if (method === 'GET' && path === '/finance/agreements') {
      return [200, this.page(this.agreements.filter((a) => matchConditions(query.get('conditions'), a)).map(({ additions: _a, configurations: _c, ...rest }) => rest), query)];
    }
    if ((m = /^\/finance\/agreements\/(\d+)\/(additions|configurations)$/.exec(path)) && method === 'GET') {
      const a = this.agreements.find((x) => x.id === Number(m![1]));
      if (!a) return [404, { code: 'NotFound', message: 'Agreement not found' }];
      return [200, this.page(m[2] === 'additions' ? a.additions : a.configurations.map((id) => ({ id })), query)];
    }
    return [404, { code: 'NotFound', message: `${method} ${path} is not implemented by the fake` }];
  }

  private resolveRef<T extends { id: number; name: string }>(list: T[], ref: unknown): T | undefined {
    if (!ref || typeof ref !== 'object') return undefined;
    const { id, name } = ref as { id?: unknown; name?: unknown };
    return list.find((x) => (typeof id === 'number' && x.id === id) || (typeof name === 'string' && x.name === name));
  }

  private createTicket(body: unknown): [number, unknown] {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b.summary !== 'string' || b.summary.trim() === '') return this.invalid('summary', 'summary is required');
    if (b.summary.length > 100) return this.invalid('summary', 'summary may not exceed 100 characters');
    const companyId = (b.company as { id?: unknown } | undefined)?.id;
    if (typeof companyId !== 'number') return this.invalid('company', 'company is required');
    if (this.companies.length > 0 && !this.companies.some((c) => c.id === companyId)) return this.invalid('company', `company ${companyId} not found`);
    const board = this.resolveRef(this.boards, b.board);
    if (!board) return this.invalid('board', 'board is required and must exist');
    const status = b.status === undefined ? board.statuses[0] : this.resolveRef(board.statuses, b.status);
    if (!status) return this.invalid('status', 'status not found on the board');
    const priority = b.priority === undefined ? this.priorities[2] : this.resolveRef(this.priorities, b.priority);
    if (!priority) return this.invalid('priority', 'priority not found');
    let agreement: { id: number } | null = null;
    if (b.agreement !== undefined && b.agreement !== null) {
      const id = (b.agreement as { id?: unknown }).id;
      if (typeof id !== 'number' || (this.agreements.length > 0 && !this.agreements.some((a) => a.id === id))) return this.invalid('agreement', 'agreement not found');
      agreement = { id };
    }
    if (b.externalXRef !== undefined && (typeof b.externalXRef !== 'string' || b.externalXRef.length > 100)) return this.invalid('externalXRef', 'at most 100 characters');
    const now = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const t: FakeCwTicket = {
      id: this.nextId++,
      summary: b.summary,
      externalXRef: (b.externalXRef as string | undefined) ?? null,
      company: { id: companyId },
      board: { id: board.id, name: board.name },
      status: { id: status.id, name: status.name },
      priority: { id: priority.id, name: priority.name },
      agreement,
      initialDescription: typeof b.initialDescription === 'string' ? b.initialDescription : '',
      requiredDate: typeof b.requiredDate === 'string' ? b.requiredDate : null,
      closedFlag: (status as { closedStatus?: boolean }).closedStatus === true,
      configurations: [],
      notes: [],
      _info: { lastUpdated: now, dateEntered: now },
    };
    this.tickets.set(t.id, t);
    return [201, this.view(t)];
  }

  private patchTicket(t: FakeCwTicket, body: unknown): [number, unknown] {
    if (!Array.isArray(body)) return [400, { code: 'InvalidObject', message: 'PATCH takes a JSON Patch array' }];
    for (const op of body as Array<{ op?: unknown; path?: unknown; value?: unknown }>) {
      if (op.op !== 'replace') return [400, { code: 'InvalidObject', message: `op ${String(op.op)} not supported` }];
      const board = this.boards.find((b) => b.id === t.board.id)!;
      if (op.path === 'status') {
        const s = this.resolveRef(board.statuses, op.value);
        if (!s) return this.invalid('status', 'status not found on the board');
        t.status = { id: s.id, name: s.name };
        t.closedFlag = s.closedStatus;
      } else if (op.path === 'priority') {
        const p = this.resolveRef(this.priorities, op.value);
        if (!p) return this.invalid('priority', 'priority not found');
        t.priority = p;
      } else if (op.path === 'summary' && typeof op.value === 'string') t.summary = op.value;
      else if (op.path === 'company') {
        const id = (op.value as { id?: unknown } | null)?.id;
        if (typeof id !== 'number' || (this.companies.length > 0 && !this.companies.some((c) => c.id === id))) return this.invalid('company', 'company not found');
        t.company = { id };
      } else if (op.path === 'agreement') t.agreement = (op.value as { id: number } | null) ?? null;
      else if (op.path === 'requiredDate' && (op.value === null || typeof op.value === 'string')) t.requiredDate = op.value;
      else return [400, { code: 'InvalidObject', message: `path ${String(op.path)} not supported by the fake` }];
    }
    this.touch(t);
    return [200, this.view(t)];
  }
}

/**
 * The subset of ConnectWise's conditions grammar the connector writes: `field = value`,
 * `field > [date]`, `field like "prefix*"`, joined by `and`; values are "strings", numbers,
 * true/false or [dates]. Nested fields use `/` (`company/id`).
 */
export function matchConditions(conditions: string | null, row: Record<string, unknown>): boolean {
  if (conditions === null || conditions.trim() === '') return true;
  const parts = conditions.split(/\s+and\s+/i);
  return parts.every((part) => {
    const m = /^\s*([A-Za-z_/]+)\s*(=|!=|>|<|like)\s*(.+?)\s*$/i.exec(part);
    if (!m) throw new Error(`fake ConnectWise cannot parse condition: ${part}`);
    const [, field, op, rawValue] = m as unknown as [string, string, string, string];
    let actual: unknown = row;
    for (const key of field.split('/')) actual = actual && typeof actual === 'object' ? (actual as Record<string, unknown>)[key === 'lastUpdated' ? '_info' : key] : undefined;
    if (field === 'lastUpdated') actual = (row._info as { lastUpdated?: string } | undefined)?.lastUpdated;
    let value: unknown;
    if (/^".*"$/.test(rawValue)) value = rawValue.slice(1, -1);
    else if (/^\[.*\]$/.test(rawValue)) value = rawValue.slice(1, -1);
    else if (/^(true|false)$/i.test(rawValue)) value = rawValue.toLowerCase() === 'true';
    else if (/^-?\d+$/.test(rawValue)) value = Number(rawValue);
    else throw new Error(`fake ConnectWise cannot parse value: ${rawValue}`);
    switch (op.toLowerCase()) {
      case '=':
        return actual === value || (actual === undefined && value === false);
      case '!=':
        return actual !== value;
      case '>':
      case '<': {
        const a = typeof actual === 'string' ? Date.parse(actual) : Number(actual);
        const b = typeof value === 'string' ? Date.parse(value) : Number(value);
        return op === '>' ? a > b : a < b;
      }
      case 'like': {
        const pattern = String(value).replace(/[.+?^${}()|\\]/g, '\\$&').replace(/\*/g, '.*');
        return typeof actual === 'string' && new RegExp(`^${pattern}$`).test(actual);
      }
      default:
        return false;
    }
  });
}
