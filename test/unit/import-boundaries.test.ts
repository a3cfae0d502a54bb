import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Issue 14 item 5: the import rules are enforced by `npm run lint` (eslint-plugin-boundaries in
 * eslint.config.mjs), for every top-level folder. Each case lints a line of code as if it were a
 * file of that folder (the file need not exist; the imported one does), through ESLint's Node API
 * (`new ESLint().lintText(code, { filePath })`, in one child process: test/helpers/lint-probe.mjs)
 * with the project's own config: an import the folder's README forbids is an error of
 * `boundaries/dependencies`, one it allows is not.
 */
const ROOT = path.resolve(__dirname, '../..');

interface Case {
  folder: string;
  /** A file of that folder (relative to the root); its imports are written relative to it. */
  file: string;
  /** Imports it may make: repository paths without extension. */
  allowed: string[];
  /** Imports that point the wrong way. */
  forbidden: string[];
  typeOnly?: boolean;
}

const CASES: Case[] = [
  { folder: 'core', file: 'core/x/probe.ts', allowed: ['core/errors'], forbidden: ['db/tables', 'lib/logger', 'app/alerts/deps', 'api/context', 'config/env'] },
  { folder: 'lib', file: 'lib/probe.ts', allowed: ['lib/timeout'], forbidden: ['core/errors', 'config/env', 'db/tables', 'main/start', 'api/context'] },
  { folder: 'config', file: 'config/probe.ts', allowed: ['config/env'], forbidden: ['lib/logger', 'core/errors', 'db/tables'] },
  { folder: 'db', file: 'db/queries/probe.ts', allowed: ['core/errors', 'db/tables'], forbidden: ['lib/tokens', 'app/alerts/deps', 'api/context', 'workers/catalog', 'plugins/types', 'rules/engine/types'] },
  { folder: 'plugins', file: 'plugins/x/probe.ts', allowed: ['plugins/types', 'core/errors', 'lib/timeout'], forbidden: ['db/tables', 'app/alerts/deps', 'api/context'] },
  { folder: 'rules', file: 'rules/engine/probe.ts', allowed: ['rules/engine/types', 'core/errors', 'db/queries/rulesets', 'lib/logger'], forbidden: ['app/alerts/deps', 'api/context', 'workers/alert.worker', 'main/start'] },
  { folder: 'connectors', file: 'connectors/x/probe.ts', allowed: ['core/errors', 'db/tables', 'lib/logger', 'config/env'], forbidden: ['app/alerts/deps', 'api/context', 'workers/catalog', 'main/start'] },
  { folder: 'app', file: 'app/x/probe.ts', allowed: ['app/alerts/deps', 'core/errors', 'db/tables', 'rules/engine/types', 'plugins/types', 'lib/logger', 'config/env'], forbidden: ['api/context', 'workers/catalog', 'cli/start', 'main/start'] },
  { folder: 'workers', file: 'workers/probe.ts', allowed: ['workers/catalog', 'app/alerts/deps', 'core/errors', 'db/tables', 'lib/logger', 'config/env'], forbidden: ['api/context', 'cli/start', 'main/start'] },
  { folder: 'api', file: 'api/admin/probe.ts', allowed: ['api/context', 'workers/catalog', 'app/alerts/deps', 'core/errors', 'db/tables', 'plugins/types', 'rules/engine/types', 'lib/logger', 'config/env'], forbidden: ['workers/alert.worker', 'workers/alert-queue', 'cli/start', 'main/start'] },
  { folder: 'cli', file: 'cli/commands/probe.ts', allowed: ['main/run', 'app/alerts/deps', 'core/errors', 'db/tables', 'workers/catalog', 'config/env'], forbidden: ['workers/alert.worker'] },
  { folder: 'main', file: 'main/probe.ts', allowed: ['api/app', 'workers/alert.worker', 'app/alerts/deps', 'db/connection', 'lib/logger', 'config/env'], forbidden: ['cli/start', 'test/helpers/harness'] },
  { folder: 'bench', file: 'bench/probe.ts', allowed: ['test/helpers/harness', 'app/alerts/deps', 'rules/engine/types'], forbidden: ['main/start', 'cli/start'] },
  { folder: 'scripts', file: 'scripts/probe.ts', allowed: ['lib/logger', 'config/env'], forbidden: ['db/tables', 'app/alerts/deps', 'api/context', 'main/start'] },
  { folder: 'console', file: 'console/src/probe.ts', allowed: [], forbidden: ['core/errors', 'api/context', 'lib/logger', 'db/tables'] },
  { folder: 'console', file: 'console/src/probe.ts', typeOnly: true, allowed: ['core/errors', 'api/context'], forbidden: ['db/tables', 'lib/logger'] },
];

