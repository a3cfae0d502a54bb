import fc from 'fast-check';
import {
  checkWindowDefinition,
  parseRulesFileWindows,
  pickWindow,
  scopeMatches,
  snapshotOf,
  timingOfSnapshot,
  windowApplies,
  windowHasEnded,
  windowSnapshotSchema,
  type AlertScope,
  type MatchableWindow,
  type WindowScope,
} from './window-match';

// Issue 6 (maintenance windows) on top of R-ALR-3: a window silences a firing alert when every
// scope field it sets matches and its time matches (Alertmanager time_intervals semantics).

const alert = (over: Partial<AlertScope> = {}): AlertScope => ({
  companyId: '1',
  companyName: 'Acme GmbH',
  companyCode: 'ACME',
  deviceId: '10',
  hostname: 'srv01',
  site: 'site-1',
  deviceSite: 'HQ',
  category: 'disk',
  ...over,
});

const window = (over: Partial<MatchableWindow> = {}, scope: WindowScope = {}): MatchableWindow => ({
  key: 'api:1',
  id: '1',
  name: 'patching',
  origin: 'api',
  file: null,
  scope,
  timing: { timezone: 'UTC', timeIntervals: [], startsAt: new Date('2026-03-01T00:00:00Z'), endsAt: new Date('2026-03-02T00:00:00Z') },
  processAfter: false,
  ...over,
});

const inside = new Date('2026-03-01T12:00:00Z');

describe('scopeMatches', () => {
  it.each<{ why: string; scope: WindowScope; expected: boolean }>([
    { why: 'no scope field set: every alert', scope: {}, expected: true },
    { why: 'company id matches', scope: { companyId: '1' }, expected: true },
    { why: 'another company id', scope: { companyId: '2' }, expected: false },
    { why: 'company by code (exact)', scope: { companyRef: 'ACME' }, expected: true },
    { why: 'company by name (case-insensitive)', scope: { companyRef: 'acme gmbh' }, expected: true },
    { why: 'company code is exact (acme is not ACME)', scope: { companyRef: 'acme' }, expected: false },
    { why: 'device id matches', scope: { deviceId: '10' }, expected: true },
    { why: 'another device id', scope: { deviceId: '11' }, expected: false },
    { why: 'device by hostname (case-insensitive)', scope: { deviceHostname: 'SRV01' }, expected: true },
    { why: 'another hostname', scope: { deviceHostname: 'srv02' }, expected: false },
    { why: 'site: the alert site', scope: { site: 'SITE-1' }, expected: true },
    { why: 'site: the device site', scope: { site: 'hq' }, expected: true },
    { why: 'site: neither', scope: { site: 'branch' }, expected: false },
    { why: 'category (case-insensitive)', scope: { category: 'Disk' }, expected: true },
    { why: 'another category', scope: { category: 'backup' }, expected: false },
    { why: 'every set field must match (category fails)', scope: { companyId: '1', deviceId: '10', category: 'backup' }, expected: false },
    { why: 'all set fields match', scope: { companyId: '1', deviceId: '10', category: 'disk', site: 'site-1' }, expected: true },
    { why: 'null fields are unset', scope: { companyId: null, deviceId: null, category: null }, expected: true },
  ])('$why', ({ scope, expected }) => {
    expect(scopeMatches(scope, alert())).toBe(expected);
  });

  it('an alert without a company, device or category matches only unscoped windows on those fields', () => {
    const bare = alert({ companyId: null, companyName: null, companyCode: null, deviceId: null, hostname: null, site: null, deviceSite: null, category: null });
    expect(scopeMatches({}, bare)).toBe(true);
    expect(scopeMatches({ companyId: '1' }, bare)).toBe(false);
    expect(scopeMatches({ companyRef: 'ACME' }, bare)).toBe(false);
    expect(scopeMatches({ deviceHostname: 'srv01' }, bare)).toBe(false);
    expect(scopeMatches({ site: 'site-1' }, bare)).toBe(false);
    expect(scopeMatches({ category: 'disk' }, bare)).toBe(false);
  });

  it('adding a scope field never widens a window (property)', () => {
    const text = fc.constantFrom('1', '2', 'ACME', 'acme gmbh', 'srv01', 'disk', 'site-1', 'HQ');
    const scopeArb = fc.record(
      { companyId: fc.option(text), companyRef: fc.option(text), site: fc.option(text), deviceId: fc.option(text), deviceHostname: fc.option(text), category: fc.option(text) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(scopeArb, fc.constantFrom('companyId', 'companyRef', 'site', 'deviceId', 'deviceHostname', 'category') as fc.Arbitrary<keyof WindowScope>, text, (scope, field, value) => {
        const narrower = { ...scope, [field]: value };
        if (scopeMatches(narrower, alert())) expect(scopeMatches({ ...scope, [field]: null }, alert())).toBe(true);
      }),
    );
  });
});

describe('windowApplies: scope and time', () => {
  it('needs both: in scope and in time', () => {
    const w = window({}, { category: 'disk' });
    expect(windowApplies(w, alert(), inside)).toBe(true);
    expect(windowApplies(w, alert({ category: 'backup' }), inside)).toBe(false);
    expect(windowApplies(w, alert(), new Date('2026-03-02T00:00:00Z'))).toBe(false); // endsAt is exclusive
    expect(windowApplies(w, alert(), new Date('2026-02-28T23:59:59Z'))).toBe(false);
  });

  it('a recurring window (Saturday nights in Berlin) matches by local time', () => {
    const w = window({
      timing: {
        timezone: 'Europe/Berlin',
        timeIntervals: [{ weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] }],
        startsAt: null,
        endsAt: null,
      },
    });
    expect(windowApplies(w, alert(), new Date('2026-03-07T21:30:00Z'))).toBe(true); // Sat 22:30 CET
    expect(windowApplies(w, alert(), new Date('2026-03-07T20:30:00Z'))).toBe(false); // Sat 21:30 CET
  });
});

