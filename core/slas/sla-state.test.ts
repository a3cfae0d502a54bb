import { missedTargets, nextDueAt, slaStateOf, type SlaClock } from './sla-state';

const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);
const clock = (over: Partial<SlaClock>): SlaClock => ({
  createdAt: at('08:00'),
  responseDueAt: at('09:00'),
  resolutionDueAt: at('16:00'),
  firstResponseAt: null,
  resolvedAt: null,
  pausedAt: null,
  breaches: [],
  ...over,
});

describe('R-TKT-2: the SLA state of a ticket', () => {
  it.each<[string, Partial<SlaClock>, string, string]>([
    ['no due dates', { responseDueAt: null, resolutionDueAt: null }, '10:00', 'none'],
    ['plenty of time', {}, '08:10', 'onTrack'],
    ['response window 60 min, 14 left (< 25 %)', {}, '08:46', 'atRisk'],
    ['response window 60 min, 15 left (= 25 %)', {}, '08:45', 'onTrack'],
    ['response overdue, not yet recorded', {}, '09:01', 'breached'],
    ['responded in time, resolution far', { firstResponseAt: at('08:30') }, '10:00', 'onTrack'],
    ['responded late (after the due date)', { firstResponseAt: at('09:30') }, '09:40', 'breached'],
    ['resolved in time', { firstResponseAt: at('08:30'), resolvedAt: at('12:00') }, '20:00', 'met'],
    ['resolved without a response: the resolution answers both', { resolvedAt: at('08:50') }, '20:00', 'met'],
    ['resolved late', { firstResponseAt: at('08:30'), resolvedAt: at('16:30') }, '20:00', 'breached'],
    ['a recorded breach stays', { firstResponseAt: at('08:30'), resolvedAt: at('12:00'), breaches: [{ target: 'response', at: at('09:00') }] }, '20:00', 'breached'],
    ['paused: the clock stands at the pause', { pausedAt: at('08:20') }, '23:00', 'onTrack'],
    ['paused late in the window', { pausedAt: at('08:50') }, '23:00', 'atRisk'],
    ['paused after the due date', { pausedAt: at('09:10') }, '23:00', 'breached'],
  ])('%s → %s at %s', (_name, over, now, state) => {
    expect(slaStateOf(clock(over), at(now))).toBe(state);
  });

  it('names the targets missed, response first; the next due date is the earliest open one', () => {
    expect(missedTargets(clock({}), at('17:00'))).toEqual(['response', 'resolution']);
    expect(missedTargets(clock({ firstResponseAt: at('08:30') }), at('17:00'))).toEqual(['resolution']);
    expect(nextDueAt(clock({}))).toEqual(at('09:00'));
    expect(nextDueAt(clock({ firstResponseAt: at('08:30') }))).toEqual(at('16:00'));
    expect(nextDueAt(clock({ resolvedAt: at('10:00') }))).toBeNull();
  });
});
