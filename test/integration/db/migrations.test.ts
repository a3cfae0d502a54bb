import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

// Issue 2: migrations go up, down and up again on an empty database.
describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrated: false });
  });
  afterAll(async () => t.drop());

  const tables = async () =>
    (
      await t.db.raw<{ rows: { table_name: string }[] }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_%' ORDER BY 1",
      )
    ).rows.map((r) => r.table_name);

  it('migrates an empty database up, down and up again', async () => {
    expect(await tables()).toEqual([]);
    await t.db.migrate.latest();
    const afterUp = await tables();
    expect(afterUp).toEqual(expect.arrayContaining(['companies', 'contracts', 'tickets', 'alerts', 'alert_receipts']));
    await t.db.migrate.rollback(undefined, true);
    expect(await tables()).toEqual([]);
    await t.db.migrate.latest();
    expect(await tables()).toEqual(afterUp);
  });
});
