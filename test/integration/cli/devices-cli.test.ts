import { Command } from 'commander';
import { createDb } from '../../../db/connection';
import { registerDeviceCommands } from '../../../cli/commands/devices';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { seedWorld, type World } from '../../helpers/seed';

let t: TestDatabase;
let world: World;
beforeAll(async () => {
  t = await createTestDatabase();
  world = await seedWorld(t.db, { source: 'rmm', site: 'acme-hq' });
});
afterAll(async () => t.drop());

async function run(args: string[]): Promise<string[]> {
  const out: string[] = [];
  const program = new Command().exitOverride();
  registerDeviceCommands(program, { openDb: () => createDb(t.url, 1), now: () => new Date('2026-06-15T10:00:00Z'), print: (l) => out.push(l) });
  await program.parseAsync(['node', 'hub', ...args]);
  return out;
}

describe('hub devices link (R-LINK-8: contracts and devices linked by hand)', () => {
  it('R-LINK-1, R-LINK-8: moves the printer to the service-desk contract from a date, keeping the history, audited', async () => {
    const out = await run(['devices', 'link', world.printer.id, world.defaultContract.id, '--service', world.serviceDesk.id, '--from', '2026-07-01']);
    expect(out[0]).toBe(`device ${world.printer.id} linked`);
    const links = await t.db('device_contract_links').where({ device_id: world.printer.id }).orderBy('valid_from');
    expect(links.map((l) => [l.contract_id, l.valid_from, l.valid_to])).toEqual([
      [world.printerContract.id, '2026-01-01', '2026-06-30'],
      [world.defaultContract.id, '2026-07-01', null],
    ]);
    expect(await t.db('audit_log').where({ entity_type: 'device', entity_id: world.printer.id, action: 'device.link' }).first()).toMatchObject({ actor: expect.stringMatching(/^cli:/) });
    const listed = await run(['devices', 'links', world.printer.id]);
    expect(listed).toHaveLength(3);
  });

  it('refuses a bad date naming the option, and a service that is not on the contract', async () => {
    await expect(run(['devices', 'link', world.printer.id, world.defaultContract.id, '--from', '2026-13-01'])).rejects.toThrow(/--from/);
    await expect(run(['devices', 'link', world.mailServer.id, world.defaultContract.id, '--service', world.serviceMail.id])).rejects.toThrow(/service/i);
  });
});
