// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const infrastructure = ['knex', 'express', 'bullmq', 'ioredis', 'pg', 'pino', 'pino-http', 'prom-client', 'fs', 'node:fs', 'net', 'node:net', 'http', 'node:http'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
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
