#!/usr/bin/env node
// The live scenario (issue 19): many graphql-ws subscribers of Subscription.backupChanges on a
// few connections, while the simulator's backups change. Measures what the one shared poll per
// key promises: upstream calls per interval (from the simulator's call log), the latency from a
// change to each subscriber's event, every change seen exactly once by every subscriber, and the
// gateway's RSS (its /metrics process_resident_memory_bytes).
//   npm run bench:live [-- --duration 30 --subscribers 1000 --connections 50 --instances 1
//                          --keys 1 --interval 1000 --change-every 2]
// By default every subscriber watches one instance with no filter: one live key. --keys K spreads
// them evenly over K keys: the --instances N instances (at most the simulator's 6 with backups)
// with no filter, then the same instances again with filters that match every backup (a
// beginTime/endTime range, a different one per key). Every couple of intervals (1.5 to 2.5
// intervals apart at random, so that the changes fall at every phase of the poll) the newest
// backup of each watched instance is PATCHed to another status, and back at the next change.
// The gateway runs built (dist/) with its budget out of the way, against the simulator in a
// process of its own (admin on, throttling off), so the RSS measured is the gateway's alone.
// BENCH_GATEWAY_NODE_OPTIONS is the gateway's NODE_OPTIONS (not the build's or this script's).
// Not a test: it asserts nothing, but exits 1 when an event was lost, repeated or wrong.
// A script of its own rather than an option of run.mjs: run.mjs hands over to the peers'
// bench.mjs (installing the peers first), and no peer serves subscriptions to compare with.
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT = '0123456789abcdef0123456789abcdef';
const SUBSCRIPTION = 'subscription Watch($id: ID!, $filter: BackupFilter) { backupChanges(instanceId: $id, filter: $filter) { kind totalCount backup { id status } } }';

