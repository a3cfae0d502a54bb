import { groupStep, inWindow, parentResolves, type GroupInput } from './group';
import { inhibitingSource, releaseEffect, type InhibitSource, type InhibitTarget } from './inhibit';
import { stormEffect, type StormInput } from './storm-effect';
import { replayInhibition } from './replay';
import { groupParentDedupKey, groupTitle, stormKey } from './storm-key';

const T0 = new Date('2026-04-01T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const src = (over: Partial<InhibitSource> = {}): InhibitSource => ({ ticketId: '10', rule: 'gw', dedupKey: 'rmm:gw', matchesTarget: false, ...over });
const tgt = (over: Partial<InhibitTarget> = {}): InhibitTarget => ({ rule: 'gw', dedupKey: 'rmm:pc-1', matchesSource: false, ...over });

describe('inhibitingSource (Alertmanager semantics)', () => {
  it.each<[string, InhibitTarget, InhibitSource[], string | null]>([
    ['a firing source of the rule mutes the target', tgt(), [src()], '10'],
    ['no source: not muted', tgt(), [], null],
    ['a source of another rule does not mute', tgt(), [src({ rule: 'other' })], null],
    ['an alert does not inhibit itself', tgt({ dedupKey: 'rmm:gw', matchesSource: true }), [src({ matchesTarget: true })], null],
    ['an alert matching both sides is not muted by another that matches both', tgt({ matchesSource: true }), [src({ matchesTarget: true })], null],
    ['… but it is muted by a source that matches only the source side', tgt({ matchesSource: true }), [src({ matchesTarget: true, ticketId: '11' }), src({ ticketId: '12' })], '12'],
    ['a target-only alert is muted by a both-sides source', tgt(), [src({ matchesTarget: true })], '10'],
    ['the oldest source ticket wins, whatever the order', tgt(), [src({ ticketId: '30' }), src({ ticketId: '9' }), src({ ticketId: '100' })], '9'],
  ])('%s', (_name, target, sources, expected) => {
    expect(inhibitingSource(target, sources)?.ticketId ?? null).toBe(expected);
  });

  it('releaseEffect: open (default) or stay attached', () => {
    expect(releaseEffect('open')).toEqual({ kind: 'open-ticket' });
    expect(releaseEffect('stay')).toEqual({ kind: 'stay-attached' });
  });
});

describe('stormEffect (what storms change in the ticket state machine)', () => {
  const base: StormInput = { base: { kind: 'create' }, related: null, targets: [tgt()], sources: [src()] };
  it.each<[string, Partial<StormInput>, ReturnType<typeof stormEffect>]>([
    ['create + firing source → inhibit', {}, { kind: 'inhibit', source: src() }],
    ['create + already attached → counted on the attachment', { related: { id: 'r1', ticketId: '10' } }, { kind: 'count-related', relatedId: 'r1', ticketId: '10' }],
    ['create, no target rule → none', { targets: [] }, { kind: 'none' }],
    ['count on an open ticket is never touched', { base: { kind: 'count', ticketId: '5' } }, { kind: 'none' }],
    ['reopen is never touched', { base: { kind: 'reopen', ticketId: '5', windowMinutes: 5 } }, { kind: 'none' }],
    ['suppress is never touched', { base: { kind: 'suppress', by: 'rules' } }, { kind: 'none' }],
    ['hold-off waits first', { base: { kind: 'hold', until: T0 } }, { kind: 'none' }],
    ['resolve without ticket, attached → resolve the attachment', { base: { kind: 'nothing-to-resolve' }, related: { id: 'r1', ticketId: '10' } }, { kind: 'resolve-related', relatedId: 'r1', ticketId: '10' }],
    ['resolve without ticket, not attached → none', { base: { kind: 'nothing-to-resolve' } }, { kind: 'none' }],
    ['resolve of an open ticket → none', { base: { kind: 'resolve', ticketId: '5' }, related: { id: 'r1', ticketId: '10' } }, { kind: 'none' }],
    [
      'two rules: the oldest source of either',
      { targets: [tgt(), tgt({ rule: 'core-switch' })], sources: [src({ ticketId: '20' }), src({ rule: 'core-switch', ticketId: '7' })] },
      { kind: 'inhibit', source: src({ rule: 'core-switch', ticketId: '7' }) },
    ],
  ])('%s', (_name, over, expected) => {
    expect(stormEffect({ ...base, ...over })).toEqual(expected);
  });
});

describe('groupStep (more than N within M seconds)', () => {
  const cands = (...secs: number[]) => secs.map((s, i) => ({ ref: `c${i}`, firstOccurredAt: at(s) }));
  const input = (over: Partial<GroupInput> = {}): GroupInput => ({ moreThan: 3, withinSeconds: 60, openParentId: null, occurredAt: at(30), candidates: [], ...over });
  it.each<[string, Partial<GroupInput>, string, number | null]>([
    ['an open parent: join it', { openParentId: 'P', candidates: cands(0) }, 'join', null],
    ['alone: a candidate', {}, 'candidate', null],
    ['3 alerts is not more than 3', { candidates: cands(0, 10) }, 'candidate', null],
    ['the 4th within the window opens the parent and adopts the 3 before', { candidates: cands(0, 10, 20) }, 'open-parent', 3],
    ['candidates outside the window do not count', { candidates: cands(-100, 10, 20) }, 'candidate', null],
    ['deliveries out of order: a later alert already seen counts', { occurredAt: at(0), candidates: cands(10, 20, 55) }, 'open-parent', 3],
    ['exactly M seconds apart still counts', { occurredAt: at(60), candidates: cands(0, 30, 60) }, 'open-parent', 3],
  ])('%s', (_name, over, kind, adopted) => {
    const step = groupStep(input(over));
    expect(step.kind).toBe(kind);
    if (adopted !== null && step.kind === 'open-parent') expect(step.adopt).toHaveLength(adopted);
  });

  it('inWindow is symmetric around the alert', () => {
    expect(inWindow(cands(-61, -60, 0, 60, 61), at(0), 60).map((c) => c.ref)).toEqual(['c1', 'c2', 'c3']);
  });

  it('a parent resolves only with no open child', () => {
    expect(parentResolves(0)).toBe(true);
    expect(parentResolves(1)).toBe(false);
  });
});

describe('storm keys and titles', () => {
  it.each<[unknown[], string]>([
    [['1', 'ACME HQ'], '["1","ACME HQ"]'],
    [['1', undefined], '["1",null]'],
    [[null, null], '[null,null]'],
  ])('stormKey(%j) = %s (missing = null: missing on both sides is equal)', (values, key) => {
    expect(stormKey(values)).toBe(key);
  });

  it.each<[string, Record<string, unknown>, number | null, string]>([
    ['{count} devices at {alert.site} offline', { 'alert.site': 'ACME HQ' }, 12, '12 devices at ACME HQ offline'],
    ['{count} devices at {alert.site} offline', { 'alert.site': null }, 3, '3 devices at unknown offline'],
    ['{count} at {company.code}', { 'alert.site': 'x' }, 2, '2 at {company.code}'],
    ['{count} devices', {}, null, '{count} devices'],
  ])('groupTitle(%s)', (template, values, count, title) => {
    expect(groupTitle(template, values, count)).toBe(title);
  });

  it('parent dedup keys differ per rule and key', () => {
    expect(groupParentDedupKey('a', '["1"]')).not.toBe(groupParentDedupKey('b', '["1"]'));
    expect(groupParentDedupKey('a', '["1"]')).not.toBe(groupParentDedupKey('a', '["2"]'));
  });
});

describe('replayInhibition (the replay diff)', () => {
  const ev = (alertId: string, dedupKey: string, state: 'firing' | 'resolved', s: number, role: 'source' | 'target' | 'both' | 'none' = 'target', site = 'hq') => ({
    alertId,
    dedupKey,
    state,
    at: at(s),
    sources: role === 'source' || role === 'both' ? [{ rule: 'gw', equalKey: site, matchesTarget: role === 'both' }] : [],
    targets: role === 'target' || role === 'both' ? [{ rule: 'gw', equalKey: site, matchesSource: role === 'both' }] : [],
  });
  it.each<[string, ReturnType<typeof ev>[], Record<string, 'open' | 'stay'>, string[], number]>([
    ['targets after a firing source are muted and prevented', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1), ev('3', 'b', 'firing', 2)], {}, ['2', '3'], 2],
    ['a target before its source opens its ticket', [ev('2', 'a', 'firing', 0), ev('1', 'gw', 'firing', 1, 'source')], {}, [], 0],
    ['another site is not muted', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1, 'target', 'branch')], {}, [], 0],
    ['repeats of a muted key count once', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1), ev('3', 'a', 'firing', 2)], {}, ['2'], 1],
    ['released when the source resolves first: not prevented', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1), ev('3', 'gw', 'resolved', 2, 'source')], {}, ['2'], 0],
    ['"stay": still prevented', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1), ev('3', 'gw', 'resolved', 2, 'source')], { gw: 'stay' }, ['2'], 1],
    ['a target resolving while muted is prevented', [ev('1', 'gw', 'firing', 0, 'source'), ev('2', 'a', 'firing', 1), ev('4', 'a', 'resolved', 2), ev('3', 'gw', 'resolved', 3, 'source')], {}, ['2'], 1],
    ['an alert does not inhibit itself', [ev('1', 'x', 'firing', 0, 'both'), ev('2', 'x', 'firing', 1, 'both')], {}, [], 0],
    ['after the source resolved, targets open tickets again', [ev('1', 'gw', 'firing', 0, 'source'), ev('3', 'gw', 'resolved', 1, 'source'), ev('2', 'a', 'firing', 2)], {}, [], 0],
  ])('%s', (_name, events, release, muted, prevented) => {
    expect(replayInhibition(events, release)).toEqual({ mutedAlertIds: muted, ticketsPrevented: prevented });
  });
});
