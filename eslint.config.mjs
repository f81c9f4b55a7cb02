/**
 * Machine-checks two rules of the codebase's layout (issue 17); it is not a style linter, so no
 * recommended rule set is turned on. `npm run lint` runs it; test/layout.test.ts runs the same
 * config through ESLint's Node API, so `npm test` fails when a rule breaks.
 *
 * 1. No function in src/ longer than 60 lines (blank lines and comments not counted; the
 *    signature and closing brace are) unless a reason is written right above it, as
 *        // eslint-disable-next-line max-lines-per-function -- <why>
 *    The `-- <why>` is required, `eslint-disable-next-line` is the only directive allowed, and a
 *    directive that no longer suppresses anything is itself an error (reportUnusedDisableDirectives).
 * 2. Layering, by the import specifier as written (the rules see './x', '../x', not resolved paths):
 *    - src/config.ts imports nothing from src/simulator/;
 *    - src/simulator/ (a separate program) imports nothing from the gateway outside itself except
 *      the neutral src/env.ts;
 *    - src/upstream/ imports nothing of GraphQL: no GraphQL package, no backups/, server, context,
 *      schema or generated/ (STYLE.md: the upstream client knows nothing of GraphQL).
 *    These have no inline escape hatch: a change of layering is a change of this file.
 */
import comments from '@eslint-community/eslint-plugin-eslint-comments';
import tseslint from 'typescript-eslint';

// The typescript-eslint variant of no-restricted-imports also sees `import x = require('...')`
// and, with allowTypeImports left false, treats `import type` like any other import.
const RESTRICTED_IMPORTS = '@typescript-eslint/no-restricted-imports';

/** The tree below src/simulator/ is flat: '../x' from there leaves the simulator. */
const simulatorLayering = {
  patterns: [
    {
      regex: '^\\.\\./config$',
      message: "The simulator shares no code with the gateway's config: read the environment through ../env.",
    },
    {
      regex: '^\\.\\.(?!/env$|/config$)(/|$)',
      message: 'The simulator is a separate program: it imports nothing from the gateway outside src/simulator/ except ../env.',
    },
  ],
};

const configLayering = {
  patterns: [
    {
      regex: '^\\./simulator(/|$)',
      message: "config.ts imports nothing from src/simulator/: the simulator is a separate program that shares no code with the gateway's config.",
    },
  ],
};

const upstreamLayering = {
  patterns: [
    {
      regex: '^(graphql(-[^/]+)?|@apollo/[^/]+|@graphql-[^/]+/[^/]+|@escape\\.tech/graphql-armor)(/|$)',
      message: 'The upstream client knows nothing of GraphQL (STYLE.md): no GraphQL package in src/upstream/.',
    },
    {
      regex: '^\\.\\./(backups|generated)(/|$)|^\\.\\./(server|context|schema)$',
      message: 'The upstream client knows nothing of GraphQL (STYLE.md): it imports nothing from backups/, generated/, server, context or schema.',
    },
  ],
};

export default [
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'src/generated/**'] },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: {
      '@typescript-eslint': tseslint.plugin,
      '@eslint-community/eslint-comments': comments,
    },
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
      '@eslint-community/eslint-comments/require-description': 'error',
      '@eslint-community/eslint-comments/no-use': ['error', { allow: ['eslint-disable-next-line'] }],
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
      '@eslint-community/eslint-comments/no-restricted-disable': [
        'error',
        'no-restricted-imports',
        RESTRICTED_IMPORTS,
        '@eslint-community/eslint-comments/*',
      ],
    },
  },
  { files: ['src/config.ts'], rules: { [RESTRICTED_IMPORTS]: ['error', configLayering] } },
  { files: ['src/simulator/**/*.ts'], rules: { [RESTRICTED_IMPORTS]: ['error', simulatorLayering] } },
  { files: ['src/upstream/**/*.ts'], rules: { [RESTRICTED_IMPORTS]: ['error', upstreamLayering] } },
];
