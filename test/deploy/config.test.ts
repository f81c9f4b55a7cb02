/**
 * deploy/'s configuration files as their own tools read them: Prometheus's (promtool, Debian's
 * `prometheus` package) and the compose file (Debian's `docker-compose` 1.29, whose `config`
 * validates against the Compose specification and needs no Docker engine). Both are installed
 * by scripts/test-deps.mjs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { promtool } from '../helpers/prometheus';

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');
const COMPOSE = path.join(DEPLOY, 'compose.yaml');
const PROMETHEUS_CONFIG = path.join(DEPLOY, 'prometheus', 'prometheus.yml');

function compose(...args: string[]): string {
  try {
    return execFileSync('docker-compose', ['-f', COMPOSE, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('docker-compose is not installed: apt-get install docker-compose (npm test runs scripts/test-deps.mjs, which does)');
    throw new Error(`docker-compose ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

describe('deploy/prometheus/prometheus.yml', () => {
  it('passes promtool check config, with the alert rules it names beside it', () => {
    const out = promtool('check', 'config', PROMETHEUS_CONFIG);
    expect(out).toMatch(/SUCCESS: 1 rule files found/);
    expect(out).toMatch(/alerts\.yml\n\s+SUCCESS: \d+ rules found/);
  });
});

describe('deploy/compose.yaml', () => {
  it('is a valid compose file (docker-compose config)', () => {
    expect(compose('config', '--quiet')).toBe('');
    expect(compose('config', '--services').trim().split('\n').sort()).toEqual(['gateway-1', 'gateway-2', 'grafana', 'prometheus', 'redis', 'simulator']);
  });

  it('runs two replicas on one simulator and one Redis, each checked on /readyz, and mounts files that exist', () => {
    const resolved = compose('config');
    for (const needle of ['RDS_ENDPOINT: http://simulator:4010', 'REDIS_URL: redis://redis:6379', "http://127.0.0.1:4000/readyz'"]) {
      expect(resolved.split(needle).length - 1).toBe(2);
    }
    const mounts = [...resolved.matchAll(/^\s+- (\/[^:\n]+):[^\n]+$/gm)].map((m) => m[1]!);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    expect(mounts.filter((m) => !fs.existsSync(m))).toEqual([]);
  });

  it('has Prometheus scrape every gateway service compose runs, on the port the image listens on', () => {
    const scrapeJob = fs.readFileSync(PROMETHEUS_CONFIG, 'utf8').split('\n').filter((l) => !l.trim().startsWith('#')).join('\n').split('scrape_configs:')[1]!;
    const targets = /targets: \[([^\]]+)\]/.exec(scrapeJob)![1]!.split(',').map((t) => t.trim().replace(/'/g, ''));
    const port = /PORT=(\d+)/.exec(fs.readFileSync(path.join(DEPLOY, '..', 'Dockerfile'), 'utf8'))![1];
    const gateways = compose('config', '--services').trim().split('\n').filter((s) => s.startsWith('gateway-')).sort();
    expect(targets.sort()).toEqual(gateways.map((s) => `${s}:${port}`));
  });
});
