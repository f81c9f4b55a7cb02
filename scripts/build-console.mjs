// Bundles the example console (web/console/: React 19, Apollo Client 4) into dist/console/ for
// `npm run console`. Not part of `npm run build`: the gateway does not serve it (the console's own
// server does, on another origin), and the production image does not need it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'console');
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { app: path.join(root, 'web', 'console', 'main.tsx') },
  outdir,
  bundle: true,
  minify: true,
  sourcemap: true,
  // ES modules: main.tsx awaits its config.json at the top level.
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
});
fs.copyFileSync(path.join(root, 'web', 'console', 'index.html'), path.join(outdir, 'index.html'));
