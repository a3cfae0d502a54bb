import os from 'node:os';
import { Command } from 'commander';
import { registerContractCommands, type ContractCliIo } from '../../../cli/commands/contracts';
import { createTestApp, type TestApp } from '../../helpers/app';
import { countRows, createContract, seedCompany, seedService } from './fixtures';

/** `hub contracts renew`: the renewal wizard on the command line (R-REN-15: preview, confirm, apply). */
describe('hub contracts renew', () => {
  let t: TestApp;
  let companyId: string;
  let serviceId: string;

  beforeAll(async () => {
    t = await createTestApp({ services: { clock: () => new Date('2025-06-15T10:00:00Z') } });
    companyId = await seedCompany(t.db);
    serviceId = await seedService(t.db, '10');
  });
  afterAll(async () => t.close());

  function cli(opts: { interactive?: boolean; answer?: boolean } = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const asked: string[] = [];
    const io: ContractCliIo = {
      openDb: () => t.db,
      closeDb: async () => undefined,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      isInteractive: () => opts.interactive ?? false,
      confirm: async (q) => {
        asked.push(q);
        return opts.answer ?? false;
      },
      today: () => '2025-06-15',
    };
    const program = new Command().exitOverride();
    registerContractCommands(program, io);
    const run = (...args: string[]) => program.parseAsync(['node', 'hub', 'contracts', 'renew', ...args]);
    return { run, out, err, asked };
  }

  const contract = () =>
    createContract(t, { companyId, name: 'Desk Q1', startDate: '2025-01-01', endDate: '2025-03-31', services: [{ serviceId, units: 3, unitPrice: 10 }] });
  const tables = ['contracts', 'contract_services', 'contract_notes', 'renewal_applications', 'audit_log'];

  it('R-REN-15: --dry-run prints the proposal as a table and changes nothing', async () => {
    const c = await contract();
    const before = await countRows(t.db, tables);
    const { run, out, err } = cli();
    await run(c.id, '--dry-run', '--uplift', '10');
    const text = out.join('\n');
    expect(text).toContain('Renewal of Desk Q1');
    expect(text).toContain('2025-04-01 – 2025-06-30');
    expect(text).toMatch(/service\s+\d+\s+3\s+10\.00\s+11\.00\s+11\.00/);
    expect(err.join('\n')).toContain('dry run');
    expect(await countRows(t.db, tables)).toEqual(before);
  });

  it('refuses to renew without a terminal and without --yes', async () => {
    const c = await contract();
    const before = await countRows(t.db, tables);
    await expect(cli().run(c.id)).rejects.toThrow('--yes');
    expect(await countRows(t.db, tables)).toEqual(before);
  });

  it('asks on a terminal; "no" changes nothing, "yes" renews', async () => {
    const c = await contract();
    const no = cli({ interactive: true, answer: false });
    await no.run(c.id);
    expect(no.asked).toEqual([`Renew contract ${c.id}?`]);
    expect(await t.db('contracts').where('renewal_of_id', c.id)).toHaveLength(0);
    const yes = cli({ interactive: true, answer: true });
    await yes.run(c.id, '--name', 'Desk Q2');
    expect(await t.db('contracts').where('renewal_of_id', c.id)).toEqual([expect.objectContaining({ name: 'Desk Q2' })]);
  });

  it('--yes renews with actor cli:<os user>, with the start, end and uplift given', async () => {
    const c = await contract();
    const { run, out } = cli();
    await run(c.id, '--yes', '--start', '2025-05-01', '--end', '2025-12-31', '--uplift', '5');
    const [renewal] = await t.db('contracts').where('renewal_of_id', c.id);
    expect(renewal).toMatchObject({ start_date: '2025-05-01', end_date: '2025-12-31' });
    expect(await t.db('contract_services').where('contract_id', renewal.id).first()).toMatchObject({ unit_price: '10.5000' });
    expect(out.join('\n')).toContain(`as contract ${renewal.id}`);
    const audit = await t.db('audit_log').where({ action: 'contract.renew', entity_id: String(renewal.id) }).first();
    expect(audit.actor).toBe(`cli:${os.userInfo().username}`);
  });

  it('names the problem: bad dates, unknown contracts, renewed already, default choice required', async () => {
    const c = await contract();
    await expect(cli().run(c.id, '--start', '2025-13-01', '--dry-run')).rejects.toThrow('--start');
    await expect(cli().run('999999', '--dry-run')).rejects.toThrow('NOT_FOUND');
    await expect(cli().run(c.id, '--uplift', '-3', '--dry-run')).rejects.toThrow('priceUpliftPercent');
    await cli().run(c.id, '--yes');
    await expect(cli().run(c.id, '--yes')).rejects.toThrow('CONTRACT_ALREADY_RENEWED');

    const co = await seedCompany(t.db);
    const d = await createContract(t, { companyId: co, startDate: '2025-01-01', endDate: '2025-03-31', isDefaultServiceDesk: true });
    await createContract(t, { companyId: co, startDate: '2025-04-01', endDate: '2025-12-31', isDefaultServiceDesk: true });
    await expect(cli().run(d.id, '--yes')).rejects.toThrow('--default-contract');
    await cli().run(d.id, '--yes', '--default-contract', 'existing');
    expect(await t.db('contracts').where('renewal_of_id', d.id)).toEqual([expect.objectContaining({ is_default_service_desk: false })]);
  });
});
