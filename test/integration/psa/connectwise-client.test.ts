import { connectWiseConfigSchema, type ConnectWiseConfig } from '../../../connectors/connectwise/schema';
import { ConnectWiseError } from '../../../connectors/connectwise/http';
import {
  addNote,
  closeTicket,
  ensureTicket,
  findTicketByMarker,
  hubTicketIdOf,
  listClosedSince,
  updateTicket,
  type CwTicketInput,
} from '../../../connectors/connectwise/tickets';
import { testConnection } from '../../../connectors/connectwise/reference';
import { FakeConnectWise } from '../../helpers/fake-connectwise';

/**
 * The ConnectWise client against the local fake ConnectWise (auth, required fields, faults).
 * R-PSA-1: contract (agreement) and device (configuration) copied into the PSA ticket (R-LINK-3), exactly once.
 */
describe('connectwise client (fake ConnectWise)', () => {
  let cw: FakeConnectWise;
  let config: ConnectWiseConfig;
  const input = (hubTicketId: string, extra: Partial<CwTicketInput> = {}): CwTicketInput => ({
    hubTicketId,
    title: 'Disk C: 95% full on FS01',
    description: 'Alert: disk almost full.\nContract "Server care" chosen by rule device-contract.',
    priority: 'high',
    companyRef: '250',
    contractRef: '77',
    deviceRef: '901',
    dueAt: '2026-12-07T10:00:00.000Z',
    ...extra,
  });

  beforeEach(async () => {
    cw = await new FakeConnectWise().start();
    cw.companies = [{ id: 250, identifier: 'Contoso', name: 'Contoso Ltd', deletedFlag: false }];
    cw.agreements = [{ id: 77, name: 'Server care', company: { id: 250 }, additions: [], configurations: [901] }];
    cw.configurations = [{ id: 901, name: 'FS01', company: { id: 250 }, serialNumber: null, activeFlag: true }];
    config = connectWiseConfigSchema.parse({ ...cw.config(), timeoutMs: 500 });
  });
  afterEach(() => cw.stop());

  it('creates the ticket with company, board, status, priority, agreement (R-LINK-3), due date, marker and the configuration attached', async () => {
    const { id, created } = await ensureTicket(config, input('41'));
    expect(created).toBe(true);
    const t = cw.tickets.get(id)!;
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
    expect(hubTicketIdOf(config, t.externalXRef)).toBe('41');
  });

  it('refuses wrong credentials and a missing clientId as permanent errors (the fake checks both)', async () => {
    await expect(ensureTicket({ ...config, privateKey: 'wrong' }, input('1'))).rejects.toMatchObject({ kind: 'permanent', status: 401 });
    await expect(ensureTicket({ ...config, clientId: 'other' }, input('1'))).rejects.toMatchObject({ kind: 'permanent', status: 401 });
    expect(cw.tickets.size).toBe(0);
  });

  it('keeps ConnectWise\'s message on a 400 and calls it permanent', async () => {
    const err = await ensureTicket(config, input('2', { companyRef: '999' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectWiseError);
    expect(err).toMatchObject({ kind: 'permanent', status: 400 });
    expect((err as Error).message).toContain('company: company 999 not found');
  });

  it('treats 429 (with Retry-After), 500 and a slow answer as transient', async () => {
    cw.inject({ kind: 'status', status: 429, retryAfter: 7 });
    await expect(ensureTicket(config, input('3'))).rejects.toMatchObject({ kind: 'transient', status: 429, retryAfterMs: 7000 });
    cw.inject({ kind: 'status', status: 500 });
    await expect(ensureTicket(config, input('3'))).rejects.toMatchObject({ kind: 'transient', status: 500 });
    cw.inject({ kind: 'slow', ms: 1500 });
    await expect(ensureTicket(config, input('3'))).rejects.toMatchObject({ kind: 'transient', message: expect.stringContaining('timed out') });
    expect(cw.tickets.size).toBe(0);
  });

  it('a create whose answer is lost is found by its marker on the retry: exactly one ConnectWise ticket', async () => {
    cw.inject({ kind: 'lose-response' }, { method: 'POST', path: /^\/service\/tickets$/ });
    await expect(ensureTicket(config, input('5'))).rejects.toMatchObject({ kind: 'transient' });
    expect(cw.ticketByMarker('hub:5')).toHaveLength(1);
    const again = await ensureTicket(config, input('5'));
    expect(again.created).toBe(false);
    expect(cw.ticketByMarker('hub:5')).toHaveLength(1);
    expect(cw.tickets.get(again.id)!.configurations).toEqual([901]);
    expect(await findTicketByMarker(config, '6')).toBeNull();
  });

  it('adds internal notes, changes priority and agreement, closes with a resolution note', async () => {
    const { id } = await ensureTicket(config, input('7', { deviceRef: undefined, contractRef: undefined }));
    await addNote(config, String(id), '+9,874 occurrences since 10:02');
    await updateTicket(config, String(id), { priority: 'critical', contractRef: '77' });
    const t = cw.tickets.get(id)!;
    expect(t.notes[0]).toMatchObject({ text: '+9,874 occurrences since 10:02', internalAnalysisFlag: true });
    expect(t.priority.name).toBe('Priority 1 - Emergency Response');
    expect(t.agreement).toEqual({ id: 77 });
    await closeTicket(config, String(id), 'Resolved: the alert cleared');
    expect(t.notes[1]).toMatchObject({ resolutionFlag: true });
    expect(t).toMatchObject({ closedFlag: true, status: { name: '>Closed' } });
  });

  it('lists the hub\'s tickets closed since a moment (the status-back poll), not others', async () => {
    const a = await ensureTicket(config, input('8', { deviceRef: undefined }));
    const b = await ensureTicket(config, input('9', { deviceRef: undefined }));
    const since = new Date(Date.now() - 60_000);
    await cw.setStatus(a.id, 'Completed');
    expect((await listClosedSince(config, since)).map((t) => t.id)).toEqual([a.id]);
    expect(await listClosedSince(config, new Date(Date.now() + 60_000))).toEqual([]);
    expect(cw.tickets.get(b.id)!.closedFlag).toBe(false);
  });

  it('test connection reports the credentials and the board', async () => {
    expect(await testConnection(config)).toEqual([
      { check: 'credentials', ok: true, message: expect.stringContaining('signed in') },
      { check: 'board', ok: true, message: 'board "Help Desk" (1) found' },
    ]);
    const bad = await testConnection({ ...config, board: 'Nope' });
    expect(bad[1]).toMatchObject({ ok: false });
    const denied = await testConnection({ ...config, publicKey: 'x' });
    expect(denied).toEqual([{ check: 'credentials', ok: false, message: expect.stringContaining('401') }]);
  });
});
