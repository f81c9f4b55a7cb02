#!/usr/bin/env node
// Memory under a hostile sweep, against the built gateway (the simulator in a process of its own,
// so the RSS measured is the gateway's alone): distinct comment-padded documents (half of them
// bodies of 0.9 MB, 300,000 comment lines, which MAX_DOCUMENT_BYTES refuses; half documents of
// 60 KB, just under it), distinct persisted-query registrations of about 1.8 KB (nine
// connections, 117 fields), and large undeclared variables. Reports the gateway's RSS before,
// at its peak during each phase, and after; the target is under 250 MB throughout, alive at the end.
//   npm run bench:memory [-- --padded 500 --apq 10000 --variables 1000 --concurrency 8 --node-flags=--max-old-space-size=128]
// Not a test: it asserts nothing, but exits 1 if the gateway died, answered a 5xx, or went over 250 MB.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: o } = parseArgs({ options: {
  padded: { type: 'string', default: '500' }, apq: { type: 'string', default: '10000' },
  variables: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '8' },
  'node-flags': { type: 'string', default: '' },
} });
const TARGET_MB = 250;

execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
const started = [];
/** Starts a built script (with `flags` for node) with `env` added, and resolves with the process and the first capture of `pattern` on its stdout. */
function startAndRead(script, env, pattern, flags = []) {
  const child = spawn(process.execPath, [...flags, path.join(REPO, 'dist', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 30_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited (${code}) before it started: ${out}`)); });
    child.stdout.on('data', (c) => {
      out += c;
      // With --node-options=--trace-gc: the live heap after each full collection.
      for (const gc of String(c).matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(/g)) child.liveAfterGc = Number(gc[1]);
      const m = pattern.exec(out);
      if (m) { clearTimeout(timer); resolve([child, m[1]]); out = ''; pattern = /$^/; }
    });
  });
}

process.on('unhandledRejection', (error) => { for (const child of started) child.kill('SIGTERM'); console.error(error); process.exit(1); });
const [simulatorProcess, simulator] = await startAndRead('simulator/main.js',
  { SIMULATOR_PORT: '0', SIMULATOR_ADMIN: 'true', SIMULATOR_RATE_LIMIT_PER_MINUTE: '0' }, /listening on (\S+)/);
const [gateway, url] = await startAndRead('index.js', {
  PORT: '0', NODE_ENV: 'production', LOG_LEVEL: 'warn', RDS_ENDPOINT: simulator,
  HUAWEICLOUD_SDK_PROJECT_ID: '0123456789abcdef0123456789abcdef',
  UPSTREAM_BUDGET_PER_MINUTE: '1000000000',
}, /GraphQL at (\S+)/, o['node-flags'].split(' ').filter(Boolean));
let died = null;
gateway.on('exit', (code, signal) => { died = `exit ${code ?? signal}`; });

/** The gateway's resident set in MB; NaN once it has exited. */
const rss = () => { try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gateway.pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; } };
let peak = 0;
const sampler = setInterval(() => { const r = rss(); if (r > peak) peak = r; }, 50);
const statuses = new Map();
let failures = 0;

async function send(body) {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) failures += 1;
  } catch {
    statuses.set('socket error', (statuses.get('socket error') ?? 0) + 1);
    failures += 1;
  }
}
/** Sends `count` requests made by `make(i)`, `concurrency` at a time. */
async function phase(name, count, make) {
  statuses.clear();
  peak = rss();
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: Number(o.concurrency) }, async () => {
    while (next < count && !died) await send(make(next++));
  }));
  const result = { phase: name, ...(gateway.liveAfterGc === undefined ? {} : { liveAfterLastGcMb: gateway.liveAfterGc }), requests: count, seconds: (Date.now() - started) / 1000, peakMb: Math.round(peak), endMb: Math.round(rss()), statuses: Object.fromEntries(statuses) };
  console.log(JSON.stringify(result));
  return result;
}

const ids = (await (await fetch(`${simulator}/__admin/instances`)).json()).map((i) => i.id);
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const alias = (k) => `a${k}: backups(instanceId: $id, first: 1) { totalCount nodes { id name type status sizeKb beginTime endTime datastore { type version } } pageInfo { hasNextPage endCursor } }`;
const registration = (i) => {
  const query = `query Registered${i}($id: ID!) { ${Array.from({ length: 9 }, (_, k) => alias(k)).join(' ')} }`;
  return { query, variables: { id: ids[i % ids.length] }, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } };
};
const junk = (i) => ({ seed: i, rows: Array.from({ length: 4000 }, (_, k) => ({ k, text: 'x'.repeat(80) })) }); // about 400 KB as JSON

const before = rss();
console.log(`gateway RSS before: ${before.toFixed(0)} MB (registration ${JSON.stringify(registration(0)).length} bytes, variable ${JSON.stringify(junk(0)).length} bytes)`);
const results = [
  await phase('comment-padded documents (bodies of 0.9 MB and documents of 60 KB, alternating)', Number(o.padded), (i) => ({ query: `{ __typename } # ${i}\n${'#\n'.repeat(i % 2 === 0 ? 300_000 : 30_000)}` })),
  await phase('persisted-query registrations', Number(o.apq), registration),
  await phase('large undeclared variables', Number(o.variables), (i) => ({ query: 'query($id: ID!) { backups(instanceId: $id, first: 1) { totalCount } }', variables: { id: ids[i % ids.length], junk: junk(i) } })),
];
await new Promise((r) => setTimeout(r, 5000));
const after = rss();
const health = died ? null : await fetch(`${url.replace(/\/graphql$/, '')}/healthz`).then((r) => r.status, () => null);
clearInterval(sampler);
gateway.kill('SIGTERM');
simulatorProcess.kill('SIGTERM');

const overall = died ? NaN : Math.max(before, ...results.map((r) => r.peakMb));
console.log(`\ngateway RSS: before ${before.toFixed(0)} MB, peak ${overall.toFixed(0)} MB, after (5 s idle) ${after.toFixed(0)} MB; target < ${TARGET_MB} MB`);
if (gateway.liveAfterGc !== undefined) console.log(`live heap after the last full collection: ${gateway.liveAfterGc} MB`);
console.log(`alive at the end: ${died ? `no (${died})` : `yes (/healthz ${health})`}; 5xx or socket errors: ${failures}`);
process.exit(!died && health === 200 && failures === 0 && overall < TARGET_MB ? 0 : 1);
