import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

const MIGRATION = '20261206051000_token_all_companies';

type Pending = { file?: string; name?: string } | string;
const nameOf = (m: Pending): string => (typeof m === 'string' ? m : (m.file ?? m.name ?? '')).replace(/\.(ts|js)$/, '');

// Issue 13 item 1: the migration that makes "every company" an explicit flag, on tokens that exist.
describe(`migration ${MIGRATION}`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrated: false });
    // Up to (not including) this migration, so the tokens below are created in the old shape.
    for (;;) {
      const [, pending] = (await t.db.migrate.list()) as [unknown[], Pending[]];
      if (pending.length === 0) throw new Error(`${MIGRATION} not found among the migrations`);
      if (nameOf(pending[0] as Pending) === MIGRATION) break;
      await t.db.migrate.up();
    }
  });
  afterAll(async () => t.drop());

  const token = async (name: string): Promise<string> => {
    const [row] = await t.db('api_tokens').insert({ name, prefix: `hub_${name.padEnd(8, '0').slice(0, 8)}`, token_hash: `hash-${name}`, role: 'viewer' }).returning('id');
    return String(row.id);
  };

  it('issue 13 item 1: unscoped tokens get the flag, scoped ones keep their list, widened ones (companies deleted before) get nothing; down revokes what would widen', async () => {
    const [a, b] = (await t.db('companies').insert([{ name: 'Mig A' }, { name: 'Mig B' }]).returning('id')).map((r: { id: string }) => String(r.id));
    const unscoped = await token('aaaaaaaa');
    const scoped = await token('bbbbbbbb');
    await t.db('api_token_companies').insert({ token_id: scoped, company_id: a });
    // Created for company B, which was deleted before the migration: under the old rule it had
    // silently become unscoped. Its creation audit row still says which companies it was given.
    const widened = await token('cccccccc');
    await t.db('api_token_companies').insert({ token_id: widened, company_id: b });
    await t.db('audit_log').insert({ actor: 'test', action: 'create', entity_type: 'api_token', entity_id: widened, after: JSON.stringify({ companyIds: [b] }) });
    await t.db('audit_log').insert({ actor: 'test', action: 'create', entity_type: 'api_token', entity_id: unscoped, after: JSON.stringify({ companyIds: [] }) });
    await t.db('companies').where('id', b).delete();

    await t.db.migrate.up();
    const flags = async () =>
      Object.fromEntries(
        ((await t.db('api_tokens').select('id', 'all_companies', 'revoked_at')) as Array<{ id: string; all_companies: boolean; revoked_at: Date | null }>).map((r) => [
          String(r.id),
          { all: r.all_companies, revoked: r.revoked_at !== null },
        ]),
      );
    expect(await flags()).toEqual({ [unscoped]: { all: true, revoked: false }, [scoped]: { all: false, revoked: false }, [widened]: { all: false, revoked: false } });
    expect((await t.db('api_token_companies').where('token_id', scoped)).map((r: { company_id: string }) => String(r.company_id))).toEqual([a]);
    // A token written without the column fails closed.
    const later = await token('dddddddd');
    expect((await flags())[later]).toEqual({ all: false, revoked: false });

    // Down: back to "no rows = every company"; the tokens with no company left would widen, so they are revoked and audited.
    await t.db.migrate.down();
    const cols = await t.db('api_tokens').columnInfo();
    expect(cols.all_companies).toBeUndefined();
    const revoked = (await t.db('api_tokens').whereNotNull('revoked_at').select('id')).map((r: { id: string }) => String(r.id)).sort();
    expect(revoked).toEqual([widened, later].sort());
    const audits = await t.db('audit_log').where({ action: 'revoke', actor: 'migration:token_all_companies' });
    expect(audits.map((r: { entity_id: string }) => r.entity_id).sort()).toEqual([widened, later].sort());

    // And up again.
    await t.db.migrate.up();
    expect((await flags())[unscoped]).toEqual({ all: true, revoked: false });
  });
});
