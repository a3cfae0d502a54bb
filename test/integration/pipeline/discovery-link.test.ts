import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Knex } from 'knex';
import { createSource, seedWorld, type World } from '../../helpers/seed';
import { createTestDatabase } from '../../helpers/harness';
import { ADMIN, startTestHub, waitFor, type TestHub } from '../../helpers/hub';

/**
 * R-LINK-7 (issue 15 item 3): a rules `link` event links a discovered device to a contract and
 * service right away, recorded as a dated link naming the rule; the alert that discovered it gets
 * that contract. Over HTTP on the real Postgres and Redis.
 */

const TOKEN = 'generic-source-token-0123456789';
let h: TestHub;
let db: Knex;
let world: World;
let rulesDir: string;

const post = (body: unknown) =>
  request(h.url).post('/hooks/rmm').set('Authorization', `Bearer ${TOKEN}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
const alert = (alertId: string, hostname: string) => ({
  alertId,
  state: 'firing',
  severity: 'high',
  category: 'toner',
  title: 'Toner low',
  device: { hostname, site: 'acme-hq' },
  occurredAt: '2026-03-10T10:00:00Z',
});
/** Delivers the alert and waits for its ticket. */
async function ticketOf(body: unknown): Promise<Record<string, unknown>> {
  const res = await post(body);
  expect(res.status).toBe(202);
  const id = String(res.body.alertIds[0]);
  return waitFor(() => db('tickets').whereIn('id', db('alerts').select('ticket_id').where({ id })).first(), 20_000, `ticket of alert ${id}`);
}

beforeAll(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-rules-link-'));
  fs.copyFileSync(path.join(__dirname, '../../../rules/00-default.json'), path.join(rulesDir, '00-default.json'));
  fs.writeFileSync(
    path.join(rulesDir, '10-discovery.json'),
    JSON.stringify({
      rules: [
        {
          name: 'mail-to-printer-contract',
          priority: 50,
          conditions: { all: [{ fact: 'alert', path: '$.hostname', operator: 'equal', value: 'mail01' }] },
          event: { type: 'link', params: { contract: 'C-PRINT' } },
        },
        {
          name: 'printers-to-printer-contract',
          priority: 50,
          conditions: { all: [{ fact: 'alert', path: '$.hostname', operator: 'equal', value: 'printer-4og' }] },
          event: { type: 'link', params: { contract: 'C-PRINT', service: 'PRINT' } },
        },
      ],
    }),
  );
  // The world first: the rules name C-PRINT and PRINT, which must exist when they are validated.
  const t = await createTestDatabase();
  await createSource(t.db, process.env.HUB_SECRET_KEY ?? '', { name: 'rmm', plugin: 'generic', auth: { type: 'token', token: TOKEN } });
  world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
  h = await startTestHub({ t, env: { RULES_DIR: rulesDir } });
  db = h.t.db;
});
afterAll(async () => {
  await h?.close();
  await h?.t.drop();
  fs.rmSync(rulesDir, { recursive: true, force: true });
});

describe('R-LINK-7: discovery linking by a rules "link" event', () => {
  it('the dry run shows the link event in the trace and the decision', async () => {
    const res = await request(h.url).post('/api/v1/rules/test').set('Authorization', ADMIN).send({ alert: { ...alert('dry', 'printer-4og'), source: 'rmm' } });
    expect(res.status).toBe(200);
    expect(res.body.decision.link).toEqual({ contract: 'C-PRINT', service: 'PRINT', rule: 'printers-to-printer-contract' });
    expect(JSON.stringify(res.body.trace)).toContain('printers-to-printer-contract');
    expect(await db('devices').where({ hostname: 'printer-4og' })).toHaveLength(0);
  });

  it('links the discovered device from the alert date, naming the rule; this alert and the next get the contract', async () => {
    const t = await ticketOf(alert('toner-1', 'printer-4og'));
    expect(t).toMatchObject({ contract_id: world.printerContract.id, service_id: world.servicePrint.id, sla_id: world.slaOffice.id, needs_triage: false });
    const device = await db('devices').where({ hostname: 'printer-4og' }).first();
    expect(device).toMatchObject({ discovered: true, company_id: world.company.id });
    const links = await db('device_contract_links').where({ device_id: device.id });
    expect(links).toEqual([expect.objectContaining({ contract_id: world.printerContract.id, service_id: world.servicePrint.id, created_by_rule: 'printers-to-printer-contract', valid_to: null })]);
    expect(links[0].valid_from).toBe('2026-03-10');
    // The next alert of the device finds the link; no second link is made.
    expect(await ticketOf(alert('toner-2', 'printer-4og'))).toMatchObject({ contract_id: world.printerContract.id });
    expect(await db('device_contract_links').where({ device_id: device.id })).toHaveLength(1);
  });

  it('a device with a link in force keeps it: the link event does not override it', async () => {
    expect(await ticketOf(alert('mail-1', 'mail01'))).toMatchObject({ contract_id: world.mailContract.id });
    expect(await db('device_contract_links').where({ device_id: world.mailServer.id })).toEqual([expect.objectContaining({ contract_id: world.mailContract.id, created_by_rule: null })]);
  });
});
