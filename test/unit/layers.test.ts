import fs from 'node:fs';
import path from 'node:path';

/**
 * Issue 14 (items 1, 3, 4): the arrows between the layers point down — adapters (api/, workers/,
 * cli/) → app/ → core/ and db/queries/ → core/. This reads every import of the folders the alert
 * side of issue 14 reorganised and names each one that points the wrong way. (`npm run lint`
 * enforces the boundaries of every folder — eslint.config.mjs, test/unit/import-boundaries.test.ts;
 * this reads the files themselves as a second opinion.)
 */

const ROOT = path.resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|require\(\s*'([^']+)'\s*\)/g;

/** The repository paths (e.g. `workers/alert-queue`) a file imports; packages are left out. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec?.startsWith('.')) continue;
    out.push(path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), spec)));
  }
  return out;
}

function violations(dirs: string[], allowed: (target: string, file: string) => boolean): string[] {
  const bad: string[] = [];
  for (const dir of dirs) for (const file of sourceFiles(dir)) for (const target of importsOf(file)) if (!allowed(target, file)) bad.push(`${file} → ${target}`);
  return bad;
}

const top = (p: string): string => p.split(path.sep)[0] ?? '';

describe('issue 14: imports point down the layers', () => {
  it('the import reader sees the imports of a file (so the checks below cannot pass by reading nothing)', () => {
    expect(importsOf('app/alerts/apply-receipts.ts')).toEqual(expect.arrayContaining(['core/tickets/receipt-effect', 'db/queries/alert-batch', 'app/alerts/build-facts']));
    expect(importsOf('workers/alert.worker.ts')).toContain('app/alerts/apply-job');
  });

  it('item 4: db/ imports only core/ (db/queries/inbox.ts no longer reaches plugins/, db/queries/rulesets.ts no longer rules/)', () => {
    // db/queries/tokens-admin.ts → lib/tokens.ts is the tokens side of issue 14 (app/tokens), not the alert side.
    expect(violations(['db'], (t, f) => ['db', 'core'].includes(top(t)) || (f === path.join('db', 'queries', 'tokens-admin.ts') && t === path.join('lib', 'tokens')))).toEqual([]);
  });

  it('item 2: core/ imports only core/', () => {
    expect(violations(['core'], (t) => top(t) === 'core')).toEqual([]);
  });

  it('item 1, 3: app/ imports no adapter (api/, workers/, cli/) — the use cases are called, they call nobody above', () => {
    expect(violations(['app'], (t) => !['api', 'workers', 'cli', 'main'].includes(top(t)))).toEqual([]);
  });

  it('item 3: rules/ imports neither the worker nor the API nor the use cases', () => {
    expect(violations(['rules'], (t) => !['api', 'workers', 'app', 'cli', 'main'].includes(top(t)))).toEqual([]);
  });

  it('item 3: the API imports from workers/ only the job catalog and the enqueuer (api/README.md), never the pipeline', () => {
    const allowed = [path.join('workers', 'catalog'), path.join('workers', 'alert-queue')];
    expect(violations(['api'], (t) => top(t) !== 'workers' || allowed.includes(t))).toEqual([]);
  });
});
