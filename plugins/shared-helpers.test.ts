import { z } from 'zod';
import { dedupFieldsSchema, dedupKeyFor, joinKeyParts, looksLikeTimestamp } from './dedup-fields';
import { getPath, PLAIN_PATH, stableStringify } from './object-path';
import { formatPath, parseOrThrow } from './payload-error';
import { fromEpoch, parseLenientTimestamp } from './timestamps';

describe('dedup fields', () => {
  it.each(['startsAt', 'endsAt', 'activityTime', 'timestamp', 'occurredAt', 'occurred_at', 'created', 'lastUpdate', 'eventDate', 'ts', 'start_date', 'TIME'])(
    'R-ALR-4: %p looks like a timestamp',
    (name) => expect(looksLikeTimestamp(name)).toBe(true),
  );

  it.each(['fingerprint', 'alertname', 'seriesUid', 'deviceId', 'format', 'state', 'status', 'category', 'data', 'instance', 'checkId', 'stats'])(
    'R-ALR-4: %p is not a timestamp',
    (name) => expect(looksLikeTimestamp(name)).toBe(false),
  );

  it('R-ALR-4: a nested timestamp segment is refused too, with its index in the path', () => {
    const result = dedupFieldsSchema.safeParse(['labels.host', 'device.lastContact']);
    expect(result.error?.issues.map((i) => i.path)).toEqual([[1]]);
  });

  it('R-ALR-4: keys are namespaced and unambiguous', () => {
    expect(joinKeyParts(['a|b', 'c'])).not.toBe(joinKeyParts(['a', 'b|c']));
    expect(dedupKeyFor('src', {}, {}, ['x', 'y'], [])).toBe('src:x|y');
    expect(dedupKeyFor('src', { dedupFields: ['labels'] }, { labels: { b: '2', a: '1' } }, ['ignored'], [])).toBe('src:{"a":"1","b":"2"}');
    expect(dedupKeyFor('src', { dedupFields: ['n'] }, { n: 0 }, [], [])).toBe('src:0');
  });
});

describe('object paths', () => {
  it('R-RUL-5 spirit: plain dot paths only, own properties only', () => {
    expect(PLAIN_PATH.test('labels.instance')).toBe(true);
    for (const bad of ['labels[0]', '$..x', 'a..b', '.a', 'a.', 'a b', "a['b']"]) expect(PLAIN_PATH.test(bad)).toBe(false);
    expect(getPath({ a: [{ b: 1 }] }, 'a.0.b')).toBe(1);
    expect(getPath({ a: {} }, 'a.constructor')).toBeUndefined();
    expect(getPath({}, '__proto__')).toBeUndefined();
    expect(getPath({ a: [1] }, 'a.length')).toBeUndefined();
  });

  it('stableStringify ignores key order', () => {
    expect(stableStringify({ b: [1, { d: 1, c: 2 }], a: null })).toBe(stableStringify({ a: null, b: [1, { c: 2, d: 1 }] }));
  });
});

describe('payload errors', () => {
  it('R-ALR-5: paths read like JSON paths', () => {
    expect(formatPath([])).toBe('body');
    expect(formatPath(['alerts', 0, 'labels', 'severity'])).toBe('alerts[0].labels.severity');
    expect(formatPath([2, 'state'])).toBe('[2].state');
  });

  it('R-ALR-5: missing fields say "is required", bad enums show the options and the value, details list all', () => {
    const schema = z.object({ a: z.string(), b: z.enum(['x', 'y']), c: z.object({ d: z.number() }) });
    try {
      parseOrThrow(schema, { b: 'z', c: { d: 'nope' } }, ['root']);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'root.a: is required (and 2 more problems)',
        details: [
          { field: 'root.a', message: 'is required' },
          { field: 'root.b', message: 'must be one of "x", "y" (got "z")' },
          { field: 'root.c.d', message: 'Invalid input: expected number, received string' },
        ],
      });
    }
  });
});

describe('timestamps', () => {
  it('epoch seconds and milliseconds are told apart; absurd values are refused', () => {
    expect(fromEpoch(1795419912)?.toISOString()).toBe('2026-11-23T07:45:12.000Z');
    expect(fromEpoch(1795419912.5)?.toISOString()).toBe('2026-11-23T07:45:12.500Z');
    expect(fromEpoch(1795419912000)?.toISOString()).toBe('2026-11-23T07:45:12.000Z');
    for (const bad of [0, -1, Number.NaN, 1e20, 12]) expect(fromEpoch(bad)).toBeNull();
  });

  it('ambiguous day/month orders and garbage are refused', () => {
    for (const bad of ['06/05/2026 10:00', '2026-13-45', 'soon', '', '   ', {}, null]) expect(parseLenientTimestamp(bad)).toBeNull();
  });
});
