import fc from 'fast-check';
import { findUnstorableJson, MAX_JSON_DEPTH } from './storable-json';

const codeUnit = fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d', '\ude00'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));

const nested = (depth: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('findUnstorableJson (R-ALR-5: what Postgres and JSON.stringify cannot store is a 400, not a 500)', () => {
  it('R-ALR-5: ordinary payloads, emoji and paired surrogates pass', () => {
    expect(findUnstorableJson({ a: [1, 'x', null, true, { b: 'Ω 😀 \ud83d\ude00' }], '': 0 })).toBeUndefined();
    expect(findUnstorableJson(nested(MAX_JSON_DEPTH - 1))).toBeUndefined();
  });

  it('R-ALR-5: names the path of a NUL in a value or in a property name', () => {
    expect(findUnstorableJson({ alerts: [{ title: 'ok' }, { title: 'a\u0000b' }] })).toEqual({
      path: ['alerts', 1, 'title'],
      message: expect.stringContaining('NUL') as unknown,
    });
    expect(findUnstorableJson({ labels: { 'k\u0000': 'v' } })).toEqual({ path: ['labels'], message: expect.stringContaining('property name') as unknown });
  });

  it('R-ALR-5: finds unpaired high and low surrogates, and reports the first problem in document order', () => {
    expect(findUnstorableJson({ a: 'x\ud800' })?.path).toEqual(['a']);
    expect(findUnstorableJson({ a: '\udc00y' })?.message).toContain('surrogate');
    expect(findUnstorableJson({ a: 'fine', b: ['\ud800', '\u0000'], c: '\u0000' })?.path).toEqual(['b', 0]);
  });

  it('R-ALR-5: refuses nesting past the cap without overflowing the stack itself (100,000 levels)', () => {
    const deep = findUnstorableJson(JSON.parse(`${'['.repeat(100_000)}1${']'.repeat(100_000)}`));
    expect(deep?.path).toHaveLength(MAX_JSON_DEPTH);
    expect(deep?.message).toContain(`more than ${MAX_JSON_DEPTH} levels`);
    expect(findUnstorableJson(nested(MAX_JSON_DEPTH + 1))).toBeDefined();
  });

  it('R-ALR-5: whatever it accepts, JSON.stringify writes and the text holds no \\u0000 or lone surrogate escape', () => {
    fc.assert(
      // UTF-16 code units, surrogate halves and NUL included ('binary' strings never split a pair).
      fc.property(fc.jsonValue(), fc.string({ unit: codeUnit }), (v, s) => {
        for (const value of [v, { s }, [s], { [s]: 1 }]) {
          if (findUnstorableJson(value) !== undefined) continue;
          // JSON.stringify writes a paired surrogate as the character and escapes only unpaired ones.
          expect(JSON.stringify(value)).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/);
        }
      }),
    );
  });
});
