/**
 * Debian's `prometheus` (scripts/test-deps.mjs installs it) for a test: a fresh TSDB in a temp
 * folder, on a free loopback port, with the configuration the test writes.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { rawRequest } from './http';
import { freePort } from './redis';

export interface PrometheusServer {
  url: string;
  /** GET on Prometheus's HTTP API (`/api/v1/...`); its `data` when `status` is `success`, else it throws with the error. */
  api<T = any>(pathAndQuery: string): Promise<T>;
  /** Everything Prometheus wrote to stderr (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** Runs `promtool` with `args`; its output, or it throws with that output. */
export function promtool(...args: string[]): string {
  try {
    return execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/** Starts Prometheus with `config` (YAML text) and resolves once it answers /-/ready. */
export async function startPrometheus(config: string): Promise<PrometheusServer> {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('prometheus is not installed: apt-get install prometheus (npm test runs scripts/test-deps.mjs, which does)');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, config);
  const port = await freePort();
  const child = spawn('prometheus', [
    `--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log += chunk.toString(); });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
    }
    const ready = await rawRequest(url, '/-/ready').then((r) => r.status === 200, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 50)); // its start-up, not the code under test
  }
  return {
    url,
    log: () => log,
    stop,
    async api(pathAndQuery) {
      const res = await rawRequest(url, pathAndQuery);
      const body = res.json();
      if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${res.status} ${body.errorType}: ${body.error}`);
      return body.data;
    },
  };
}
