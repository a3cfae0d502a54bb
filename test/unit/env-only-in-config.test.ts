/**
 * Issue 14 item 4: `process.env` is read only in config/ (the zod-parsed environment). Every other production
 * folder receives its settings as values, so a setting has one name, one default and one validation.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');
const PRODUCTION = ['api', 'app', 'cli', 'core', 'db', 'lib', 'plugins', 'rules', 'workers', 'main', 'connectors', 'console'];

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [full] : [];
  });
}

const readsEnv = (text: string): boolean => /\bprocess\.env\b/.test(text);

describe('issue 14 item 4: process.env is read only in config/', () => {
  it('no production file outside config/ reads process.env', () => {
    const offenders = PRODUCTION.flatMap((d) => tsFiles(path.join(ROOT, d)))
      .filter((f) => readsEnv(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
    expect(offenders).toEqual([]);
  });

  it('the scan sees what it is meant to see: config/ itself reads process.env, and the pattern matches', () => {
    expect(tsFiles(path.join(ROOT, 'cli')).length).toBeGreaterThan(3);
    expect(readsEnv(fs.readFileSync(path.join(ROOT, 'config/env.ts'), 'utf8'))).toBe(true);
    expect(readsEnv("const x = process.env.X ?? 'y';")).toBe(true);
    expect(readsEnv("const x = config.X;")).toBe(false);
  });
});
