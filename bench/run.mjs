#!/usr/bin/env node
// Benchmarks this gateway side by side with ../shared/peers (raw proxy and Apollo + RESTDataSource),
// against the peers' fake upstream. Extra arguments go to bench.mjs, e.g.
//   npm run bench -- --latency 20 --rounds 3
// The peers folder is copied to a temporary place first: CI's ../shared is read-only.
// The gateway runs built (dist/), with its cache off (unless BENCH_CACHE_TTL_MS is set) and its
// upstream budget out of the way, so every request costs one upstream call, as for the peers.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = path.resolve(REPO, '..', 'shared', 'peers');
if (!fs.existsSync(path.join(PEERS, 'bench.mjs'))) {
  console.error(`bench: ${PEERS} not found (the benchmark needs the shared peers next to this checkout)`);
  process.exit(2);
}

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbg-bench-'));
fs.cpSync(PEERS, path.join(work, 'peers'), { recursive: true });
const peers = path.join(work, 'peers');
for (const f of fs.readdirSync(peers)) fs.chmodSync(path.join(peers, f), 0o644);
fs.chmodSync(peers, 0o755);
console.log(`bench: installing the peers in ${peers}`);
execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peers, stdio: 'inherit' });

const port = await freePort();
// BENCH_CACHE_TTL_MS turns the shared cache on (e.g. with --distinct 1, the polling scenario).
const cacheTtl = Number(process.env.BENCH_CACHE_TTL_MS ?? 0);
const env = [`UPSTREAM_CACHE_TTL_MS=${cacheTtl}`, 'UPSTREAM_BUDGET_PER_MINUTE=1000000000', 'LOG_LEVEL=warn'];
// BENCH_UPSTREAM_FANOUT sets UPSTREAM_FANOUT (default 4): 5 reads a page of 500 in one wave.
if (process.env.BENCH_UPSTREAM_FANOUT) env.push(`UPSTREAM_FANOUT=${Number(process.env.BENCH_UPSTREAM_FANOUT)}`);
const args = [
  path.join(peers, 'bench.mjs'),
  '--project-cmd', `${env.join(' ')} ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))}`,
  '--project-url', `http://127.0.0.1:${port}/graphql`,
  '--query-file', path.join(REPO, 'bench', 'query.json'),
  // A --query-file of the caller's is relative to where they ran the command, not to the peers copy.
  ...process.argv.slice(2).map((arg, i, all) => (all[i - 1] === '--query-file' ? path.resolve(arg) : arg)),
];
const run = spawnSync(process.execPath, args, { cwd: peers, stdio: 'inherit' });
process.exit(run.status ?? 1);
