import { createTestApp, type TestApp } from '../../helpers/app';
import { seedWorld, type World } from '../../helpers/seed';
import { client, expectConforms, tokenFor, type Client } from '../admin/admin-helpers';
import { insertAlert, insertCompany, insertSource, insertTicket } from './operator-fixtures';

/**
 * SPEC §9 "alerts" (issue 15 item 9): GET /api/v1/alerts — filters source, companyId, deviceId,
 * state, outcome, from/to (since/until), q; keyset-paged newest first like the other lists; an alert
 * belongs to the company of its ticket, so a scoped token sees only its companies' alerts.
 */
describe('GET /api/v1/alerts', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let other: string;
  const a: Record<string, string> = {};
  const tk: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    other = await insertCompany(t.db, 'Other Ltd');
    const datto = await insertSource(t.db, 'datto');
    const ninja = await insertSource(t.db, 'ninja');
    const mailTicket = (await insertTicket(t.db, { company_id: w.company.id, device_id: w.mailServer.id })).id;
    const printerTicket = (await insertTicket(t.db, { company_id: w.company.id, device_id: w.printer.id })).id;
    const otherTicket = (await insertTicket(t.db, { company_id: other })).id;
    Object.assign(tk, { mail: mailTicket, printer: printerTicket, other: otherTicket });
    a.mailDisk = (await insertAlert(t.db, datto, { ticketId: mailTicket })).alertId;
    a.mailResolved = (await insertAlert(t.db, datto, { ticketId: mailTicket, outcome: 'resolved' })).alertId;
    a.printer = (await insertAlert(t.db, ninja, { ticketId: printerTicket })).alertId;
    a.other = (await insertAlert(t.db, datto, { ticketId: otherTicket })).alertId;
    a.suppressed = (await insertAlert(t.db, ninja, { ticketId: null, outcome: 'suppressed', status: 'suppressed' })).alertId;
    await t.db('alerts').where('id', a.mailResolved).update({ state: 'resolved', occurred_at: new Date('2026-03-02T09:00:00Z') });
    await t.db('alerts').where('id', a.printer).update({ title: 'Toner low (50%_left)', message: 'Printer 3rd floor', occurred_at: new Date('2026-03-03T08:00:00Z') });
  });
  afterAll(async () => t.close());

  const idsOf = async (query: string, auth?: string) => {
    const res = await api.get(`/alerts${query}`, auth);
    expect(res.status).toBe(200);
    return (res.body.items as Array<{ id: string }>).map((x) => x.id);
  };

  it('lists alerts newest first with source, state, outcome, ticket, and the ticket’s company and device', async () => {
    expect(await idsOf('')).toEqual([a.suppressed, a.other, a.printer, a.mailResolved, a.mailDisk]);
    const res = await api.get(`/alerts?deviceId=${w.printer.id}`);
    expect(res.body.items).toEqual([
      expect.objectContaining({ id: a.printer, source: 'ninja', state: 'firing', outcome: 'ticket_created', companyId: String(w.company.id), deviceId: String(w.printer.id), title: 'Toner low (50%_left)' }),
    ]);
  });

  it('filters by source, companyId, deviceId, state, outcome, period and text', async () => {
    expect(await idsOf('?source=ninja')).toEqual([a.suppressed, a.printer]);
    expect(await idsOf(`?companyId=${w.company.id}`)).toEqual([a.printer, a.mailResolved, a.mailDisk]);
    expect(await idsOf(`?deviceId=${w.mailServer.id}`)).toEqual([a.mailResolved, a.mailDisk]);
    expect(await idsOf('?state=resolved')).toEqual([a.mailResolved]);
    expect(await idsOf('?outcome=suppressed')).toEqual([a.suppressed]);
    expect(await idsOf('?from=2026-03-02T08:30:00Z&to=2026-03-03T00:00:00Z')).toEqual([a.mailResolved]);
    expect(await idsOf('?since=2026-03-03T00:00:00Z')).toEqual([a.printer]);
    expect(await idsOf('?until=2026-03-02T08:30:00Z')).toEqual([a.suppressed, a.other, a.mailDisk]);
    expect(await idsOf('?q=toner')).toEqual([a.printer]);
    expect(await idsOf('?q=3RD%20FLOOR')).toEqual([a.printer]);
    // % and _ are text, not patterns.
    expect(await idsOf('?q=50%25_')).toEqual([a.printer]);
    expect(await idsOf('?q=_')).toEqual([a.printer]);
    expect(await idsOf(`?source=datto&state=firing&companyId=${w.company.id}`)).toEqual([a.mailDisk]);
  });

  it('issue 17: ticketId lists the ticket’s alerts (the console’s ticket page); scoped like the rest; a bad id is 400', async () => {
    expect(await idsOf(`?ticketId=${tk.mail}`)).toEqual([a.mailResolved, a.mailDisk]);
    expect(await idsOf(`?ticketId=${tk.printer}&state=firing`)).toEqual([a.printer]);
    expect(await idsOf(`?ticketId=${tk.mail}&state=resolved`)).toEqual([a.mailResolved]);
    expect(await idsOf('?ticketId=999999')).toEqual([]);
    const res = await api.get(`/alerts?ticketId=${tk.printer}`);
    expectConforms('get', '/api/v1/alerts', res);
    const scoped = await tokenFor(t, 'viewer', [other]);
    expect(await idsOf(`?ticketId=${tk.mail}`, scoped)).toEqual([]);
    expect(await idsOf(`?ticketId=${tk.other}`, scoped)).toEqual([a.other]);
    expect((await api.get('/alerts?ticketId=abc')).status).toBe(400);
  });

  it('pages with limit and nextCursor without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api.get(`/alerts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((x: { id: string }) => x.id));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual([a.suppressed, a.other, a.printer, a.mailResolved, a.mailDisk]);
  });

  it('refuses unknown filters and values, naming them', async () => {
    expect((await api.get('/alerts?state=open')).status).toBe(400);
    expect((await api.get('/alerts?outcome=whatever')).status).toBe(400);
    expect((await api.get('/alerts?from=yesterday')).status).toBe(400);
    expect((await api.get('/alerts?from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z')).status).toBe(400);
    expect((await api.get('/alerts?colour=red')).status).toBe(400);
    expect((await api.get('/alerts', null)).status).toBe(401);
  });

  it('company scope: a scoped token sees only alerts whose ticket is one of its companies’ (never ones without a ticket)', async () => {
    const scoped = await tokenFor(t, 'viewer', [other]);
    expect(await idsOf('', scoped)).toEqual([a.other]);
    expect(await idsOf(`?companyId=${w.company.id}`, scoped)).toEqual([]);
    expect(await idsOf('?outcome=suppressed', scoped)).toEqual([]);
  });
});
