import { createTestApp, type TestApp } from '../../helpers/app';
import { insertRow, seedWorld, type World } from '../../helpers/seed';
import { client, type Client } from '../admin/admin-helpers';
import { insertTicket } from './operator-fixtures';

/**
 * R-TKT-1 with issue 15 item 5: the day a triaged ticket's contract must be effective on is the
 * ticket's date as the alert path counts it — in the company's zone, else in the zone of the
 * contract's SLA, else HUB_RENEWAL_TIMEZONE — not the UTC date. A ticket that began at 00:30 Berlin
 * time on 1 April (22:30 UTC on 31 March) belongs to a contract starting 1 April, and not to one
 * that ended on 31 March.
 */
describe('R-TKT-1, issue 15 item 5: triage judges the contract on the ticket’s date in its zone', () => {
  let t: TestApp;
  let api: Client;
  let w: World;
  let berlin: string;
  let plain: string;
  let april: string;
  let march: string;
  let aprilBerlinSla: string;
  let aprilNoSla: string;
  const firstOccurredAt = new Date('2026-03-31T22:30:00Z'); // 00:30 on 1 April in Berlin (CEST)

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2026-04-01T06:00:00Z') } });
    api = client(t);
    w = await seedWorld(t.db, { source: 'datto', site: 'site-1' });
    berlin = String((await insertRow(t.db, 'companies', { name: 'Berlin GmbH', timezone: 'Europe/Berlin' })).id);
    plain = String((await insertRow(t.db, 'companies', { name: 'No Zone Ltd' })).id);
    const contract = async (company: string, name: string, start: string, end: string, slaId: string | null) =>
      String(
        (
          await insertRow(t.db, 'contracts', {
            company_id: company,
            name,
            type: 'recurring_service',
            period_type: 'yearly',
            start_date: start,
            end_date: end,
            sla_id: slaId,
          })
        ).id,
      );
    april = await contract(berlin, 'Berlin from April', '2026-04-01', '2027-03-31', null);
    march = await contract(berlin, 'Berlin until March', '2025-04-01', '2026-03-31', null);
    aprilBerlinSla = await contract(
      plain,
      'No-zone company, Berlin SLA, from April',
      '2026-04-01',
      '2027-03-31',
      w.sla24x7.id,
    );
    aprilNoSla = await contract(plain, 'No-zone company, no SLA, from April', '2026-04-01', '2027-03-31', null);
  });
  afterAll(async () => t.close());

  const ticketOf = async (companyId: string) =>
    (
      await insertTicket(t.db, {
        company_id: companyId,
        needs_triage: true,
        created_at: firstOccurredAt,
        first_occurred_at: firstOccurredAt,
      })
    ).id;

  it('the company’s zone: a contract starting on the Berlin date is accepted, one that ended the UTC date before is refused (422 naming the date)', async () => {
    const id = await ticketOf(berlin);
    const ok = await api.patch(`/tickets/${id}`, { contractId: april, reason: 'the renewal' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ contractId: april, needsTriage: false });

    const other = await ticketOf(berlin);
    const refused = await api.patch(`/tickets/${other}`, { contractId: march, reason: 'the old one' });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain("not effective on the ticket's date 2026-04-01");
  });

  it('GET /tickets/:id/options lists the contracts effective on the date in the company’s zone', async () => {
    const id = await ticketOf(berlin);
    const res = await api.get(`/tickets/${id}/options`);
    expect(res.status).toBe(200);
    expect(res.body.date).toBe('2026-04-01');
    const ids = res.body.contracts.map((c: { id: string }) => c.id);
    expect(ids).toContain(april);
    expect(ids).not.toContain(march);
  });

  it('no company zone: the zone of the contract’s SLA counts; with neither, HUB_RENEWAL_TIMEZONE (UTC here) does', async () => {
    const id = await ticketOf(plain);
    expect((await api.patch(`/tickets/${id}`, { contractId: aprilBerlinSla, reason: 'Berlin SLA' })).status).toBe(200);

    const other = await ticketOf(plain);
    const refused = await api.patch(`/tickets/${other}`, { contractId: aprilNoSla, reason: 'no SLA, UTC date' });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain("not effective on the ticket's date 2026-03-31");
  });
});

describe('R-TKT-1, issue 15 item 5: HUB_RENEWAL_TIMEZONE is the fallback zone of the ticket’s date', () => {
  let t: TestApp;
  let api: Client;

  beforeAll(async () => {
    t = await createTestApp({ env: { HUB_RENEWAL_TIMEZONE: 'Europe/Berlin' } });
    api = client(t);
  });
  afterAll(async () => t.close());

  it('a company without zone and a contract without SLA: the date is counted in HUB_RENEWAL_TIMEZONE', async () => {
    const company = String((await insertRow(t.db, 'companies', { name: 'Fallback Ltd' })).id);
    const contract = String(
      (
        await insertRow(t.db, 'contracts', {
          company_id: company,
          name: 'From April',
          type: 'recurring_service',
          period_type: 'yearly',
          start_date: '2026-04-01',
          end_date: '2027-03-31',
        })
      ).id,
    );
    const at = new Date('2026-03-31T22:30:00Z');
    const { id } = await insertTicket(t.db, {
      company_id: company,
      needs_triage: true,
      created_at: at,
      first_occurred_at: at,
    });
    const res = await api.patch(`/tickets/${id}`, { contractId: contract, reason: 'renewal' });
    expect(res.status).toBe(200);
  });
});
