import { assignStormGroups, lockStormGroups, setGroupParents } from '../../../db/queries/storms';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertRow } from '../../helpers/seed';

/**
 * R-STORM-1: a round of a worker's batch may name a ticket twice — first as a candidate of its
 * group, then as a child of the parent the same round opened (it adopted the candidates). The
 * child row must win, whatever the order: with `DISTINCT ON (t) … ORDER BY t` alone Postgres kept
 * either row, and an adopted child could stay without its parent. Larger batches (issue 19: the
 * jobs a worker runs at once applied together) made that frequent (storms.test.ts grouping).
 */
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

const ticket = (key: string) =>
  insertRow(t.db, 'tickets', { source: 'rmm', dedup_key: key, priority: 'high', title: key, first_occurred_at: new Date('2026-04-01T11:00:00Z'), last_occurred_at: new Date('2026-04-01T11:00:00Z') });

it('R-STORM-1: a ticket named as candidate and as adopted child in one statement becomes the child, in either order', async () => {
  const group = await t.db.transaction(async (trx) => (await lockStormGroups(trx, [{ rule: 'outage', groupKey: 'k1', keyValues: {} }])).get('outage\u0000k1')!);
  const parent = await ticket('parent');
  await t.db.transaction((trx) => setGroupParents(trx, [{ groupId: group.id, parentId: String(parent.id) }]));
  const kids = [];
  for (let i = 0; i < 6; i++) kids.push(String((await ticket(`kid-${i}`)).id));
  // Candidate row first for half of them, child row first for the other half.
  const items = kids.flatMap((id, i) => {
    const asCandidate = { ticketId: id, groupId: group.id, parentId: null };
    const asChild = { ticketId: id, groupId: group.id, parentId: String(parent.id) };
    return i % 2 === 0 ? [asCandidate, asChild] : [asChild, asCandidate];
  });
  const children = await t.db.transaction((trx) => assignStormGroups(trx, items));
  expect(children.sort()).toEqual([...kids].sort());
  const rows = await t.db('tickets').whereIn('id', kids).select('parent_ticket_id', 'storm_group_id');
  expect(rows.every((r: { parent_ticket_id: string | null }) => String(r.parent_ticket_id) === String(parent.id))).toBe(true);
  expect(rows.every((r: { storm_group_id: string | null }) => String(r.storm_group_id) === group.id)).toBe(true);
});
