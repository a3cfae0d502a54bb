import path from 'node:path';
import { GOLDEN_CONTEXT, loadGoldenCases, runGolden, shouldUpdateGolden, writeExpected } from '../golden';
import type { HubPlugin } from '../types';
import problem from './fixtures/problem.json';
import { examplePlugin } from './index';

// TEMPLATE: rename to <id>.test.ts. The golden block stays as it is; add tests for your maps below.
const plugin: HubPlugin<unknown> = examplePlugin;
const cases = loadGoldenCases(path.join(__dirname, 'fixtures'));

describe('example plugin (template): golden fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('R-ALR-2/R-ALR-5: %s', (_name, c) => {
    const outcome = runGolden(plugin, c.body, c.config);
    if (shouldUpdateGolden(process.env) || c.expected === undefined) writeExpected(c.expectedFile, outcome);
    expect(c.expected).toBeDefined();
    expect(outcome).toEqual(c.expected);
  });
});

describe('example plugin (template)', () => {
  it('R-ALR-4: the dedup key is host + check, the same for PROBLEM and OK', () => {
    const config = examplePlugin.configSchema.parse({});
    const result = examplePlugin.normalize(problem, { ...GOLDEN_CONTEXT, config });
    expect(result.kind === 'alerts' && result.alerts[0]?.dedupKey).toBe('golden:h-42|disk-free-c');
  });
});
