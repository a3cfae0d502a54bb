import { createTestDatabase, type TestDatabase } from '../../helpers/harness';

const MIGRATION = '20261207060000_retention';

type Pending = { file?: string; name?: string } | string;
const nameOf = (m: Pending): string => (typeof m === 'string' ? m : (m.file ?? m.name ?? '')).replace(/\.(ts|js)$/, '');

// Issue 19: audit_log becomes partitioned by month; up and down keep every row and its id.
describe(`migration ${MIGRATION}`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrated: false });
    for (;;) {
      const [, pending] = (await t.db.migrate.list()) as [unknown[], Pending[]];
      if (pending.length === 0) throw new Error(`${MIGRATION} not found among the migrations`);
      if (nameOf(pending[0] as Pending) === MIGRATION) break;
      await t.db.migrate.up();
    }
  });
  afterAll(async () => t.drop());

  const snapshot = async () =>
    (await t.db.raw<{ rows: unknown[] }>(`SELECT ${'id, at, actor, action, entity_type, entity_id, company_id, before, after, request_id'} FROM audit_log ORDER BY id`)).rows;
  const partitioned = async () =>
    (await t.db.raw<{ rows: { relkind: string }[] }>(`SELECT relkind FROM pg_class WHERE relname = 'audit_log'`)).rows[0]!.relkind === 'p';

  it('issue 19: converts audit_log with rows spread over 14 months (and one far in the future) without losing one, down and up again', async () => {
    // 1,000 rows from 13 months ago to now, plus one a year ahead (lands in the default partition).
    await t.db.raw(`
      INSERT INTO audit_log (at, actor, action, entity_type, entity_id, company_id, before, after, request_id)
      SELECT now() - (i * interval '10 hours'), 'actor-' || (i % 7), 'update', 'contract', i::text, NULLIF(i % 3, 0),
             jsonb_build_object('n', i), CASE WHEN i % 2 = 0 THEN jsonb_build_object('m', i) END, 'req-' || i
        FROM generate_series(0, 999) AS i;
      INSERT INTO audit_log (at, actor, action, entity_type) VALUES (now() + interval '1 year', 'future', 'create', 'x');
    `);
    const before = await snapshot();
    expect(before).toHaveLength(1001);
    expect(await partitioned()).toBe(false);

    await t.db.migrate.up();
    expect(await partitioned()).toBe(true);
    expect(await snapshot()).toEqual(before);
    const parts = (await t.db.raw<{ rows: { name: string; n: number }[] }>(`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'audit_log'::regclass ORDER BY 1`)).rows.map((r) => r.name);
    // 1,000 rows × 10 h ≈ 417 days back: at least 14 monthly partitions + 3 ahead + default.
    expect(parts.length).toBeGreaterThanOrEqual(18);
    expect(parts).toContain('audit_log_default');
    expect((await t.db('audit_log_default').count<{ count: string }[]>('* as count'))[0]!.count).toBe('1');
    // The identity continues after the largest id.
    const next = ((await t.db('audit_log').insert({ actor: 'a', action: 'b', entity_type: 'c' }).returning('id')) as { id: string }[])[0]!.id;
    expect(Number(next)).toBe(Math.max(...before.map((r) => Number((r as { id: string }).id))) + 1);
    const withNew = await snapshot();

    await t.db.migrate.down();
    expect(await partitioned()).toBe(false);
    expect(await snapshot()).toEqual(withNew);
    const afterDown = ((await t.db('audit_log').insert({ actor: 'a', action: 'b', entity_type: 'c' }).returning('id')) as { id: string }[])[0]!.id;
    expect(Number(afterDown)).toBe(Number(next) + 1);
    const all = await snapshot();

    await t.db.migrate.up();
    expect(await partitioned()).toBe(true);
    expect(await snapshot()).toEqual(all);
    const idx = (await t.db.raw<{ rows: { indexname: string }[] }>(`SELECT indexname FROM pg_indexes WHERE tablename IN ('alerts', 'alert_receipts')`)).rows.map((r) => r.indexname);
    expect(idx).toEqual(expect.arrayContaining(['alerts_first_delivery_idx', 'alert_receipts_delivery_idx']));
  });
});
