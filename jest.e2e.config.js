/** `npm run test:e2e`: browser tests (need Chromium: apt-get install chromium). */
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['**/*.e2e.test.ts'], testPathIgnorePatterns: ['/node_modules/'], testTimeout: 90000 };