describe('pickWindow', () => {
  const deferred = window({ key: 'api:1', id: '1', name: 'deferred', processAfter: true });
  const silent = window({ key: 'api:2', id: '2', name: 'silent', processAfter: false });
  const other = window({ key: 'api:3', id: '3', name: 'other scope', processAfter: false }, { companyId: '99' });

  it('returns null when no window applies', () => {
    expect(pickWindow([other], alert(), inside)).toBeNull();
    expect(pickWindow([], alert(), inside)).toBeNull();
  });

  it('prefers a window without processAfter: a second window must not raise what another silences', () => {
    expect(pickWindow([deferred, silent], alert(), inside)?.name).toBe('silent');
    expect(pickWindow([silent, deferred], alert(), inside)?.name).toBe('silent');
  });

  it('otherwise the first applicable window in the given order', () => {
    const second = window({ key: 'api:4', id: '4', name: 'second', processAfter: true });
    expect(pickWindow([other, deferred, second], alert(), inside)?.name).toBe('deferred');
  });
});

describe('windowHasEnded', () => {
  it('a one-off window ends at endsAt (exclusive)', () => {
    const { timing } = window();
    expect(windowHasEnded(timing, new Date('2026-03-01T23:59:59Z'))).toBe(false);
    expect(windowHasEnded(timing, new Date('2026-03-02T00:00:00Z'))).toBe(true);
  });

  it('a recurring window has ended while it is out of force, and holds again when back in force', () => {
    const timing = { timezone: 'UTC', timeIntervals: [{ times: [{ start_time: '22:00', end_time: '24:00' }] }], startsAt: null, endsAt: null };
    expect(windowHasEnded(timing, new Date('2026-03-01T23:00:00Z'))).toBe(false);
    expect(windowHasEnded(timing, new Date('2026-03-02T06:00:00Z'))).toBe(true);
  });
});

