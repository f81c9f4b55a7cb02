// Bundles web/graphiql/main.tsx with GraphiQL, React and their CSS into dist/graphiql/ (part of
// `npm run build`). esbuild is a dev dependency: the built files are what the gateway serves.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: { app: path.join(root, 'web', 'graphiql', 'main.tsx') },
  outdir: path.join(root, 'dist', 'graphiql'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
  legalComments: 'linked',
  logLevel: 'warning',
});
