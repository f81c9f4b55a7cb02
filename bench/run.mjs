#!/usr/bin/env node
// Benchmarks this gateway side by side with ../shared/peers (raw proxy and Apollo + RESTDataSource),
// against the peers' fake upstream. Extra arguments go to bench.mjs, e.g.
//   npm run bench -- --latency 20 --rounds 3
// except --accept-encoding VALUE, this script's own: every request the bench client sends then
// carries `Accept-Encoding: VALUE` (e.g. br), to measure what compression costs. autocannon does
// not decode bodies, so the cost measured is the gateway's alone; the peers compress nothing.
// The peers folder is copied to a temporary place first: CI's ../shared is read-only.
// --tracing=RATIO (this script's own too) runs the gateway with tracing on, sampling that share of
// operations (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=RATIO), and
// exports OTLP/HTTP protobuf to a sink in this process that answers 200 to every POST on /v1/traces.
// --help lists the options; --dry-run prints what would run (and starts the sink) without running it.
// The gateway runs built (dist/), with its cache off (unless BENCH_CACHE_TTL_MS is set) and its
// upstream budget out of the way, so every request costs one upstream call, as for the peers.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = path.resolve(REPO, '..', 'shared', 'peers');
const USAGE = `usage: npm run bench -- [--accept-encoding VALUE] [--tracing=RATIO] [--dry-run] [bench.mjs options, e.g. --latency 20 --rounds 3]
  --accept-encoding VALUE  every request the bench client sends carries Accept-Encoding: VALUE (e.g. br)
  --tracing=RATIO          tracing on, sampling RATIO (0 to 1) of the operations, exported to a local OTLP sink
  --dry-run                print the gateway's command and exit (nothing built, installed or measured)
  environment: BENCH_CACHE_TTL_MS (cache on), BENCH_UPSTREAM_FANOUT (UPSTREAM_FANOUT)`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
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
/** `--tracing RATIO` (or `=RATIO`) and `--dry-run` taken out of the arguments, as `--accept-encoding` is. */
function takeOwnOptions(argv) {
  const rest = [];
  let tracing;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--tracing') tracing = argv[++i];
    else if (argv[i].startsWith('--tracing=')) tracing = argv[i].slice('--tracing='.length);
    else if (argv[i] === '--dry-run') dryRun = true;
    else rest.push(argv[i]);
  }
  if (tracing !== undefined && !(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(tracing))) {
    console.error(`bench: --tracing wants the share of operations to sample, from 0 to 1 (e.g. 1 or 0.1), got ${JSON.stringify(tracing)}`);
    process.exit(2);
  }
  return { tracing, dryRun, rest };
}
const { acceptEncoding, rest: afterEncoding } = takeAcceptEncoding(process.argv.slice(2));
const { tracing, dryRun, rest: benchArgs } = takeOwnOptions(afterEncoding);

/** The OTLP/HTTP sink of --tracing: 200 to every POST on /v1/traces, counting exports and bytes. */
async function startOtlpSink() {
  const received = { exports: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => { bytes += chunk.length; });
    req.on('end', () => {
      const ok = req.method === 'POST' && req.url === '/v1/traces';
      if (ok) { received.exports += 1; received.bytes += bytes; }
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (!fs.existsSync(path.join(PEERS, 'bench.mjs'))) {
  console.error(`bench: ${PEERS} not found (the benchmark needs the shared peers next to this checkout)`);
  if (!dryRun) process.exit(2);
}
const sink = tracing === undefined ? undefined : await startOtlpSink();
if (dryRun) {
  console.log(`bench: dry run${sink ? `, OTLP sink at ${sink.url}` : ''}: nothing is built, installed or measured`);
} else {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
}
const work = dryRun ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'rbg-bench-'));
const peers = dryRun ? PEERS : path.join(work, 'peers');
if (!dryRun) {
  fs.cpSync(PEERS, peers, { recursive: true });
  for (const f of fs.readdirSync(peers)) fs.chmodSync(path.join(peers, f), 0o644);
  fs.chmodSync(peers, 0o755);
}
if (acceptEncoding !== undefined && !dryRun) {
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
if (!dryRun) {
  console.log(`bench: installing the peers in ${peers}`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: peers, stdio: 'inherit' });
}

const port = await freePort();
// BENCH_CACHE_TTL_MS turns the shared cache on (e.g. with --distinct 1, the polling scenario).
const cacheTtl = Number(process.env.BENCH_CACHE_TTL_MS ?? 0);
const env = [`UPSTREAM_CACHE_TTL_MS=${cacheTtl}`, 'UPSTREAM_BUDGET_PER_MINUTE=1000000000', 'LOG_LEVEL=warn'];
// BENCH_UPSTREAM_FANOUT sets UPSTREAM_FANOUT (default 4): 5 reads a page of 500 in one wave.
if (process.env.BENCH_UPSTREAM_FANOUT) env.push(`UPSTREAM_FANOUT=${Number(process.env.BENCH_UPSTREAM_FANOUT)}`);
if (sink) {
  env.push(`OTEL_EXPORTER_OTLP_ENDPOINT=${sink.url}`, 'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf', 'OTEL_TRACES_SAMPLER=parentbased_traceidratio', `OTEL_TRACES_SAMPLER_ARG=${tracing}`);
  console.log(`bench: tracing on, sampling ${tracing} of the operations, exported to ${sink.url}/v1/traces`);
}
const args = [
  path.join(peers, 'bench.mjs'),
  '--project-cmd', `${env.join(' ')} ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO, 'dist', 'index.js'))}`,
  '--project-url', `http://127.0.0.1:${port}/graphql`,
  '--query-file', path.join(REPO, 'bench', 'query.json'),
  // A --query-file of the caller's is relative to where they ran the command, not to the peers copy.
  ...benchArgs.map((arg, i, all) => (all[i - 1] === '--query-file' ? path.resolve(arg) : arg)),
];
if (dryRun) {
  console.log(`bench: would run in ${peers}:\n  ${[process.execPath, ...args].map((a) => JSON.stringify(a)).join(' ')}`);
  await sink?.close();
  process.exit(0);
}
if (!sink) {
  const run = spawnSync(process.execPath, args, { cwd: peers, stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
// The sink answers from this process's event loop: spawnSync would block it, and every export with it.
const child = spawn(process.execPath, args, { cwd: peers, stdio: 'inherit' });
const [status] = await new Promise((resolve) => child.on('exit', (...exit) => resolve(exit)));
console.log(`bench: the OTLP sink received ${sink.received.exports} exports, ${(sink.received.bytes / 1024).toFixed(0)} KB`);
await sink.close();
process.exit(status ?? 1);
