import fc from 'fast-check';
import { outcomeOf, ticketEffect, type ClosedTicketView, type OpenTicketView, type TicketStateInput } from './receipt-effect';

const NOW = new Date('2026-05-04T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000);

/** Episodes (issue 15 item 7): the tickets below started long before the receipts of the table. */
const LONG_AGO = minutesAgo(10_000);
const OPEN: OpenTicketView = { id: 'T-open', resolveAction: 'resolve', firstOccurredAt: LONG_AGO };
const OPEN_ANNOTATING: OpenTicketView = { id: 'T-open', resolveAction: 'annotate', firstOccurredAt: LONG_AGO };
const autoResolved = (minutes: number, reopenWindowMinutes: number | null = null): ClosedTicketView => ({
  id: 'T-last',
  status: 'resolved',
  resolvedAutomatically: true,
  resolvedAt: minutesAgo(minutes),
  reopenWindowMinutes,
  lastOccurredAt: LONG_AGO,
});
const RESOLVED_BY_HAND: ClosedTicketView = { id: 'T-last', status: 'resolved', resolvedAutomatically: false, resolvedAt: minutesAgo(1), reopenWindowMinutes: 30, lastOccurredAt: LONG_AGO };
const CLOSED: ClosedTicketView = { id: 'T-last', status: 'closed', resolvedAutomatically: true, resolvedAt: minutesAgo(1), reopenWindowMinutes: 30, lastOccurredAt: LONG_AGO };

/** A firing with no ticket, decided "ticket" by the rules, no window, asked questions answered "no". */
const input = (over: Partial<TicketStateInput> = {}): TicketStateInput => ({
  receipt: { state: 'firing', receivedAt: NOW, occurredAt: NOW },
  open: null,
  last: null,
  decision: { outcome: 'ticket' },
  resolvedThrough: null,
  now: NOW,
  canHold: true,
  maintenanceWindow: null,
  resolvedSinceReceipt: false,
  ...over,
});
const resolved = { state: 'resolved' as const, receivedAt: NOW, occurredAt: NOW };

describe('R-ALR-4: the receipt → ticket state machine (core/tickets, issue 14 item 2)', () => {
  it.each<[string, Partial<TicketStateInput>, ReturnType<typeof ticketEffect>]>([
    // "while a ticket for that dedup key is open (any status but resolved or closed), repeats are counted on it"
    ['a repeat while the ticket is open is counted on it', { open: OPEN }, { kind: 'count', ticketId: 'T-open' }],
    ['a repeat is counted on the open ticket even when the rules now say suppress', { open: OPEN, decision: { outcome: 'suppress' } }, { kind: 'count', ticketId: 'T-open' }],
    ['a repeat is counted on the open ticket even inside a maintenance window', { open: OPEN, maintenanceWindow: 'patch night' }, { kind: 'count', ticketId: 'T-open' }],
    ['a repeat is counted on the open ticket without waiting for its hold-off', { open: OPEN, decision: { outcome: 'ticket', holdOffSeconds: 300 } }, { kind: 'count', ticketId: 'T-open' }],
    // "A resolved event resolves (or annotates, per rule) the ticket."
    ['a resolved event resolves the open ticket', { receipt: resolved, open: OPEN }, { kind: 'resolve', ticketId: 'T-open' }],
    ['a resolved event annotates the open ticket when the rule it was opened by said annotate', { receipt: resolved, open: OPEN_ANNOTATING }, { kind: 'annotate', ticketId: 'T-open' }],
    ['a resolved event annotates the open ticket when the rules now say annotate', { receipt: resolved, open: OPEN, decision: { outcome: 'ticket', resolveAction: 'annotate' } }, { kind: 'annotate', ticketId: 'T-open' }],
    ['a resolved event with no open ticket changes nothing', { receipt: resolved }, { kind: 'nothing-to-resolve' }],
    ['a resolved event passes suppression and maintenance windows', { receipt: resolved, open: OPEN, decision: { outcome: 'suppress' }, maintenanceWindow: 'patch night' }, { kind: 'resolve', ticketId: 'T-open' }],
    // "An alert that fires again after its ticket was resolved or closed opens a new ticket"
    ['an alert that fires with no ticket for its key opens a new ticket', {}, { kind: 'create' }],
    ['an alert that fires again after its ticket was resolved opens a new ticket', { last: autoResolved(5) }, { kind: 'create' }],
    ['an alert that fires again after its ticket was closed opens a new ticket, even within a reopen window', { last: CLOSED }, { kind: 'create' }],
    // "(unless a rule's reopen window says to reopen it)"
    ['a re-fire within the reopen window of an automatic resolution reopens that ticket', { last: autoResolved(10, 30) }, { kind: 'reopen', ticketId: 'T-last', windowMinutes: 30 }],
    ['a re-fire exactly at the end of the reopen window still reopens', { last: autoResolved(30, 30) }, { kind: 'reopen', ticketId: 'T-last', windowMinutes: 30 }],
    ['a re-fire after the reopen window opens a new ticket', { last: autoResolved(31, 30) }, { kind: 'create' }],
    ['the reopen window the ticket was opened with wins over the rules of today', { last: autoResolved(20, 15), decision: { outcome: 'ticket', reopenWindowMinutes: 60 } }, { kind: 'create' }],
    ["a ticket opened without a window uses today's rule's window", { last: autoResolved(20, null), decision: { outcome: 'ticket', reopenWindowMinutes: 60 } }, { kind: 'reopen', ticketId: 'T-last', windowMinutes: 60 }],
    ['a reopen window of 0 minutes never reopens', { last: autoResolved(0, 0) }, { kind: 'create' }],
    ['a ticket resolved by a person is not reopened by a re-fire: a new one opens', { last: RESOLVED_BY_HAND }, { kind: 'create' }],
    ['a re-fire within the reopen window reopens even when the rules now suppress', { last: autoResolved(1, 30), decision: { outcome: 'suppress' } }, { kind: 'reopen', ticketId: 'T-last', windowMinutes: 30 }],
    // The rules and maintenance windows silence a firing that would open a ticket.
    ['a firing the rules suppress opens no ticket', { decision: { outcome: 'suppress' } }, { kind: 'suppress', by: 'rules' }],
    ['a firing the rules suppress does not ask for maintenance windows', { decision: { outcome: 'suppress' }, maintenanceWindow: undefined }, { kind: 'suppress', by: 'rules' }],
    ['a firing inside a maintenance window opens no ticket', { maintenanceWindow: 'patch night' }, { kind: 'suppress', by: 'maintenance', window: 'patch night' }],
    ['a firing that would open a ticket asks for maintenance windows first', { maintenanceWindow: undefined }, { kind: 'ask', question: 'maintenanceWindow' }],
    // Hold-off: wait for the clear before opening a ticket.
    ['a firing with a hold-off waits until it has passed', { decision: { outcome: 'ticket', holdOffSeconds: 60 }, receipt: { state: 'firing', receivedAt: secondsAgo(10), occurredAt: secondsAgo(10) } }, { kind: 'hold', until: new Date(NOW.getTime() + 50_000) }],
    ['after the hold-off, a resolve received meanwhile releases the firing without a ticket', { decision: { outcome: 'ticket', holdOffSeconds: 60 }, receipt: { state: 'firing', receivedAt: secondsAgo(60), occurredAt: secondsAgo(60) }, resolvedSinceReceipt: true }, { kind: 'release' }],
    ['after the hold-off, with no resolve meanwhile, a ticket opens', { decision: { outcome: 'ticket', holdOffSeconds: 60 }, receipt: { state: 'firing', receivedAt: secondsAgo(61), occurredAt: secondsAgo(61) }, resolvedSinceReceipt: false }, { kind: 'create' }],
    ['after the hold-off it asks whether a resolve came meanwhile', { decision: { outcome: 'ticket', holdOffSeconds: 60 }, receipt: { state: 'firing', receivedAt: secondsAgo(60), occurredAt: secondsAgo(60) }, resolvedSinceReceipt: undefined }, { kind: 'ask', question: 'resolvedSinceReceipt' }],
    ['a process that cannot hold only drops a blip that already cleared', { canHold: false, decision: { outcome: 'ticket', holdOffSeconds: 60 }, resolvedSinceReceipt: true }, { kind: 'release' }],
    ['a process that cannot hold opens the ticket at once when nothing cleared', { canHold: false, decision: { outcome: 'ticket', holdOffSeconds: 60 }, resolvedSinceReceipt: false }, { kind: 'create' }],
    ['a maintenance window silences a firing before its hold-off is considered', { decision: { outcome: 'ticket', holdOffSeconds: 60 }, maintenanceWindow: 'patch night' }, { kind: 'suppress', by: 'maintenance', window: 'patch night' }],
    ['without a hold-off nobody asks whether a resolve came meanwhile', { resolvedSinceReceipt: undefined }, { kind: 'create' }],
  ])('%s', (_text, over, expected) => {
    expect(ticketEffect(input(over))).toEqual(expected);
  });

  it('every effect has the outcome the receipt and its alert record', () => {
    expect(
      [
        { kind: 'nothing-to-resolve' },
        { kind: 'resolve', ticketId: '1' },
        { kind: 'annotate', ticketId: '1' },
        { kind: 'count', ticketId: '1' },
        { kind: 'reopen', ticketId: '1', windowMinutes: 5 },
        { kind: 'suppress', by: 'rules' },
        { kind: 'suppress', by: 'maintenance', window: 'w' },
        { kind: 'hold', until: NOW },
        { kind: 'release' },
        { kind: 'create' },
        { kind: 'stale', state: 'firing', ticketId: null },
        { kind: 'stale', state: 'resolved', ticketId: '1' },
      ].map((e) => outcomeOf(e as Parameters<typeof outcomeOf>[0])),
    ).toEqual(['resolve_without_ticket', 'resolved', 'annotated', 'occurrence', 'reopened', 'suppressed', 'maintenance', 'held', 'cleared_during_hold_off', 'ticket_created', 'stale_firing', 'stale_resolve']);
  });

  it('R-ALR-4 property: an open ticket is never joined by a second one — a firing with an open ticket is always counted on it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'ticket' | 'suppress'>('ticket', 'suppress'),
        fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
        fc.option(fc.string(), { nil: null }),
        fc.boolean(),
        (outcome, holdOffSeconds, reopenWindowMinutes, maintenanceWindow, canHold) => {
          const decision = { outcome, ...(holdOffSeconds === undefined ? {} : { holdOffSeconds }), ...(reopenWindowMinutes === undefined ? {} : { reopenWindowMinutes }) };
          const effect = ticketEffect(input({ open: OPEN, decision, maintenanceWindow, canHold, last: autoResolved(1, 30) }));
          expect(effect).toEqual({ kind: 'count', ticketId: 'T-open' });
        },
      ),
    );
  });

  it('R-ALR-4 property: a resolved event never opens, reopens, holds or suppresses anything', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.constantFrom<'ticket' | 'suppress'>('ticket', 'suppress'), (hasOpen, annotating, outcome) => {
        const effect = ticketEffect(input({ receipt: resolved, open: hasOpen ? (annotating ? OPEN_ANNOTATING : OPEN) : null, decision: { outcome }, last: autoResolved(1, 30), maintenanceWindow: undefined }));
        expect(['resolve', 'annotate', 'nothing-to-resolve']).toContain(effect.kind);
      }),
    );
  });

  describe('issue 15 item 7: duplicates that are not re-fires (episodes by occurredAt)', () => {
    const T1 = minutesAgo(60);
    const T2 = minutesAgo(50);
    const T3 = minutesAgo(40);
    const firingAt = (occurredAt: Date) => ({ state: 'firing' as const, receivedAt: NOW, occurredAt });
    const resolvedAt = (occurredAt: Date) => ({ state: 'resolved' as const, receivedAt: NOW, occurredAt });
    const closedAfter = (lastOccurredAt: Date, over: Partial<ClosedTicketView> = {}): ClosedTicketView => ({ ...autoResolved(1, null), lastOccurredAt, ...over });
    it.each<[string, Partial<TicketStateInput>, ReturnType<typeof ticketEffect>]>([
      ['the same firing retried after its ticket was resolved opens nothing', { receipt: firingAt(T1), last: closedAfter(T1), resolvedThrough: T2 }, { kind: 'stale', state: 'firing', ticketId: 'T-last' }],
      ['the same firing retried after its ticket was closed by hand opens nothing', { receipt: firingAt(T1), last: closedAfter(T1, { resolvedAutomatically: false, status: 'closed' }) }, { kind: 'stale', state: 'firing', ticketId: 'T-last' }],
      ['a stale firing does not reopen within the reopen window either', { receipt: firingAt(T1), last: closedAfter(T1, { reopenWindowMinutes: 30 }), resolvedThrough: T2 }, { kind: 'stale', state: 'firing', ticketId: 'T-last' }],
      ['a resolved event remembered without a ticket: the late older firing opens nothing', { receipt: firingAt(T1), resolvedThrough: T2 }, { kind: 'stale', state: 'firing', ticketId: null }],
      ['a firing at the very instant of the last resolution is over too', { receipt: firingAt(T2), resolvedThrough: T2 }, { kind: 'stale', state: 'firing', ticketId: null }],
      ['a late firing of an episode that is over is not counted on the newer open ticket', { receipt: firingAt(T1), open: { ...OPEN, firstOccurredAt: T3 }, resolvedThrough: T2 }, { kind: 'stale', state: 'firing', ticketId: 'T-open' }],
      ['a firing newer than the last resolution is a re-fire: a new ticket', { receipt: firingAt(T3), last: closedAfter(T1), resolvedThrough: T2 }, { kind: 'create' }],
      ['a re-fire newer than the last resolution reopens within the window', { receipt: firingAt(T3), last: closedAfter(T1, { reopenWindowMinutes: 30 }), resolvedThrough: T2 }, { kind: 'reopen', ticketId: 'T-last', windowMinutes: 30 }],
      ['an older firing of the open episode is still counted on it', { receipt: firingAt(T1), open: { ...OPEN, firstOccurredAt: T3 } }, { kind: 'count', ticketId: 'T-open' }],
      ['a late retry of an old resolved event does not resolve the newer ticket', { receipt: resolvedAt(T2), open: { ...OPEN, firstOccurredAt: T3 } }, { kind: 'stale', state: 'resolved', ticketId: 'T-open' }],
      ['a held firing whose episode was resolved during its hold-off is released as a cleared blip', { receipt: firingAt(T1), resolvedThrough: T2, decision: { outcome: 'ticket', holdOffSeconds: 60 } }, { kind: 'release' }],
      ['a resolved event at the instant the ticket started resolves it', { receipt: resolvedAt(T3), open: { ...OPEN, firstOccurredAt: T3 } }, { kind: 'resolve', ticketId: 'T-open' }],
      ['a resolved event newer than the ticket start resolves it', { receipt: resolvedAt(NOW), open: { ...OPEN, firstOccurredAt: T3 } }, { kind: 'resolve', ticketId: 'T-open' }],
    ])('%s', (_text, over, expected) => {
      expect(ticketEffect(input(over))).toEqual(expected);
    });

    it('property: a firing not newer than the last resolution never opens, reopens or counts anything', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), fc.boolean(), fc.boolean(), fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }), (age, gap, hasOpen, hasLast, holdOffSeconds) => {
          const resolvedThrough = minutesAgo(age);
          const effect = ticketEffect(
            input({
              receipt: firingAt(minutesAgo(age + gap)),
              resolvedThrough,
              decision: { outcome: 'ticket', ...(holdOffSeconds === undefined ? {} : { holdOffSeconds }) },
              open: hasOpen ? OPEN : null,
              last: hasLast ? autoResolved(1, 30) : null,
              maintenanceWindow: undefined,
              resolvedSinceReceipt: undefined,
            }),
          );
          expect(['stale', 'release']).toContain(effect.kind);
        }),
      );
    });
  });
});
