#!/usr/bin/env node
// Soak: 60 s of mixed queries at 32 connections against the built gateway, with the simulator
// in a process of its own (so the RSS measured is the gateway's alone) and faults switched on
// and off during the run. Reports answers and errors by code, p50/p99 latency, and the
// gateway's RSS at the start, at 20 s and at 60 s.
//   npm run soak [-- --seconds 60 --connections 32]
// Not a test: it asserts nothing, but exits 1 if an error has no documented code.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, connections: { type: 'string', default: '32' } } });
const SECONDS = Number(o.seconds);
const CONNECTIONS = Number(o.connections);
const DOCUMENTED = new Set(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMITED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_BAD_RESPONSE', 'CURSOR_STALE', 'GRAPHQL_VALIDATION_FAILED']);

execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
/** Starts a built script with `env` added, and resolves with the process and the first capture of `pattern` on its stdout. */
function startAndRead(script, env, pattern) {
  const child = spawn(process.execPath, [path.join(REPO, 'dist', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 30_000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = pattern.exec(out);
      if (m) { clearTimeout(timer); resolve([child, m[1]]); }
    });
  });
}

const [simulatorProcess, simulator] = await startAndRead('simulator/main.js',
  { SIMULATOR_PORT: '0', SIMULATOR_ADMIN: 'true', SIMULATOR_RATE_LIMIT_PER_MINUTE: '0' }, /listening on (\S+)/);
const [gateway, url] = await startAndRead('index.js', {
  PORT: '0', NODE_ENV: 'production', LOG_LEVEL: 'warn', RDS_ENDPOINT: simulator,
  HUAWEICLOUD_SDK_PROJECT_ID: '0123456789abcdef0123456789abcdef',
  UPSTREAM_BUDGET_PER_MINUTE: '1000000000', UPSTREAM_TIMEOUT_MS: '1000', UPSTREAM_RETRIES: '1',
  UPSTREAM_CACHE_TTL_MS: '500', // short, so that the faults reach the answers
}, /GraphQL at (\S+)/);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gateway.pid}/status`, 'utf8'))[1]) / 1024;
const admin = (p, method, body) => fetch(`${simulator}/__admin/${p}`, { method, body: body && JSON.stringify(body) }).then((r) => r.json());
const instances = await admin('instances', 'GET');
const ids = instances.map((i) => i.id);
const big = instances.find((i) => i.backups >= 1000);
const firstBackups = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ backups(instanceId: "${big.id}", first: 40) { nodes { id } pageInfo { endCursor } } }` }) })).json();
const backupIds = firstBackups.data.backups.nodes.map((n) => n.id);

const QUERIES = [
  (i) => ({ query: 'query Page($id: ID!, $first: Int) { backups(instanceId: $id, first: $first) { totalCount edges { cursor node { id name type status sizeKb beginTime endTime datastore { type version } } } pageInfo { hasNextPage endCursor } } }', variables: { id: ids[i % ids.length], first: 5 + (i % 30) } }),
  (i) => ({ query: 'query Tail($id: ID!) { backups(instanceId: $id, last: 10) { nodes { id } pageInfo { hasPreviousPage startCursor } } }', variables: { id: ids[i % ids.length] } }),
  (i) => ({ query: 'query Lookup($id: ID!, $b: ID!) { backup(instanceId: $id, id: $b) { id name status } }', variables: { id: big.id, b: backupIds[i % backupIds.length] } }),
  (i) => ({ query: 'query Many($ids: [ID!]!) { instances(ids: $ids) { id backups(first: 3) { totalCount } } }', variables: { ids: ids.slice(0, 1 + (i % 4)) } }),
  (i) => ({ query: 'query Autos($id: ID!) { backups(instanceId: $id, first: 20, filter: { type: AUTO }) { totalCount nodes { id } } }', variables: { id: ids[i % 5] } }),
  () => ({ query: 'query Bad { backups(instanceId: "../x") { totalCount } }' }),
  () => ({ query: `query Gone { backups(instanceId: "ffffffffffffffffffffffffffffffffin01") { totalCount } }` }),
];

const SCHEDULE = [
  [0.15, 'PUT', [{ kind: 'error', status: 503, rate: 0.3, instanceId: ids[1] }]],
  [0.30, 'PUT', [{ kind: 'latency', latencyMs: 150 }]],
  [0.45, 'PUT', [{ kind: 'hang', rate: 0.05, instanceId: ids[2] }, { kind: 'throttle', rate: 0.1, retryAfterSeconds: 30, instanceId: ids[3] }]],
  [0.60, 'DELETE'],
  [0.75, 'PUT', [{ kind: 'malformed', rate: 0.2, instanceId: ids[0] }, { kind: 'reset', rate: 0.1, instanceId: ids[4] }]],
  [0.90, 'DELETE'],
];

const latencies = [];
const codes = new Map();
const statuses = new Map();
let answers = 0;
let unexpected = 0;
const started = Date.now();
const deadline = started + SECONDS * 1000;
const rssAt = { start: rss() };
const timers = SCHEDULE.map(([at, method, rules]) => setTimeout(() => admin('faults', method, rules), at * SECONDS * 1000));
timers.push(setTimeout(() => { rssAt['20s'] = rss(); }, Math.min(20_000, SECONDS * 1000 / 3)));

async function worker(w) {
  for (let i = w; Date.now() < deadline; i += CONNECTIONS) {
    const body = QUERIES[i % QUERIES.length](i);
    const t = performance.now();
    let res;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      statuses.set('socket error', (statuses.get('socket error') ?? 0) + 1);
      unexpected += 1;
      continue;
    }
    const text = await res.text();
    latencies.push(performance.now() - t);
    answers += 1;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status !== 200) unexpected += 1;
    for (const e of JSON.parse(text).errors ?? []) {
      const code = e.extensions?.code ?? 'none';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (!DOCUMENTED.has(code)) unexpected += 1;
    }
  }
}
await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
rssAt['60s'] = rss();
timers.forEach(clearTimeout);
gateway.kill('SIGTERM');
simulatorProcess.kill('SIGTERM');

const sorted = Float64Array.from(latencies).sort();
const pct = (p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const growth = ((rssAt['60s'] - rssAt['20s']) / rssAt['20s']) * 100;
console.log(`\nsoak: ${SECONDS} s, ${CONNECTIONS} connections, ${answers} answers (${(answers / SECONDS).toFixed(0)}/s), faults switched ${SCHEDULE.length} times`);
console.log(`HTTP statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
console.log(`errors by code: ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])))}`);
console.log(`latency p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms`);
console.log(`gateway RSS: start ${rssAt.start.toFixed(0)} MB, 20 s ${rssAt['20s'].toFixed(0)} MB, end ${rssAt['60s'].toFixed(0)} MB (growth 20 s -> end ${growth.toFixed(1)}%)`);
console.log(`unexpected: ${unexpected} (non-200 answers, socket errors, errors without a documented code)`);
process.exit(unexpected === 0 ? 0 : 1);
