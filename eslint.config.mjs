// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const infrastructure = ['knex', 'express', 'bullmq', 'ioredis', 'pg', 'pino', 'pino-http', 'prom-client', 'fs', 'node:fs', 'net', 'node:net', 'http', 'node:http'];

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
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  {
    // db/ holds rows and one statement per function; it may import only core/ (issue 14). Use cases
    // that need lib/ (token generation, hashing) live in app/ (issue 13 item 1 moved app/tokens there).
    files: ['db/**/*.ts'],
    ignores: ['db/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../lib/*', '../../lib/*', '../api/*', '../../api/*', '../app/*', '../../app/*', '../workers/*', '../../workers/*', '../cli/*', '../../cli/*'],
              message: 'db/ may import only core/ (and its own files): put the use case in app/.',
            },
          ],
        },
      ],
    },
  },
  {
    // app/ (use cases) sits below the adapters: it never imports api/, workers/ or cli/.
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api/*', '../../api/*', '../../../api/*', '../workers/*', '../../workers/*', '../../../workers/*', '../cli/*', '../../cli/*', '../../../cli/*'],
              message: 'app/ is called by the adapters (api/, workers/, cli/) and never calls them.',
            },
          ],
        },
      ],
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
          patterns: [
            { group: ['knex/*', 'express/*', 'bullmq/*', 'ioredis/*', 'pg/*'], message: 'core/ must stay pure.' },
            { group: ['../db/*', '../../db/*', '../api/*', '../../api/*', '../workers/*', '../../workers/*'], message: 'core/ may not import I/O layers.' },
          ],
        },
      ],
    },
  },
);