/** The options, each a whole number within its range; anything else stops the bench with one line. */
function readOptions() {
  const spec = {
    duration: [30, 1, 3600], subscribers: [1000, 1, 100_000], connections: [50, 1, 1000], instances: [1, 1, 6], keys: [0, 0, 1000],
    interval: [Number(process.env.LIVE_POLL_INTERVAL_MS ?? 1000), 100, 600_000], 'change-every': [2, 2, 100],
  };
  const { values } = parseArgs({ options: Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' }])) });
  const options = {};
  for (const [name, [fallback, min, max]] of Object.entries(spec)) {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max) {
      console.error(`bench:live: --${name} must be a whole number from ${min} to ${max}, got ${values[name]}`);
      process.exit(2);
    }
    options[name] = value;
  }
  if (options.connections > options.subscribers) options.connections = options.subscribers;
  options.keys = Math.max(options.keys, options.instances);
  return options;
}
const o = readOptions();
const PER_CONNECTION = Math.ceil(o.subscribers / o.connections);

/** Starts a built script with `env` added, and resolves with the process and the first capture of `pattern` on its stdout. */
function startAndRead(script, env, pattern) {
  const child = spawn(process.execPath, [path.join(REPO, 'dist', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it started: ${out}`)));
    child.stdout.on('data', (c) => {
      out += c;
      const m = pattern.exec(out);
      if (m) { clearTimeout(timer); child.stdout.resume(); resolve([child, m[1]]); }
    });
  });
}

/** The gateway's /metrics, as a map from sample (name with labels) to value. */
async function metrics(gatewayUrl) {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** Resolves once `check()` holds, polling every 100 ms; throws with `what` after `ms`. */
async function until(what, check, ms) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`bench:live: timed out waiting for ${what}`);
    await sleep(100);
  }
}

const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]);
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
const [simulatorProcess, simulator] = await startAndRead('simulator/main.js',
  { SIMULATOR_PORT: '0', SIMULATOR_ADMIN: 'true', SIMULATOR_RATE_LIMIT_PER_MINUTE: '0', SIMULATOR_LIFECYCLE_MS: '0' }, /listening on (\S+)/);
const [gatewayProcess, graphqlUrl] = await startAndRead('index.js', {
  PORT: '0', NODE_ENV: 'production', LOG_LEVEL: 'warn', RDS_ENDPOINT: simulator, HUAWEICLOUD_SDK_PROJECT_ID: PROJECT,
  UPSTREAM_BUDGET_PER_MINUTE: process.env.UPSTREAM_BUDGET_PER_MINUTE ?? '1000000000',
  LIVE_POLL_INTERVAL_MS: String(o.interval),
  // 1,000 on 50 is 20 a connection: the default limit fits it exactly; raised only for more.
  MAX_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(20, PER_CONNECTION)),
  // e.g. --max-old-space-size=64, to tell garbage V8 has not collected yet from memory kept.
  ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
}, /GraphQL at (\S+)/);
const gatewayUrl = graphqlUrl.replace(/\/graphql$/, '');
const stopAll = () => { gatewayProcess.kill('SIGTERM'); simulatorProcess.kill('SIGTERM'); };
process.on('uncaughtException', (e) => { console.error(e); stopAll(); process.exit(1); });

async function admin(p, method = 'GET', body = undefined) {
  const res = await fetch(`${simulator}/__admin/${p}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (!res.ok) throw new Error(`bench:live: ${method} /__admin/${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The live keys: instance k mod N, with no filter for the first N, else a range that matches every backup. */
function toKeys(instances) {
  return Array.from({ length: o.keys }, (_, k) => ({
    instance: instances[k % instances.length],
    filter: k < instances.length ? null : { beginTime: new Date(Date.UTC(2000, 0, 1) + k * 1000).toISOString(), endTime: '2100-01-01T00:00:00Z' },
  }));
}

/** The watched instances (those with backups), each with its newest backup: the one the bench re-statuses. */
async function pickInstances() {
  const all = (await admin('instances')).filter((i) => i.backups > 0);
  if (all.length < o.instances) throw new Error(`bench:live: --instances ${o.instances}, but the simulator has ${all.length} instances with backups`);
  return Promise.all(all.slice(0, o.instances).map(async ({ id }) => {
    const res = await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query Newest($id: ID!) { backups(instanceId: $id, first: 1) { nodes { id status } } }', variables: { id } }) });
    const [newest] = (await res.json()).data.backups.nodes;
    return { id, backupId: newest.id, statuses: [newest.status, newest.status === 'FAILED' ? 'COMPLETED' : 'FAILED'], changes: [] };
  }));
}

// --- rss sampling, from before the subscribers until the end
const HEAP = 'nodejs_heap_size_used_bytes';
const startSamples = await metrics(gatewayUrl);
const rss = { start: startSamples.get('process_resident_memory_bytes'), peak: 0 };
rss.peak = rss.start;
const sampler = setInterval(() => {
  metrics(gatewayUrl).then((m) => { rss.peak = Math.max(rss.peak, m.get('process_resident_memory_bytes')); }, () => undefined);
}, 1000);

const instances = await pickInstances();
const keys = toKeys(instances);

// --- the subscribers: subscriber j on connection floor(j / PER_CONNECTION), watching key j mod K
const subscribers = [];
const clients = Array.from({ length: o.connections }, () => createClient({ url: graphqlUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true }));
for (let j = 0; j < o.subscribers; j++) {
  const key = keys[j % keys.length];
  const { instance, filter } = key;
  const subscriber = { key, instance, events: [], errors: [] };
  subscribers.push(subscriber);
  clients[Math.floor(j / PER_CONNECTION)].subscribe({ query: SUBSCRIPTION, variables: { id: instance.id, filter } }, {
    next: ({ data, errors }) => (errors ? subscriber.errors.push(errors[0]?.extensions?.code ?? errors[0]?.message) : subscriber.events.push({ at: performance.now(), ...data.backupChanges })),
    error: (e) => subscriber.errors.push(e?.code ?? String(e?.message ?? e)),
    complete: () => undefined,
  });
}
const subscribeStarted = performance.now();
await until(`${o.subscribers} active subscriptions on ${keys.length} polled keys`, async () => {
  const m = await metrics(gatewayUrl);
  return m.get('graphql_active_subscriptions{transport="ws"}') === o.subscribers && m.get('live_pollers') === keys.length;
}, 60_000);
const subscribedMs = performance.now() - subscribeStarted;
const subscribedSamples = await metrics(gatewayUrl);
const rssSubscribed = subscribedSamples.get('process_resident_memory_bytes');
rss.peak = Math.max(rss.peak, rssSubscribed);
// Two intervals: every key's first poll (the baseline that changes are computed from) is done.
await sleep(2 * o.interval);

// --- the run: a change to every watched instance every 1.5 to 2.5 intervals, for --duration
const callsBefore = await admin('calls?since=0');
const beforeRun = await metrics(gatewayUrl);
const runStarted = performance.now();
while (performance.now() - runStarted < o.duration * 1000) {
  await sleep(o.interval * (o['change-every'] - 0.5 + Math.random()));
  if (performance.now() - runStarted >= o.duration * 1000) break;
  await Promise.all(instances.map(async (instance) => {
    const status = instance.statuses[(instance.changes.length + 1) % 2];
    await admin(`instances/${instance.id}/backups/${instance.backupId}`, 'PATCH', { status });
    instance.changes.push({ status, at: performance.now() });
  }));
}
// Every subscriber has every event, or three intervals passed since the last change.
await until('the last events', () => subscribers.every((s) => s.events.length >= s.instance.changes.length), 3 * o.interval).catch(() => undefined);
const runMs = performance.now() - runStarted;
const calls = await admin(`calls?since=${callsBefore.seq}`);
const end = await metrics(gatewayUrl);
clearInterval(sampler);
rss.peak = Math.max(rss.peak, end.get('process_resident_memory_bytes'));

// --- after the subscribers leave: no poll goes on
await Promise.all(clients.map((c) => c.dispose()));
await until('no active subscription', async () => (await metrics(gatewayUrl)).get('graphql_active_subscriptions{transport="ws"}') === 0, 10_000);
const leftAt = await admin('calls?since=0');
await sleep(2 * o.interval);
const callsAfterLeaving = (await admin(`calls?since=${leftAt.seq}`)).count;
stopAll();

// --- exactly once: subscriber s's k-th event is the k-th change of its instance
const latencies = [];
let lost = 0;
let extra = 0;
let wrong = 0;
for (const s of subscribers) {
  const { changes, backupId } = s.instance;
  lost += Math.max(0, changes.length - s.events.length);
  extra += Math.max(0, s.events.length - changes.length);
  changes.forEach((change, k) => {
    const event = s.events[k];
    if (!event) return;
    if (event.kind !== 'UPDATED' || event.backup.id !== backupId || event.backup.status !== change.status) wrong += 1;
    else latencies.push(event.at - change.at);
  });
}
latencies.sort((a, b) => a - b);
// The fan-out of one poll: for each change and key, from the key's first subscriber's event to its last one's.
const spreads = keys.flatMap((key) => key.instance.changes.map((_, k) => {
  const times = subscribers.filter((s) => s.key === key && s.events[k]).map((s) => s.events[k].at);
  return Math.max(...times) - Math.min(...times);
})).filter(Number.isFinite).sort((a, b) => a - b);
const errors = subscribers.flatMap((s) => s.errors);
const changes = instances[0].changes.length;
const intervals = runMs / o.interval;
/** Polls by outcome: during the run, and before it (the first polls, while 1,000 subscriptions start). */
const polls = (samples) => ['ok', 'failed', 'ended'].map((outcome) => `${outcome} ${samples.get(`live_polls_total{outcome="${outcome}"}`) ?? 0}`).concat(`skipped ${samples.get('live_polls_skipped_total') ?? 0}`);
const during = new Map([...end].map(([k, v]) => [k, v - (beforeRun.get(k) ?? 0)]));

console.log(`\nnode ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0].toFixed(2)}; LIVE_POLL_INTERVAL_MS=${o.interval}`);
console.log(`live: ${o.subscribers} subscribers on ${o.connections} connections (${PER_CONNECTION} each), ${keys.length} live key(s) on ${instances.length} instance(s), ${(runMs / 1000).toFixed(1)} s, ${changes} changes per instance; subscribed in ${subscribedMs.toFixed(0)} ms`);
const rows = [
  ['upstream calls', `${calls.count} in ${intervals.toFixed(1)} intervals: ${(calls.count / intervals).toFixed(2)} per interval, ${(calls.count / intervals / keys.length).toFixed(2)} per key`],
  ['  after they left', `${callsAfterLeaving} in 2 intervals`],
  ['polls (metrics)', `${polls(during).join(', ')}; before the run ${polls(beforeRun).join(', ')}`],
  ['event latency', `p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)?.toFixed(1)} ms (${latencies.length} events)`],
  ['  / interval', `p50 ${(pct(latencies, 50) / o.interval).toFixed(2)}, p99 ${(pct(latencies, 99) / o.interval).toFixed(2)} (a change waits for the next poll: 0 to 1 interval, 0.5 on average)`],
  ['  fan-out', `first to last subscriber of a key, for one change: p50 ${pct(spreads, 50).toFixed(1)} ms, max ${spreads.at(-1)?.toFixed(1)} ms`],
  ['events', `expected ${subscribers.reduce((n, s) => n + s.instance.changes.length, 0)}, lost ${lost}, repeated ${extra}, wrong ${wrong}; subscription errors ${errors.length}${errors.length ? ` (${[...new Set(errors)].join(', ')})` : ''}`],
  ['gateway RSS', `start ${mb(rss.start)}, subscribed ${mb(rssSubscribed)}, peak ${mb(rss.peak)}, end ${mb(end.get('process_resident_memory_bytes'))}`],
  ['  heap used', `start ${mb(startSamples.get(HEAP))}, subscribed ${mb(subscribedSamples.get(HEAP))}, end ${mb(end.get(HEAP))}`],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
process.exit(lost + extra + wrong + errors.length === 0 ? 0 : 1);
