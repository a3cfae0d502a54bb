import fc from 'fast-check';
import type { Knex } from 'knex';
import { ALL_COMPANIES } from '../../../core/access/company-scope';
import { nextDueAt } from '../../../core/slas/sla-state';
import { listTickets, type TicketFilter } from '../../../db/queries/tickets';
import type { TicketStatus } from '../../../db/tables';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertTicket } from './operator-fixtures';

/**
 * Issue 19, the ticket list on an aged database: `sort=nextDue` is read as three index-ordered parts
 * (db/queries/tickets.ts `listTicketsByNextDue`) and open lists from open-ticket indexes (migration
 * 20261208030000). First: the parts give exactly the order of core's `nextDueAt` (earliest open due
 * date, nothing due last, then id), every page joined without repeats or gaps, whatever the statuses,
 * ties and page size. Then: on a year-like table (30,000 closed tickets, 2,000 open sharing four due
 * dates) a page reads about a page of rows from `tickets`, not every open ticket or the history.
 */
const BASE = Date.parse('2026-03-02T08:00:00Z');
const min = (m: number) => new Date(BASE + m * 60_000);
const maybe = fc.option(fc.integer({ min: 0, max: 12 }), { nil: null });
const ticketArb = fc.record({
  responseDue: maybe,
  resolutionDue: maybe,
  firstResponse: maybe,
  resolved: maybe,
  closedInstead: fc.boolean(),
  openStatus: fc.constantFrom<TicketStatus>('new', 'in_progress', 'waiting_customer'),
});
const STATUS_FILTERS: Array<TicketStatus[] | undefined> = [undefined, ['new', 'in_progress'], ['new', 'in_progress', 'waiting_customer'], ['closed', 'resolved']];

async function allPages(db: Knex, f: Omit<TicketFilter, 'cursor'>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await listTickets(db, { ...f, cursor });
    ids.push(...page.items.map((x) => String(x.id)));
    if (!page.nextCursor) return ids;
    cursor = page.nextCursor;
  }
  throw new Error('more than 100 pages');
}

describe('issue 19: the ticket list by index', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  it('sort=nextDue in three parts: the order of core’s nextDueAt, then id, paged without repeats or gaps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ticketArb, { minLength: 1, maxLength: 14 }), fc.nat(STATUS_FILTERS.length - 1), fc.integer({ min: 1, max: 4 }), async (tickets, s, limit) => {
        await t.db.raw('TRUNCATE tickets RESTART IDENTITY CASCADE');
        const expected: Array<{ id: string; due: number; status: TicketStatus }> = [];
        for (const x of tickets) {
          const doneAt = x.resolved === null ? null : min(x.resolved);
          const status: TicketStatus = doneAt === null ? x.openStatus : x.closedInstead ? 'closed' : 'resolved';
          const row = {
            created_at: min(0),
            first_response_due_at: x.responseDue === null ? null : min(x.responseDue),
            resolution_due_at: x.resolutionDue === null ? null : min(x.resolutionDue),
            first_response_at: x.firstResponse === null ? null : min(x.firstResponse),
            resolved_at: x.closedInstead ? null : doneAt,
            closed_at: x.closedInstead ? doneAt : null,
            status,
          };
          const { id } = await insertTicket(t.db, row);
          const due = nextDueAt({
            createdAt: row.created_at,
            responseDueAt: row.first_response_due_at,
            resolutionDueAt: row.resolution_due_at,
            firstResponseAt: row.first_response_at,
            resolvedAt: doneAt,
            pausedAt: null,
            breaches: [],
          });
          expected.push({ id: String(id), due: due === null ? Infinity : due.getTime(), status });
        }
        const statuses = STATUS_FILTERS[s];
        const want = expected
          .filter((e) => !statuses || statuses.includes(e.status))
          .sort((a, b) => a.due - b.due || Number(a.id) - Number(b.id))
          .map((e) => e.id);
        expect(await allPages(t.db, { sort: 'nextDue', status: statuses, limit, scope: ALL_COMPANIES })).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('on a year-like table a first page reads about a page of tickets (open lists and sort=nextDue)', async () => {
    await t.db.raw('TRUNCATE tickets RESTART IDENTITY CASCADE');
    const columns = `source, dedup_key, priority, status, title, first_occurred_at, last_occurred_at, decision, created_at,
                     first_response_due_at, resolution_due_at, first_response_at, resolved_at, closed_at`;
    // History: 30,000 tickets met and closed or resolved; then 2,000 open owing both targets (four
    // due dates, as a night's tickets share the next business morning); 200 open with nothing due.
    await t.db.raw(`INSERT INTO tickets (${columns})
      SELECT 'datto', 'h' || i, 'high', CASE WHEN i % 3 = 0 THEN 'resolved' ELSE 'closed' END, 'old', ts, ts, '{}', ts,
             ts + interval '4 hours', ts + interval '1 day', ts + interval '30 minutes', ts + interval '2 hours',
             CASE WHEN i % 3 = 0 THEN NULL ELSE ts + interval '3 hours' END
        FROM (SELECT i, now() - interval '365 days' + i * interval '15 minutes' AS ts FROM generate_series(1, 30000) i) g`);
    await t.db.raw(`INSERT INTO tickets (${columns})
      SELECT 'datto', 'o' || i, 'high', 'new', 'open', now(), now(), '{}', now(),
             date_trunc('day', now()) + interval '1 day' + (i % 4) * interval '1 hour', date_trunc('day', now()) + interval '2 days', NULL, NULL, NULL
        FROM generate_series(1, 2000) i`);
    await t.db.raw(`INSERT INTO tickets (${columns})
      SELECT 'datto', 'n' || i, 'high', 'in_progress', 'open', now(), now(), '{}', now(), NULL, NULL, NULL, NULL, NULL FROM generate_series(1, 200) i`);
    await t.db.raw('ANALYZE tickets');

    const filters: Record<string, TicketFilter> = {
      'open, newest first': { status: ['new', 'in_progress', 'waiting_customer'], limit: 50, scope: ALL_COMPANIES },
      'open by next due': { status: ['new', 'in_progress'], sort: 'nextDue', limit: 50, scope: ALL_COMPANIES },
    };
    for (const [name, f] of Object.entries(filters)) {
      const sent: Array<{ sql: string; bindings: Knex.RawBinding[] }> = [];
      const catchQuery = (q: { sql: string; bindings?: Knex.RawBinding[] }) => sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
      t.db.on('query', catchQuery);
      try {
        expect((await listTickets(t.db, f)).items).toHaveLength(50);
      } finally {
        t.db.removeListener('query', catchQuery);
      }
      expect(sent).toHaveLength(1);
      const q = sent[0]!;
      const r = (await t.db.raw(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.sql.replace(/\$\d+/g, '?')}`, q.bindings)) as { rows: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }> };
      const scans: PlanNode[] = [];
      const visit = (p: PlanNode) => {
        if (p['Relation Name'] === 'tickets') scans.push(p);
        for (const c of p.Plans ?? []) visit(c);
      };
      visit(r.rows[0]!['QUERY PLAN'][0]!.Plan);
      // Rows read from tickets: those returned by each scan plus those its filter threw away.
      const read = scans.reduce((n, p) => n + p['Actual Rows'] + (p['Rows Removed by Filter'] ?? 0), 0);
      expect({ name, seqScan: scans.some((p) => p['Node Type'] === 'Seq Scan'), readAtMost3Pages: read <= 3 * 51 }).toEqual({ name, seqScan: false, readAtMost3Pages: true });
    }
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}