interface Probe {
  file: string;
  target: string;
  typeOnly: boolean;
}

function probeCode(p: Probe): { code: string; filePath: string } {
  let spec = path.relative(path.dirname(path.join(ROOT, p.file)), path.join(ROOT, p.target));
  if (!spec.startsWith('.')) spec = `./${spec}`;
  const code = p.typeOnly ? `import type * as probe from '${spec}';\nexport type Probe = typeof probe;\n` : `import * as probe from '${spec}';\nexport const used = probe;\n`;
  return { code, filePath: path.join(ROOT, p.file) };
}

const key = (p: Probe) => `${p.file} ${p.target} ${p.typeOnly}`;
const EXTRA: Probe[] = [
  { file: 'lib/probe.test.ts', target: 'config/env', typeOnly: false },
  { file: 'test/helpers/probe.ts', target: 'main/start', typeOnly: false },
];
let results: Map<string, string[]>;

beforeAll(() => {
  const probes: Probe[] = [
    ...CASES.flatMap((c) => [...c.allowed, ...c.forbidden].map((target) => ({ file: c.file, target, typeOnly: !!c.typeOnly }))),
    ...EXTRA,
  ];
  const out = execFileSync(process.execPath, [path.join(ROOT, 'test/helpers/lint-probe.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(probes.map(probeCode)),
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const messages = JSON.parse(out) as Array<Array<{ ruleId: string | null; message: string }>>;
  results = new Map(probes.map((p, i) => [key(p), (messages[i] ?? []).filter((m) => m.ruleId === 'boundaries/dependencies').map((m) => m.message)]));
}, 120_000);

const boundaryErrors = (file: string, target: string, typeOnly: boolean): string[] => {
  const r = results.get(key({ file, target, typeOnly }));
  if (!r) throw new Error(`not probed: ${file} → ${target}`);
  return r;
};

describe('issue 14 item 5: npm run lint refuses an upward import in every folder', () => {
  it('covers every top-level folder of the layers (and the coming connectors/ and console/)', () => {
    expect(new Set(CASES.map((c) => c.folder))).toEqual(
      new Set(['api', 'app', 'cli', 'config', 'core', 'db', 'lib', 'main', 'plugins', 'rules', 'workers', 'bench', 'scripts', 'connectors', 'console']),
    );
  });

  for (const c of CASES) {
    const kind = c.typeOnly ? ' (import type)' : '';
    if (c.allowed.length > 0)
      it(`${c.folder}/ may import ${c.allowed.join(', ')}${kind}`, async () => {
        for (const target of c.allowed) expect({ target, errors: boundaryErrors(c.file, target, !!c.typeOnly) }).toEqual({ target, errors: [] });
      });
    it(`${c.folder}/ may not import ${c.forbidden.join(', ')}${kind}`, async () => {
      for (const target of c.forbidden) {
        const errors = boundaryErrors(c.file, target, !!c.typeOnly);
        expect({ target, errors }).toEqual({ target, errors: [expect.stringContaining('There is no policy allowing dependencies')] });
      }
    });
  }

  it('tests may import anything (a *.test.ts beside lib/ reads config/)', async () => {
    expect(boundaryErrors('lib/probe.test.ts', 'config/env', false)).toEqual([]);
    expect(boundaryErrors('test/helpers/probe.ts', 'main/start', false)).toEqual([]);
  });
});
