import fc from 'fast-check';
import { nextDueAt, slaStateOf, type SlaClock } from '../../../core/slas/sla-state';
import { NEXT_DUE_SQL, slaStateSql } from '../../../db/queries/ticket-sla';
import { createTestDatabase, type TestDatabase } from '../../helpers/harness';
import { insertTicket } from './operator-fixtures';

/**
 * R-TKT-2: one truth for the SLA state. The API's `sla.state` comes from core (slaStateOf), the
 * list's `slaState=` filter, `sort=nextDue` and the report from SQL (db/queries/ticket-sla.ts); on
 * random tickets — due dates, response, resolution (or closing), pause, recorded breaches, any
 * "now" — the two give the same answer, boundaries included (minute steps make ties common).
 */
const BASE = Date.parse('2026-03-02T08:00:00Z');
const min = (m: number) => new Date(BASE + m * 60_000);
const maybe = fc.option(fc.integer({ min: -30, max: 600 }), { nil: null });

const ticketArb = fc.record({
  responseDue: maybe,
  resolutionDue: maybe,
  firstResponse: maybe,
  resolved: maybe,
  closedInstead: fc.boolean(),
  paused: maybe,
  breachResponse: fc.boolean(),
  breachResolution: fc.boolean(),
});

describe('R-TKT-2: the SQL SLA state equals core’s slaStateOf', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  it('on random tickets and instants: same state, same next due date', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ticketArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: -10, max: 700 }), async (tickets, nowMin) => {
        await t.db.raw('TRUNCATE tickets RESTART IDENTITY CASCADE');
        const clocks = new Map<string, SlaClock>();
        for (const x of tickets) {
          const resolvedAt = x.resolved === null ? null : min(x.resolved);
          const { id } = await insertTicket(t.db, {
            created_at: min(0),
            first_response_due_at: x.responseDue === null ? null : min(x.responseDue),
            resolution_due_at: x.resolutionDue === null ? null : min(x.resolutionDue),
            first_response_at: x.firstResponse === null ? null : min(x.firstResponse),
            resolved_at: x.closedInstead ? null : resolvedAt,
            closed_at: x.closedInstead ? resolvedAt : null,
            status: resolvedAt === null ? 'in_progress' : x.closedInstead ? 'closed' : 'resolved',
            sla_paused_at: x.paused === null ? null : min(x.paused),
          });
          const breaches: SlaClock['breaches'][number][] = [];
          if (x.breachResponse) breaches.push({ target: 'response', at: min(1) });
          if (x.breachResolution) breaches.push({ target: 'resolution', at: min(2) });
          for (const b of breaches) await t.db('ticket_sla_breaches').insert({ ticket_id: id, target: b.target, due_at: b.at, priority: 'high' });
          clocks.set(String(id), {
            createdAt: min(0),
            responseDueAt: x.responseDue === null ? null : min(x.responseDue),
            resolutionDueAt: x.resolutionDue === null ? null : min(x.resolutionDue),
            firstResponseAt: x.firstResponse === null ? null : min(x.firstResponse),
            resolvedAt,
            pausedAt: x.paused === null ? null : min(x.paused),
            breaches,
          });
        }
        const now = min(nowMin);
        const state = slaStateSql(now);
        const rows = (await t.db.raw(`SELECT t.id::text AS id, (${state.sql}) AS state, ${NEXT_DUE_SQL} AS next_due FROM tickets t ORDER BY t.id`, state.bindings)) as {
          rows: Array<{ id: string; state: string; next_due: Date | null }>;
        };
        for (const r of rows.rows) {
          const c = clocks.get(r.id)!;
          expect({ id: r.id, state: r.state, nextDue: r.next_due?.toISOString() ?? null }).toEqual({
            id: r.id,
            state: slaStateOf(c, now),
            nextDue: nextDueAt(c)?.toISOString() ?? null,
          });
        }
      }),
      { numRuns: 40 },
    );
  });
});
