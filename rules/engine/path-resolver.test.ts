import { Engine } from 'json-rules-engine';
import { explain } from './explain';
import { parsePath, pathResolver } from './path-resolver';
import { baseFacts, compileFiles } from './test-support';
import { validateRuleset } from './validate';

/**
 * R-RUL-5: rule paths are data, never code. The payloads are the public jsonpath-plus RCE shapes
 * (a filter expression that reaches `constructor` and calls the Function it finds), made harmless:
 * they would set a global flag. The flag must stay unset everywhere.
 */

declare global {
  var __hubPwned: boolean | undefined;
}

const PAYLOADS = [
  "$..[?(@.constructor.constructor('globalThis.__hubPwned=true')())]",
  `$..[?(p="globalThis.__hubPwned=true";a=''[['constructor']][['constructor']](p);a())]`,
  '$.alert[?(@.severity)]',
  '$..severity',
  '$.__proto__.polluted',
  '$.constructor.name',
  '$.labels.prototype',
  "$['severity']",
  '$.severity.*',
];

beforeEach(() => {
  globalThis.__hubPwned = undefined;
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('parsePath', () => {
  it.each([
    ['$.severity', ['severity']],
    ['$.labels.env', ['labels', 'env']],
    ['$.labels.alert-group', ['labels', 'alert-group']],
    ['$.labels.0', ['labels', '0']],
  ])('R-RUL-5: accepts the plain property path %s', (path, segments) => {
    expect(parsePath(path)).toEqual({ ok: true, segments });
  });

  it.each(PAYLOADS)('R-RUL-5: refuses %s', (path) => {
    const parsed = parsePath(path);
    expect(parsed.ok).toBe(false);
    expect(globalThis.__hubPwned).toBeUndefined();
  });

  it('R-RUL-5: refuses paths without "$.", too long or too deep', () => {
    expect(parsePath('severity')).toMatchObject({ ok: false, message: expect.stringContaining('"$."') });
    expect(parsePath(`$.${'a'.repeat(300)}`)).toMatchObject({ ok: false });
    expect(parsePath(`$.${Array.from({ length: 9 }, () => 'a').join('.')}`)).toMatchObject({ ok: false, message: expect.stringContaining('more than 8') });
    expect(parsePath(42)).toMatchObject({ ok: false });
  });
});

describe('pathResolver', () => {
  it('R-RUL-5: resolves own properties only, and a path through a missing or null value is undefined', () => {
    const value = { severity: 'high', labels: { env: 'prod' }, device: null };
    expect(pathResolver(value, '$.severity')).toBe('high');
    expect(pathResolver(value, '$.labels.env')).toBe('prod');
    expect(pathResolver(value, '$.labels.team')).toBeUndefined();
    expect(pathResolver(value, '$.device.role')).toBeUndefined();
    // Inherited members are not data: no prototype walking, no functions.
    expect(pathResolver(value, '$.toString')).toBeUndefined();
    expect(pathResolver(value, '$.severity.length')).toBeUndefined();
  });

  it.each(PAYLOADS)('R-RUL-5: even handed %s directly, never evaluates it', (path) => {
    const value = { severity: 'high', alert: { severity: 'high' } };
    expect(pathResolver(value, path)).toBeUndefined();
    expect(globalThis.__hubPwned).toBeUndefined();
  });
});

describe('jsonpath-plus is unreachable from a rules file', () => {
  it.each(PAYLOADS.slice(0, 2))('R-RUL-5: the RCE payload %s is refused at validation, naming file, rule and pointer', (path) => {
    const text = JSON.stringify({
      rules: [
        {
          name: 'innocent-looking',
          conditions: { all: [{ fact: 'alert', path, operator: 'equal', value: 'x' }] },
          event: { type: 'setPriority', params: { priority: 'low' } },
        },
      ],
    });
    const result = validateRuleset([{ name: '50-evil.json', text }]);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      expect.objectContaining({ file: '50-evil.json', rule: 'innocent-looking', pointer: '/rules/0/conditions/all/0/path', message: expect.stringContaining('R-RUL-5') }),
    ]);
    expect(globalThis.__hubPwned).toBeUndefined();
  });

  it('R-RUL-5: explain builds json-rules-engine Engines that never call jsonpath-plus (the spy does see a bare Engine)', async () => {
    // The module object json-rules-engine's almanac required (an ES namespace import would be a copy).
    const jsonpath = jest.requireActual<typeof import('jsonpath-plus')>('jsonpath-plus');
    const spy = jest.spyOn(jsonpath, 'JSONPath');
    // Control: a bare Engine (default resolver) with a path does call jsonpath-plus, so the spy works.
    const bare = new Engine([{ conditions: { all: [{ fact: 'alert', path: '$.severity', operator: 'equal', value: 'high' }] }, event: { type: 'x' } }]);
    await bare.run({ alert: { severity: 'high' } });
    expect(spy).toHaveBeenCalled();
    spy.mockClear();

    const ruleset = compileFiles({
      'a.json': {
        rules: [
          { name: 'by-path', conditions: { all: [{ fact: 'alert', path: '$.labels.env', operator: 'equal', value: 'prod' }] }, event: { type: 'setPriority', params: { priority: 'P1' } } },
        ],
      },
    });
    const result = await explain(ruleset, baseFacts({}, { labels: { env: 'prod' } }));
    expect(result.trace[0]).toMatchObject({ fired: true, conditions: [{ factValue: 'prod', result: true }] });
    expect(spy).not.toHaveBeenCalled();
  });
});
