// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

const infrastructure = ['knex', 'express', 'bullmq', 'ioredis', 'pg', 'pino', 'pino-http', 'prom-client', 'fs', 'node:fs', 'net', 'node:net', 'http', 'node:http'];

/**
 * The layers (ARCHITECTURE.md, each folder's README "May import"), enforced by
 * eslint-plugin-boundaries on every import, export-from, require and dynamic import between the
 * project's top-level folders. Each folder may import itself and what is listed for it; anything
 * else is an error. Order matters: an element is the first pattern a file matches, so
 * `workers/catalog.ts` (the one file of workers/ the API may read) comes before `workers`.
 * Tests (`test/`, `*.test.ts`) are outside the layers: they may import anything.
 */
const LAYERS = /** @type {const} */ ({
  core: [],
  lib: [],
  config: [],
  db: ['core'],
  plugins: ['core', 'lib'],
  rules: ['core', 'db', 'lib'],
  connectors: ['core', 'db', 'lib', 'config'],
  app: ['core', 'db', 'rules', 'plugins', 'connectors', 'lib', 'config'],
  workers: ['app', 'core', 'db', 'rules', 'plugins', 'connectors', 'lib', 'config'],
  api: ['app', 'core', 'db', 'rules', 'plugins', 'lib', 'config'],
  cli: ['main', 'app', 'core', 'db', 'rules', 'plugins', 'lib', 'config', 'api', 'scripts'],
  main: ['api', 'workers', 'app', 'core', 'db', 'rules', 'plugins', 'connectors', 'lib', 'config'],
  bench: ['api', 'workers', 'app', 'core', 'db', 'rules', 'plugins', 'connectors', 'lib', 'config', 'test'],
  scripts: ['lib', 'config'],
  console: [],
});
export const boundaryLayers = LAYERS;

const boundariesConfig = {
  files: ['**/*.ts', '**/*.mts', '**/*.tsx'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { node: { extensions: ['.ts', '.tsx', '.mts', '.js', '.json'] } },
    'boundaries/include': ['**/*.ts', '**/*.mts', '**/*.tsx', '**/*.js'],
    'boundaries/elements': [
      { type: 'test', pattern: 'test/**', partialMatch: false },
      ...Object.keys(LAYERS).map((type) => ({ type, pattern: `${type}/**`, partialMatch: false })),
    ],
    'boundaries/files': [
      { category: 'unit-test', pattern: '**/*.test.ts' },
      { category: 'job-catalog', pattern: 'workers/catalog.ts' },
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        policies: [
          ...Object.entries(LAYERS).map(([type, allowed]) => ({
            from: { element: { type } },
            allow: [
              { to: { element: { types: { anyOf: [type, ...allowed] } } } },
              // Of workers/, the API and the CLI may read the job catalog (queue names, payload schemas, job options).
              ...(['api', 'cli'].includes(type) ? [{ to: { file: { categories: 'job-catalog' } } }] : []),
            ],
          })),
          // The console (browser code) shares only types with the server: `import type` from core/ and api/.
          { from: { element: { type: 'console' } }, allow: { to: { element: { types: { anyOf: ['core', 'api'] } } }, dependency: { kind: 'type' } } },
          // Tests are outside the layers: test/ and every *.test.ts may import anything.
          { from: { element: { type: 'test' } }, allow: { to: { element: { types: { anyOf: ['test', ...Object.keys(LAYERS)] } } } } },
          { from: { file: { categories: 'unit-test' } }, allow: { to: { element: { types: { anyOf: ['test', ...Object.keys(LAYERS)] } } } } },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'console/dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // core/ is the pure domain: no I/O, the clock is a parameter (STYLE.md principle 6).
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: infrastructure.map((name) => ({ name, message: 'core/ must stay pure: do I/O in db/, api/ or workers/ and pass values in.' })),
          // Which folders core/ may import (none but itself) is the boundaries rule below.
          patterns: [{ group: ['knex/*', 'express/*', 'bullmq/*', 'ioredis/*', 'pg/*'], message: 'core/ must stay pure.' }],
        },
      ],
    },
  },
  boundariesConfig,
);
