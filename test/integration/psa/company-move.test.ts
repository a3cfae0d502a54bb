import request from 'supertest';
import type { Knex } from 'knex';
import { startFakeAutotask, type FakeAutotask } from '../../helpers/fake-autotask';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';
import { createSource, insertRow, seedWorld, type World } from '../../helpers/seed';

/**
 * Issue 16 (psafix item 3), R-LINK-3/5 after delivery: a hub ticket moved to another company by
 * triage (`PATCH /api/v1/tickets/:id`, the one place a ticket's company, contract or SLA changes)
 * reaches Autotask as one PATCH with the new companyID, contractID and serviceLevelAgreementID, the
 * previous company's configuration item cleared. The fake refuses, as Autotask does, a contract or
 * item of another company than the ticket's — so without the companyID the update fails. A move to
 * a company Autotask has no id for leaves the PSA ticket's company, clears the contract, and the
 * triage note says why.
 */
const TOKEN = 'generic-source-token-0123456789';
let fake: FakeAutotask;
let h: TestHub;
let db: Knex;
let world: World;

const alert = { alertId: 'disk-mail01', state: 'firing', severity: 'high', category: 'disk', title: 'Disk C: almost full', device: { id: 'dev-mail01', hostname: 'mail01', site: 'acme-hq' }, occurredAt: '2026-03-10T10:00:00Z' };
const api = {
  post: (p: string, b: unknown = {}) => request(h.url).post(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
  patch: (p: string, b: unknown) => request(h.url).patch(`/api/v1${p}`).set('Authorization', ADMIN).send(b as object),
};
const refs = (table: string, id: string, value: Record<string, string>) => db(table).where({ id }).update({ psa_refs: JSON.stringify(value) });
const delivered = (ticketId: string, changeSeq: number) =>
  waitFor(async () => {
    const d = await db('psa_deliveries').where({ ticket_id: ticketId }).first();
    if (d?.state === 'failed') throw new Error(`delivery failed: ${String(d.last_error)}`);
    return d?.state === 'delivered' && Number(d.sent_seq) >= changeSeq ? d : undefined;
  }, 20_000, `delivery of ticket ${ticketId} at change ${changeSeq}`);

beforeAll(async () => {
  fake = await startFakeAutotask();
  h = await startTestHub({ env: { HUB_AUTOTASK_ZONE_LOOKUP_URL: fake.baseUrl, HUB_PSA_COALESCE_MS: '100', HUB_PSA_SWEEP_MS: '300', HUB_PSA_ATTEMPTS: '1' } });
  db = h.t.db;
  await createSource(db, h.config.HUB_SECRET_KEY, { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(db, { source: 'rmm', site: 'acme-hq' });
  expect((await api.post('/psa-connections', { name: 'autotask', type: 'autotask', config: { ...fake.credentials, baseUrl: fake.baseUrl }, rateLimitPerHour: 360_000 })).status).toBe(201);
  await refs('companies', world.company.id, { autotask: '29683' });
  await refs('contracts', world.mailContract.id, { autotask: '77' });
  await refs('devices', world.mailServer.id, { autotask: '901' });
  await refs('slas', world.sla24x7.id, { autotask: '3' });
  await refs('slas', world.slaOffice.id, { autotask: '4' });
  fake.data.contracts.push({ id: 77, companyID: 29683, contractName: 'Mail server contract' }, { id: 88, companyID: 30001, contractName: 'Contoso care' });
  fake.data.configurationItems.push({ id: 901, companyID: 29683, referenceTitle: 'mail01' });
}, 30_000);
afterAll(async () => {
  await h?.close();
  await fake?.close();
});

it('a ticket moved to another company: Autotask gets the new companyID, contractID and SLA, the old item cleared; to a company without a ref: stays, contract cleared, the note says why', async () => {
  const contoso = await insertRow(db, 'companies', { name: 'Contoso Ltd', code: 'CONTOSO', psa_refs: JSON.stringify({ autotask: '30001' }) });
  const contosoCare = await insertRow(db, 'contracts', { company_id: contoso.id, name: 'Contoso care', code: 'C-CON', type: 'recurring_service', period_type: 'yearly', start_date: '2026-01-01', end_date: '2026-12-31', sla_id: world.slaOffice.id, psa_refs: JSON.stringify({ autotask: '88' }) });
  const globex = await insertRow(db, 'companies', { name: 'Globex', code: 'GLOBEX' });

  expect((await request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).send(alert)).status).toBe(202);
  const ticket = await waitFor(async () => db('tickets').first(), 20_000, 'the ticket');
  await delivered(ticket.id, 0);
  const at = fake.tickets[0]!;
  expect(at.fields).toMatchObject({ companyID: 29683, contractID: 77, configurationItemID: 901, serviceLevelAgreementID: 3 });

  // Triage: the alert was Contoso's. Device cleared (mail01 is ACME's), contract → Contoso care (SLA Standard).
  const moved = await api.patch(`/tickets/${ticket.id}`, { companyId: String(contoso.id), deviceId: null, contractId: String(contosoCare.id), reason: 'wrong customer' });
  expect(moved.status).toBe(200);
  await delivered(ticket.id, 1);
  expect(at.patches.at(-1)).toMatchObject({ id: at.id, companyID: 30001, contractID: 88, configurationItemID: null, serviceLevelAgreementID: 4 });
  expect(at.fields).toMatchObject({ companyID: 30001, contractID: 88, configurationItemID: null, serviceLevelAgreementID: 4 });

  // Globex has no psaRefs.autotask: no companyID sent, Contoso's contract cleared (else refused), the note explains.
  const notesBefore = at.notes.length;
  const toGlobex = await api.patch(`/tickets/${ticket.id}`, { companyId: String(globex.id), contractId: null, reason: 'sold to Globex' });
  expect(toGlobex.status).toBe(200);
  await delivered(ticket.id, 2);
  const last = at.patches.at(-1)!;
  expect(last).not.toHaveProperty('companyID');
  expect(last).toMatchObject({ contractID: null, configurationItemID: null });
  expect(at.fields.companyID).toBe(30001);
  const note = at.notes.slice(notesBefore).map((n) => String(n.description)).join('\n');
  expect(note).toContain('sold to Globex');
  expect(note).toContain('not moved in autotask: company Globex has no psaRefs.autotask; the PSA ticket stays with its previous company');
});
