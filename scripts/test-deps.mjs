#!/usr/bin/env node
/**
 * `npm test`'s first step: makes sure the programs the tests drive are on this machine, and
 * says what it did. The tests start their own Redis (Debian's `redis-server`, on free loopback
 * ports), drive Debian's `chromium` (the browser tests), start a real Prometheus and run
 * `promtool` on deploy/'s rules and configuration (Debian's `prometheus`, which ships both),
 * validate deploy/compose.yaml with `docker-compose config` (Debian's `docker-compose`; no
 * Docker engine needed) and run `openssl` (a test certificate), so a fresh machine needs them.
 *
 * Missing ones are installed with apt-get when this machine can (Debian or Ubuntu, as root or
 * with password-less sudo); otherwise this stops with the command to run, rather than letting
 * the tests fail one by one. `TEST_INSTALL=never` only checks (a machine whose packages are
 * managed elsewhere); `CHROMIUM_PATH` names another browser binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Debian package → how the tests find what it provides. */
const NEEDED = [
  { pkg: 'redis-server', present: () => onPath('redis-server') },
  { pkg: 'chromium', present: () => fs.existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') },
  // The outbound proxy test makes a self-signed certificate for an https upstream.
  { pkg: 'openssl', present: () => onPath('openssl') },
  { pkg: 'prometheus', present: () => onPath('prometheus') && onPath('promtool') },
  { pkg: 'docker-compose', present: () => onPath('docker-compose') },
];

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** How to run apt-get here: directly as root, through sudo without a password, or not at all. */
function aptRunner() {
  if (!onPath('apt-get')) return undefined;
  if (process.getuid?.() === 0) return [];
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return undefined;
}

const missing = NEEDED.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);

const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
const runner = aptRunner();
if (process.env.TEST_INSTALL === 'never' || runner === undefined) {
  console.error(`test-deps: the tests need ${missing.join(' and ')}, which this machine lacks.`);
  console.error(`test-deps: install ${missing.length > 1 ? 'them' : 'it'} (on Debian or Ubuntu: sudo apt-get update && sudo ${command}), then run npm test again.`);
  process.exit(1);
}

console.log(`test-deps: installing ${missing.join(' and ')} with apt-get (the tests need ${missing.length > 1 ? 'them' : 'it'}; this happens once)`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args) => {
  const [program, ...prefix] = runner.length ? runner : ['apt-get'];
  const argv = runner.length ? [...prefix, 'apt-get', ...args] : args;
  execFileSync(program, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
};
// A fresh machine's package lists may be empty or stale: update first, and try a few times
// (a mirror can fail for a moment).
for (let attempt = 1; ; attempt++) {
  try {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
    break;
  } catch (error) {
    if (attempt === 3) {
      console.error(`test-deps: apt-get failed (${error.message.split('\n')[0]}); install by hand: ${command}`);
      process.exit(1);
    }
    console.error(`test-deps: apt-get failed (attempt ${attempt}); trying again`);
    execFileSync('sleep', [String(5 * attempt)]);
  }
}
const still = NEEDED.filter((n) => !n.present()).map((n) => n.pkg);
if (still.length) {
  console.error(`test-deps: apt-get finished but ${still.join(' and ')} ${still.length > 1 ? 'are' : 'is'} still missing`);
  process.exit(1);
}
console.log(`test-deps: installed ${missing.join(' and ')}`);
