/**
 * `npm test` runs every test: the unit and integration tests (`unit`) and the browser tests
 * (`e2e`, Debian's Chromium). `npm run test:unit` / `npm run test:e2e` select one project.
 * Tests are transformed by SWC (fast, no type-check); `npm run typecheck` runs tsc over src and test.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  // Global only: jest reads testTimeout from the top level, not from a project. The browser
  // test sets its own, longer timeouts.
  testTimeout: 30000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.e2e\\.test\\.ts$'],
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e.test.ts'],
      transform,
    },
  ],
};
