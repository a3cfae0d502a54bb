import { connectWiseConnector } from '../../../connectors/connectwise';
import { PsaError, type PsaSession, type PsaTicket } from '../../../connectors/types';
import { FakeConnectWise } from '../../helpers/fake-connectwise';

/**
 * The `connectwise` connector against the local fake ConnectWise (auth, required fields, faults).
 * R-PSA-1 / R-LINK-3: the contract (agreement) and the device (configuration) are copied into the
 * PSA ticket; a create whose answer is lost is found by its marker, so there is exactly one ticket.
 */
describe('connectwise connector (fake ConnectWise)', () => {
  let cw: FakeConnectWise;
  let session: PsaSession;
  const open = (extra: Record<string, unknown> = {}) =>
    connectWiseConnector.open(connectWiseConnector.configSchema.parse({ ...cw.config(), timeoutMs: 500, ...extra }), { connectionName: 'cw', now: () => new Date() });
  const ticket = (hubTicketId: string, extra: Partial<PsaTicket> = {}): PsaTicket => ({
    hubTicketId,
    title: 'Disk C: 95% full on FS01',
    description: 'Alert: disk almost full.\nContract "Server care" chosen by rule device-contract.',
    priority: 'high',
    status: 'new',
    queue: null,
    dueAt: '2026-12-07T10:00:00.000Z',
    occurrences: 1,
    firstOccurredAt: '2026-12-06T10:00:00.000Z',
    refs: { company: '250', contract: '77', device: '901', service: null, sla: null },
    names: { company: 'Contoso', contract: 'Server care', device: 'FS01', service: null, sla: null },
    ...extra,
  });

  beforeEach(async () => {
    cw = await new FakeConnectWise().start();
    cw.companies = [{ id: 250, identifier: 'Contoso', name: 'Contoso Ltd', deletedFlag: false }];
    cw.agreements = [{ id: 77, name: 'Server care', company: { id: 250 }, additions: [], configurations: [901] }];
    cw.configurations = [{ id: 901, name: 'FS01', company: { id: 250 }, serialNumber: null, activeFlag: true }];
    session = open();
  });
  afterEach(async () => {
    await session.close?.();
    await cw.stop();
  });

  it('creates the ticket with company, board, status, priority, agreement (R-LINK-3), due date, marker and the configuration attached', async () => {
    const handle = await session.createTicket(ticket('41'));
    const t = cw.tickets.get(Number(handle.externalId))!;
    expect(t).toMatchObject({
      summary: 'Disk C: 95% full on FS01',
      externalXRef: 'hub:41',
      company: { id: 250 },
      board: { name: 'Help Desk' },
      status: { name: 'New' },
      priority: { name: 'Priority 2 - Quick Response' },
      agreement: { id: 77 },
      requiredDate: '2026-12-07T10:00:00Z',
    });
    expect(t.initialDescription).toContain('Server care');
    expect(t.configurations).toEqual([901]);
    expect(await session.findByExternalId('41')).toEqual(handle);
    expect(await session.findByExternalId('42')).toBeNull();
  });

  it('signs in with companyId+publicKey:privateKey and the clientId header (the fake refuses anything else, permanently)', async () => {
    const bad = open({ privateKey: 'wrong' });
    await expect(bad.createTicket(ticket('1'))).rejects.toMatchObject({ kind: 'permanent', details: { status: 401 } });
    const noClient = open({ clientId: 'other' });
    await expect(noClient.createTicket(ticket('1'))).rejects.toMatchObject({ kind: 'permanent', details: { status: 401 } });
    await Promise.all([bad.close?.(), noClient.close?.()]);
    expect(cw.tickets.size).toBe(0);
  });

  it("keeps ConnectWise's message on a 400 and calls it permanent", async () => {
    const err = await session.createTicket(ticket('2', { refs: { company: '999', contract: null, device: null, service: null, sla: null } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PsaError);
    expect(err).toMatchObject({ kind: 'permanent', details: { status: 400, psaMessage: expect.stringContaining('company: company 999 not found') } });
  });

  it('treats 429 (with Retry-After), 500 and a slow answer as transient', async () => {
    cw.inject({ kind: 'status', status: 429, retryAfter: 7 });
    await expect(session.createTicket(ticket('3'))).rejects.toMatchObject({ kind: 'transient', details: { status: 429, retryAfterMs: 7000 } });
    cw.inject({ kind: 'status', status: 500 });
    await expect(session.createTicket(ticket('3'))).rejects.toMatchObject({ kind: 'transient', details: { status: 500 } });
    cw.inject({ kind: 'slow', ms: 1500 });
    await expect(session.findByExternalId('3')).rejects.toMatchObject({ kind: 'transient' });
    expect(cw.tickets.size).toBe(0);
  });

  it('a create whose answer is lost is found by its marker before the retry: exactly one ConnectWise ticket', async () => {
    cw.inject({ kind: 'lose-response' }, { method: 'POST', path: /^\/service\/tickets$/ });
    await expect(session.createTicket(ticket('5'))).rejects.toMatchObject({ kind: 'transient' });
    expect(cw.ticketByMarker('hub:5')).toHaveLength(1);
    const found = await session.findByExternalId('5');
    expect(found).not.toBeNull();
    // The configuration attach never ran (the answer was lost); the next update heals it.
    await session.updateTicket(found!.externalId, ticket('5'));
    expect(cw.ticketByMarker('hub:5')).toHaveLength(1);
    expect(cw.tickets.get(Number(found!.externalId))!.configurations).toEqual([901]);
  });

  it('adds internal notes, changes the priority, closes with a resolution note', async () => {
    const { externalId } = await session.createTicket(ticket('7', { refs: { company: '250', contract: null, device: null, service: null, sla: null } }));
    await session.addNote(externalId, { title: 'Repeats', body: '+9,874 occurrences since 10:02' }, ticket('7'));
    await session.updateTicket(externalId, ticket('7', { priority: 'critical' }));
    const t = cw.tickets.get(Number(externalId))!;
    expect(t.notes[0]).toMatchObject({ text: 'Repeats\n\n+9,874 occurrences since 10:02', internalAnalysisFlag: true });
    expect(t.priority.name).toBe('Priority 1 - Emergency Response');
    expect(t.agreement).toEqual({ id: 77 });
    await session.closeTicket(externalId, ticket('7', { status: 'resolved' }));
    expect(t.notes[1]).toMatchObject({ resolutionFlag: true });
    expect(t).toMatchObject({ closedFlag: true, status: { name: '>Closed' } });
  });

  it('a ticket moved to another company in the hub moves in ConnectWise: company, then its agreement, in one PATCH', async () => {
    cw.companies.push({ id: 260, identifier: 'Globex', name: 'Globex', deletedFlag: false });
    cw.agreements.push({ id: 88, name: 'Globex care', company: { id: 260 }, additions: [], configurations: [] });
    const { externalId } = await session.createTicket(ticket('12', { refs: { company: '250', contract: '77', device: null, service: null, sla: null } }));
    await session.updateTicket(externalId, ticket('12', { refs: { company: '260', contract: '88', device: null, service: null, sla: null } }));
    expect(cw.tickets.get(Number(externalId))).toMatchObject({ company: { id: 260 }, agreement: { id: 88 } });
    const ops = cw.requests.filter((r) => r.method === 'PATCH').at(-1)!.body as Array<{ path: string }>;
    expect(ops.map((o) => o.path).indexOf('company')).toBeLessThan(ops.map((o) => o.path).indexOf('agreement'));
    // A company ConnectWise does not know is refused with its message (permanent), not silently kept.
    await expect(session.updateTicket(externalId, ticket('12', { refs: { company: '999', contract: null, device: null, service: null, sla: null } }))).rejects.toMatchObject({ kind: 'permanent' });
  });

  it('reports ticket state and the tickets closed since a moment (status back by polling), not others', async () => {
    const a = await session.createTicket(ticket('8', { refs: { company: '250', contract: null, device: null, service: null, sla: null } }));
    const b = await session.createTicket(ticket('9', { refs: { company: '250', contract: null, device: null, service: null, sla: null } }));
    const since = new Date(Date.now() - 60_000);
    await cw.setStatus(Number(a.externalId), 'Completed');
    expect(await session.getTicket!(a.externalId)).toMatchObject({ externalId: a.externalId, hubTicketId: '8', status: 'closed', psaStatus: 'Completed' });
    expect(await session.getTicket!(b.externalId)).toMatchObject({ hubTicketId: '9', status: 'new' });
    expect((await session.listChangedSince!(since)).map((s) => s.hubTicketId)).toEqual(['8']);
    expect(await session.listChangedSince!(new Date(Date.now() + 60_000))).toEqual([]);
    expect(await session.getTicket!('424242')).toBeNull();
  });

  it('test connection reports the credentials and the board', async () => {
    expect(await session.testConnection()).toEqual({
      ok: true,
      checks: [
        { name: 'credentials', ok: true, detail: expect.stringContaining('signed in') },
        { name: 'board', ok: true, detail: 'board "Help Desk" (1) found' },
      ],
    });
    const otherBoard = open({ board: 'Nope' });
    expect(await otherBoard.testConnection()).toMatchObject({ ok: false, checks: [{ ok: true }, { name: 'board', ok: false }] });
    const denied = open({ publicKey: 'x' });
    expect(await denied.testConnection()).toMatchObject({ ok: false, checks: [{ name: 'credentials', ok: false, detail: expect.stringContaining('401') }] });
    await Promise.all([otherBoard.close?.(), denied.close?.()]);
  });

  it('pages reference data for the import: agreements with their additions and configurations', async () => {
    cw.companies = Array.from({ length: 260 }, (_, i) => ({ id: 1000 + i, identifier: `C${i}`, name: `Company ${i}`, deletedFlag: false }));
    const first = await session.listCompanies!(null);
    expect(first.items).toHaveLength(250);
    expect(first.next).toBe('2');
    const second = await session.listCompanies!(first.next);
    expect(second.items).toHaveLength(10);
    expect(second.next).toBeNull();
    cw.agreements = [{ id: 77, name: 'Server care', company: { id: 1000 }, startDate: '2026-01-01T00:00:00Z', endDate: '2026-12-31T00:00:00Z', sla: { id: 3 }, additions: [{ id: 1, product: { id: 55 }, quantity: 4, unitPrice: 25 }], configurations: [901] }];
    const contracts = await session.listContracts!(null);
    expect(contracts.items[0]).toEqual({
      externalId: '77',
      name: 'Server care',
      fields: expect.objectContaining({ companyId: 1000, startDate: '2026-01-01T00:00:00Z', slaId: 3, services: [{ serviceId: 55, units: 4, unitPrice: 25 }], configurationItemIds: [901] }),
    });
  });
});