describe('checkWindowDefinition', () => {
  it('refuses a window with neither endsAt nor timeIntervals (it would suppress forever), naming endsAt', () => {
    expect(checkWindowDefinition({})).toEqual([{ path: ['endsAt'], message: expect.stringMatching(/endsAt or timeIntervals/) }]);
    expect(checkWindowDefinition({ startsAt: new Date('2026-03-01T00:00:00Z') })).toHaveLength(1);
    expect(checkWindowDefinition({ timeIntervals: [] })).toHaveLength(1);
  });

  it('refuses an interval that restricts nothing when there is no endsAt, naming the interval', () => {
    const issues = checkWindowDefinition({ timeIntervals: [{ weekdays: ['sunday'] }, { location: 'Europe/Berlin' }] });
    expect(issues).toEqual([{ path: ['timeIntervals', 1], message: expect.stringMatching(/matches always/) }]);
    expect(checkWindowDefinition({ timeIntervals: [{}], endsAt: new Date('2026-03-02T00:00:00Z') })).toEqual([]);
  });

  it('refuses endsAt not after startsAt', () => {
    const at = new Date('2026-03-01T00:00:00Z');
    expect(checkWindowDefinition({ startsAt: at, endsAt: at })).toEqual([{ path: ['endsAt'], message: expect.stringMatching(/after startsAt/) }]);
  });

  it('accepts a one-off window and a recurring one', () => {
    expect(checkWindowDefinition({ endsAt: new Date('2026-03-02T00:00:00Z') })).toEqual([]);
    expect(checkWindowDefinition({ timeIntervals: [{ weekdays: ['saturday', 'sunday'] }] })).toEqual([]);
  });
});

describe('parseRulesFileWindows', () => {
  it('turns valid entries into matchable windows keyed by name, company by code/name and device by hostname', () => {
    const { windows, issues } = parseRulesFileWindows([
      {
        file: '10-maint.json',
        window: {
          name: 'acme patch night',
          company: 'ACME',
          device: 'srv01',
          category: 'disk',
          timezone: 'Europe/Berlin',
          timeIntervals: [{ weekdays: ['saturday'], times: [{ start_time: '22:00', end_time: '24:00' }] }],
          processAfter: true,
        },
      },
    ]);
    expect(issues).toEqual([]);
    expect(windows).toEqual([
      expect.objectContaining({
        key: 'rules:acme patch night',
        id: null,
        origin: 'rules',
        file: '10-maint.json',
        processAfter: true,
        scope: { companyRef: 'ACME', site: null, deviceHostname: 'srv01', category: 'disk' },
      }),
    ]);
    expect(windows[0] && windowApplies(windows[0], alert(), new Date('2026-03-07T21:30:00Z'))).toBe(true);
  });

  it('names the file and the JSON pointer of every problem, and keeps the valid windows', () => {
    const { windows, issues } = parseRulesFileWindows([
      { file: 'a.json', window: { name: 'ok', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' } },
      { file: 'a.json', window: { name: 'forever', timezone: 'UTC' } },
      { file: 'b.json', window: { name: 'bad time', timezone: 'Mars/Olympus', timeIntervals: [{ times: [{ start_time: '10:00', end_time: '09:00' }] }], companyId: '1' } },
      { file: 'b.json', window: { name: 'ok', timezone: 'UTC', endsAt: '2026-03-02T00:00:00Z' } },
    ]);
    expect(windows.map((w) => w.name)).toEqual(['ok']);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'a.json', pointer: '/maintenanceWindows/1/endsAt', message: expect.stringMatching(/forever/) }),
        expect.objectContaining({ file: 'b.json', pointer: '/maintenanceWindows/0/timezone' }),
        expect.objectContaining({ file: 'b.json', pointer: '/maintenanceWindows/0/timeIntervals/0/times/0/end_time' }),
        expect.objectContaining({ file: 'b.json', pointer: '/maintenanceWindows/0/companyId', message: expect.stringMatching(/unknown field/) }),
        expect.objectContaining({ file: 'b.json', pointer: '/maintenanceWindows/1/name', message: expect.stringMatching(/already used in a\.json/) }),
      ]),
    );
    expect(issues.every((i) => i.severity === 'error' && i.rule === null)).toBe(true);
  });
});

describe('window snapshots (stored with a silenced receipt)', () => {
  it('round-trip through JSON to the same timing', () => {
    const w = window({ timing: { timezone: 'Europe/Berlin', timeIntervals: [{ weekdays: ['monday'] }], startsAt: null, endsAt: new Date('2026-03-02T00:00:00Z') } });
    const stored = windowSnapshotSchema.parse(JSON.parse(JSON.stringify(snapshotOf(w))));
    expect(timingOfSnapshot(stored)).toEqual(w.timing);
    expect(stored).toMatchObject({ key: 'api:1', id: '1', name: 'patching', origin: 'api', processAfter: false });
  });
});
