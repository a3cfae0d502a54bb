import fs from 'node:fs';
import path from 'node:path';
import { isHubError } from '../core/errors';
import { normalizeResultSchema } from './alert-schema';
import { zodError } from './payload-error';
import type { HubPlugin, NormalizeResult } from './types';

/**
 * Golden tests for plugins: every `fixtures/<name>.json` (a body exactly as the sender posts it) is
 * replayed through the plugin and compared with `fixtures/<name>.expected.json`. An optional
 * `fixtures/<name>.config.json` is the source's plugin config for that case.
 *
 * Run with `UPDATE_GOLDEN=1 npx jest plugins/<id>` to (re)write the expected files, then read the
 * diff: the expected files are the review of what the plugin does.
 */
export const GOLDEN_CONTEXT = { sourceName: 'golden', receivedAt: new Date('2026-11-23T12:00:00.000Z') } as const;

export type GoldenOutcome = { result: NormalizeResult } | { error: { code: string; message: string; details?: unknown } };

export interface GoldenCase {
  name: string;
  body: unknown;
  config: unknown;
  expectedFile: string;
  /** undefined when the expected file does not exist yet. */
  expected: GoldenOutcome | undefined;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;

export function loadGoldenCases(fixturesDir: string): GoldenCase[] {
  return fs
    .readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json') && !f.endsWith('.config.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length);
      const expectedFile = path.join(fixturesDir, `${name}.expected.json`);
      const configFile = path.join(fixturesDir, `${name}.config.json`);
      return {
        name,
        body: readJson(path.join(fixturesDir, file)),
        config: fs.existsSync(configFile) ? readJson(configFile) : {},
        expectedFile,
        expected: fs.existsSync(expectedFile) ? (readJson(expectedFile) as GoldenOutcome) : undefined,
      };
    });
}

/** Config through the plugin's own schema, then normalize; the result must satisfy the alert contract. */
export function runGolden(plugin: HubPlugin<unknown>, body: unknown, config: unknown): GoldenOutcome {
  try {
    const parsedConfig = plugin.configSchema.safeParse(config);
    if (!parsedConfig.success) throw zodError(parsedConfig.error, ['config'], config);
    const result = plugin.normalize(body, { ...GOLDEN_CONTEXT, config: parsedConfig.data });
    const checked = normalizeResultSchema.safeParse(result);
    if (!checked.success) throw new Error(`${plugin.id}: normalize() broke the alert contract: ${checked.error.message}`);
    // Through JSON, as it will be stored: no undefined, no class instances.
    return { result: JSON.parse(JSON.stringify(result)) as NormalizeResult };
  } catch (e) {
    if (isHubError(e)) return { error: { code: e.code, message: e.message, details: e.details } };
    throw e;
  }
}

export const shouldUpdateGolden = (env: NodeJS.ProcessEnv): boolean => env.UPDATE_GOLDEN === '1';

export function writeExpected(file: string, outcome: GoldenOutcome): void {
  fs.writeFileSync(file, `${JSON.stringify(outcome, null, 2)}\n`);
}
