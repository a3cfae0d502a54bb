import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, tokenFor, type Client } from '../admin/admin-helpers';
import { insertCompany, insertTicket } from '../operator/operator-fixtures';

/**
 * Issue 15 item 9: DELETE /api/v1/contracts/:id — 204 when nothing refers to the contract (its own
 * lines, notes and billing rules go with it), otherwise 409 naming what does; audited; scoped.
 */
describe('DELETE /api/v1/contracts/:id', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let other: string;

  beforeAll(async () => {
    t = await createTestApp();
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    other = await insertCompany(t.db, 'Other Ltd');
  });
  afterAll(async () => t.close());

  const newContract = async (companyId: string = String(w.company.id), over: Record<string, unknown> = {}) => {
    const c = await insertRow(t.db, 'contracts', { company_id: companyId, name: 'Spare', type: 'recurring_service', period_type: 'yearly', start_date: '2026-01-01', end_date: '2026-12-31', ...over });
    await t.db('contract_services').insert({ contract_id: c.id, service_id: w.serviceDesk.id, units: 1, unit_price: '10.00' });
    await insertRow(t.db, 'contract_notes', { contract_id: c.id, body: 'signed' });
    return String(c.id);
  };

  it('deletes a contract nothing refers to, with its lines and notes; audited with the deleted row', async () => {
    const id = await newContract();
    const res = await api.delete(`/contracts/${id}`);
    expect(res.status).toBe(204);
    expect((await api.get(`/contracts/${id}`)).status).toBe(404);
    expect(await t.db('contract_services').where('contract_id', id)).toEqual([]);
    const audit = await t.db('audit_log').where({ entity_type: 'contract', entity_id: id, action: 'delete' }).first();
    expect(audit.before).toMatchObject({ name: 'Spare', company_id: String(w.company.id) });
    expect((await api.delete(`/contracts/${id}`)).status).toBe(404);
  });

  it('409 naming the tickets, device links, time entries and renewals that refer to it; nothing is deleted', async () => {
    const res = await api.delete(`/contracts/${w.mailContract.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    expect(res.body.error.message).toMatch(/is in use: 1 device links/);
    expect(res.body.error.details).toEqual({ references: { deviceLinks: 1 } });

    const id = await newContract();
    const ticket = await insertTicket(t.db, { company_id: w.company.id, contract_id: id });
    await insertRow(t.db, 'time_entries', { ticket_id: ticket.id, contract_id: id, work_date: '2026-03-02', hours: '1.00' });
    const renewal = await newContract(String(w.company.id), { name: 'Spare 2027', start_date: '2027-01-01', end_date: '2027-12-31', renewal_of_id: id });
    const busy = await api.delete(`/contracts/${id}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.details).toEqual({ references: { tickets: 1, timeEntries: 1, renewals: 1 } });
    expect(busy.body.error.message).toBe(`contract ${id} is in use: 1 tickets, 1 time entries, 1 renewals of it`);
    const ofRenewal = await api.delete(`/contracts/${renewal}`);
    expect(ofRenewal.status).toBe(409);
    expect(ofRenewal.body.error.details).toEqual({ references: { renewalOf: 1 } });
    expect((await api.get(`/contracts/${id}`)).status).toBe(200);
  });

  it('company scope: a scoped admin cannot delete (or learn of) another company’s contract; viewers may not delete', async () => {
    const id = await newContract(other);
    const scoped = await tokenFor(t, 'admin', [String(w.company.id)]);
    expect((await api.delete(`/contracts/${id}`, scoped)).status).toBe(404);
    const viewer = await tokenFor(t, 'viewer');
    expect((await api.delete(`/contracts/${id}`, viewer)).status).toBe(403);
    const own = await tokenFor(t, 'admin', [other]);
    expect((await api.delete(`/contracts/${id}`, own)).status).toBe(204);
  });
});
