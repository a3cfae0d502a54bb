import { ALL_COMPANIES } from '../../../core/access/company-scope';
import type { Knex } from 'knex';
import { lockCompany } from '../../../db/queries/companies';
import { lockContract } from '../../../db/queries/contracts';
import { lockDevice } from '../../../db/queries/devices';
import { lockBundle, lockService } from '../../../db/queries/services';
import { lockSla } from '../../../db/queries/slas';
import { lockTicket } from '../../../db/queries/tickets';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { seedWorld, type World } from '../../helpers/seed';
import { seedBundle, seedTicket } from '../contracts/fixtures';

/**
 * Issue 14 item 3: the shared row locks of db/queries that routes and use cases call instead of
 * inline forUpdate() copies. Each one must really hold the row until its transaction ends: a
 * second connection asking for the same row with NOWAIT is refused (55P03 lock_not_available),
 * and gets it once the first transaction is over.
 */
describe('issue 14 item 3: shared row locks hold the row for the rest of the transaction', () => {
  let d: TestDatabase;
  let w: World;
  let bundleId: string;
  let ticketId: string;

  beforeAll(async () => {
    d = await createTestDatabase();
    w = await seedWorld(d.db, { source: 'datto', site: 'lock-site' });
    bundleId = await seedBundle(d.db, '10', [w.serviceMail.id]);
    ticketId = await seedTicket(d.db, { companyId: w.company.id, contractId: w.mailContract.id });
  });
  afterAll(async () => d.drop());

  const tryLockNowait = (table: string, id: string) => d.db.raw(`SELECT id FROM ${table} WHERE id = ? FOR UPDATE NOWAIT`, [id]);

  const cases: Array<{ name: string; table: string; id: () => string; lock: (trx: Knex.Transaction, id: string) => Promise<{ id: string } | undefined> }> = [
    { name: 'lockCompany', table: 'companies', id: () => w.company.id, lock: lockCompany },
    { name: 'lockContract', table: 'contracts', id: () => w.mailContract.id, lock: lockContract },
    { name: 'lockDevice', table: 'devices', id: () => w.printer.id, lock: lockDevice },
    { name: 'lockService', table: 'services', id: () => w.serviceMail.id, lock: lockService },
    { name: 'lockBundle', table: 'service_bundles', id: () => bundleId, lock: lockBundle },
    { name: 'lockSla', table: 'slas', id: () => w.slaOffice.id, lock: lockSla },
    { name: 'lockTicket', table: 'tickets', id: () => ticketId, lock: (trx, id) => lockTicket(trx, id, ALL_COMPANIES) },
  ];

  it.each(cases)('$name returns the row and holds it until commit', async ({ table, id, lock }) => {
    const trx = await d.db.transaction();
    try {
      const row = await lock(trx, id());
      expect(String(row?.id)).toBe(id());
      await expect(tryLockNowait(table, id())).rejects.toMatchObject({ code: '55P03' });
    } finally {
      await trx.commit();
    }
    await expect(tryLockNowait(table, id())).resolves.toBeDefined();
  });

  it.each(cases)('$name: an id that does not exist is undefined (the caller answers 404)', async ({ lock }) => {
    await d.db.transaction(async (trx) => {
      expect(await lock(trx, '999999999')).toBeUndefined();
    });
  });

  it.each(cases.filter((c) => c.name !== 'lockTicket'))('$name: an id that is not a number is undefined, not a Postgres cast error', async ({ lock }) => {
    await d.db.transaction(async (trx) => {
      expect(await lock(trx, 'abc')).toBeUndefined();
    });
  });
});
