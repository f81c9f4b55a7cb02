#!/usr/bin/env node
// Benchmarks this gateway side by side with ../shared/peers (raw proxy and Apollo + RESTDataSource),
// against the peers' fake upstream. Extra arguments go to bench.mjs, e.g.
//   npm run bench -- --latency 20 --rounds 3
// except --accept-encoding VALUE, this script's own: every request the bench client sends then
// carries `Accept-Encoding: VALUE` (e.g. br), to measure what compression costs. autocannon does
// not decode bodies, so the cost measured is the gateway's alone; the peers compress nothing.
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

/** `--accept-encoding VALUE` (or `=VALUE`) taken out of the arguments: bench.mjs would refuse it. */
function takeAcceptEncoding(argv) {
  const rest = [];
  let value;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--accept-encoding') value = argv[++i];
    else if (argv[i].startsWith('--accept-encoding=')) value = argv[i].slice('--accept-encoding='.length);
    else rest.push(argv[i]);
  }
  if (value !== undefined && !/^[\w*;=.,\s-]+$/.test(value)) {
    console.error(`bench: --accept-encoding wants a header value such as br or "gzip, br", got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return { acceptEncoding: value, rest };
}
const { acceptEncoding, rest: benchArgs } = takeAcceptEncoding(process.argv.slice(2));

execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rbg-bench-'));
fs.cpSync(PEERS, path.join(work, 'peers'), { recursive: true });
const peers = path.join(work, 'peers');
for (const f of fs.readdirSync(peers)) fs.chmodSync(path.join(peers, f), 0o644);
fs.chmodSync(peers, 0o755);
if (acceptEncoding !== undefined) {
  // bench.mjs has no option for it: its copy sends the header with every request (probe included).
  const file = path.join(peers, 'bench.mjs');
  const source = fs.readFileSync(file, 'utf8');
  const headers = "const HEADERS = { 'content-type': 'application/json', 'x-project-id': PROJECT_ID };";
  if (!source.includes(headers)) {
    console.error(`bench: --accept-encoding cannot be applied: ${file} no longer has the line\n  ${headers}`);
    process.exit(2);
  }
  fs.writeFileSync(file, source.replace(headers, `${headers.slice(0, -3)}, 'accept-encoding': ${JSON.stringify(acceptEncoding)} };`));
  console.log(`bench: every request carries Accept-Encoding: ${acceptEncoding}`);
}
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
  ...benchArgs.map((arg, i, all) => (all[i - 1] === '--query-file' ? path.resolve(arg) : arg)),
];
const run = spawnSync(process.execPath, args, { cwd: peers, stdio: 'inherit' });
process.exit(run.status ?? 1);
