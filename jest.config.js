/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `npm run typecheck`'s job; here ts-jest only transpiles, including the
    // ESM-only packages below, because jest's module registry loads CommonJS.
    '^.+\\.[cm]?[tj]s$': [
      'ts-jest',
      { diagnostics: false, tsconfig: { module: 'commonjs', moduleResolution: 'node10', allowJs: true, esModuleInterop: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/quiet-env.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
