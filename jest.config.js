/**
 * Three projects: pure unit tests (no services), integration tests on the machine's real Postgres and
 * Redis, and browser tests of the console (real chromium against a real hub; test/browser/).
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] };
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  setupFiles: ['<rootDir>/api/openapi/extend-zod.ts'],
};

module.exports = {
  // Per test; integration tests start real processes on a 2-core machine (a project-level value is ignored).
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{core,plugins,rules,lib,config,api,app,workers,db,main,connectors,cli}/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      setupFiles: ['<rootDir>/api/openapi/extend-zod.ts', '<rootDir>/test/helpers/env.ts'],
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
      setupFiles: ['<rootDir>/api/openapi/extend-zod.ts', '<rootDir>/test/helpers/env.ts'],
    },
  ],
};
