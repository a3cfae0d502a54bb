import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PsaError, type PsaTicket } from '../types';
import { exampleConnector } from './index';

/** The template's own test: a local stand-in of "ExampleDesk" (what we do not run is faked; nothing else). */
describe('connector template (ExampleDesk)', () => {
  const tickets: Array<{ id: number; externalRef: string; notes: unknown[] }> = [];
  let fail: number | null = null;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      if (req.headers.authorization !== 'Bearer t0ken') return send(401, { message: 'bad token' });
      if (fail !== null) return send(fail, { message: 'injected' });
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && url.pathname === '/tickets') {
        const t = { id: tickets.length + 1, externalRef: (JSON.parse(body) as { externalRef: string }).externalRef, notes: [] };
        tickets.push(t);
        return send(201, { id: t.id, number: `ED-${t.id}` });
      }
      if (req.method === 'GET' && url.pathname === '/tickets') return send(200, { items: tickets.filter((t) => t.externalRef === url.searchParams.get('externalRef')).map((t) => ({ id: t.id, number: `ED-${t.id}` })) });
      const m = /^\/tickets\/(\d+)\/notes$/.exec(url.pathname);
      if (req.method === 'POST' && m) {
        tickets[Number(m[1]) - 1]!.notes.push(JSON.parse(body));
        return send(201, {});
      }
      return send(404, { message: 'no such route' });
    });
  });
  let baseUrl = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const ticket: PsaTicket = {
    hubTicketId: '42',
    title: 'Disk full',
    description: 'C: is 99 % full',
    priority: 'high',
    status: 'new',
    queue: null,
    dueAt: null,
    occurrences: 1,
    firstOccurredAt: '2026-12-06T10:00:00Z',
    refs: { company: 'C1', device: null, contract: null, service: null, sla: null },
    names: { company: 'Acme', device: null, contract: null, service: null, sla: null },
  };

  it('creates, finds by the hub id, adds a note; 4xx is permanent, 5xx transient', async () => {
    const config = exampleConnector.configSchema.parse({ baseUrl, apiToken: 't0ken' });
    const s = exampleConnector.open(config, { connectionName: 'example', now: () => new Date() });
    try {
      expect(await s.findByExternalId('42')).toBeNull();
      const created = await s.createTicket(ticket);
      expect(created).toEqual({ externalId: '1', number: 'ED-1' });
      expect(await s.findByExternalId('42')).toEqual(created);
      await s.addNote('1', { title: 'Repeats', body: '+3 occurrences' }, ticket);
      expect(tickets[0]!.notes).toEqual([{ title: 'Repeats', body: '+3 occurrences' }]);
      fail = 503;
      await expect(s.addNote('1', { title: 'x', body: 'y' }, ticket)).rejects.toMatchObject({ kind: 'transient' });
      fail = 422;
      await expect(s.addNote('1', { title: 'x', body: 'y' }, ticket)).rejects.toBeInstanceOf(PsaError);
      await expect(s.addNote('1', { title: 'x', body: 'y' }, ticket)).rejects.toMatchObject({ kind: 'permanent', details: { psaMessage: 'injected' } });
    } finally {
      fail = null;
      await s.close?.();
    }
  });
});
