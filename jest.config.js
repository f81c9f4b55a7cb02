/**
 * `npm test` runs every test: the unit and integration tests (`unit`) and the browser tests
 * (`e2e`, Debian's Chromium). `npm run test:unit` / `npm run test:e2e` select one project.
 * Tests are transformed by SWC (fast, no type-check); `npm run typecheck` runs tsc over src and test.
 */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.e2e\\.test\\.ts$'],
      transform,
      testTimeout: 30000,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e.test.ts'],
      transform,
      testTimeout: 90000,
    },
  ],
};
