/**
 * deploy/: the Grafana dashboard and the alert rules against a real Prometheus (Debian's) that
 * scrapes a running gateway every second. Traffic makes every series the dashboard shows move
 * (cache hit, stale, miss and coalesced; upstream 5xx, timeout and network failures with their
 * retries; a budget spent and refused; subscriptions, their polls and a skipped poll); then
 * every PromQL expression of the dashboard and of the rules is evaluated through the HTTP API.
 * The test waits on what Prometheus reports (targets, samples, rule health), never on a time.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { Client } from 'graphql-ws';

import { liveClient, metric, originOf, until, WATCH } from '../helpers/live-clients';
import { promtool, startPrometheus, type PrometheusServer } from '../helpers/prometheus';
import { startStack, type Stack } from '../helpers/stack';

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');
const DASHBOARD = path.join(DEPLOY, 'grafana', 'rds-backup-graph.json');
const ALERTS = path.join(DEPLOY, 'prometheus', 'alerts.yml');
const JOB = 'rds-backup-graph'; // the job name of deploy/prometheus/prometheus.yml, which RdsBackupGraphDown selects on

const TTL_MS = 60_000;
const BUDGET = 20;
const SERVICE_KEY = { ak: 'PROMETHEUSTESTAK01', sk: 'prometheus-test-sk' };
const ROUNDS = [1, 2];
const TOKENS = ROUNDS.flatMap((round) => [`watcher-${round}`, `spender-${round}`]);
const PAGE = 'query Page($id: ID!, $first: Int) { backups(instanceId: $id, first: $first) { totalCount } }';

interface Target { expr: string; panel: string }

/** Every target expression of the dashboard's panels (rows' nested panels too), as Grafana would send it with "All" replicas selected. */
function dashboardExpressions(): Target[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const panels = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
  const substitute = (expr: string): string => expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}|\$__range|\$\{__range\}/g, '1m')
    .replace(/\$instance|\$\{instance(:regex)?\}/g, '.*');
  return panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => ({ expr: substitute(t.expr), panel: p.title })));
}

describe('deploy/: the dashboard and the alert rules on a real Prometheus', () => {
  let stack: Stack;
  let prometheus: PrometheusServer;
  let offset = 0; // the gateway's cache and budget clock runs `offset` ahead of the real one
  const subscriptions: Client[] = [];
  const liveErrors: string[] = [];
  let instances: string[];

  beforeAll(async () => {
    // As in deploy/compose.yaml, the gateway signs with the service AK/SK; the callers with a token of their own are the other identity class.
    stack = await startStack({
      simulator: { auth: { keys: [SERVICE_KEY], tokens: TOKENS } },
      env: {
        HUAWEICLOUD_SDK_AK: SERVICE_KEY.ak, HUAWEICLOUD_SDK_SK: SERVICE_KEY.sk, LOG_LEVEL: 'warn',
        UPSTREAM_CACHE_TTL_MS: String(TTL_MS), UPSTREAM_CACHE_STALE_MS: String(TTL_MS), UPSTREAM_BUDGET_PER_MINUTE: String(BUDGET), UPSTREAM_TIMEOUT_MS: '1000', LIVE_POLL_INTERVAL_MS: '1000',
      },
      now: () => Date.now() + offset,
    });
    instances = stack.sim.store.list().map((i) => i.id);
    const target = new URL(stack.gateway.url).host;
    prometheus = await startPrometheus([
      // A scrape may take over a second while other test files load both cores.
      'global: { scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s }',
      `rule_files: [${JSON.stringify(ALERTS)}]`,
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
    ].join('\n'));
  });

  afterAll(async () => {
    for (const client of subscriptions) await client.dispose();
    await prometheus?.stop();
    await stack?.close();
  });

  /**
   * Fails with what it waited for when `wait` has not settled in 20 s: a guard against a hang,
   * so the test says where it stuck (jest's own timeout would only say that it did).
   */
  const named = async (what: string | (() => string), wait: Promise<void>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still waiting for ${typeof what === 'function' ? what() : what} after 20 s`)), 20_000); });
    try {
      await Promise.race([wait, stuck]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** The gateway's own sample of a metric (what the next scrape will see). */
  const sample = (name: string, labels?: string): Promise<number> => metric(stack.gateway.url, name, labels);

  /** Starts a graphql-ws subscription as `token`'s caller and leaves it open. */
  const subscribe = (token: string, instanceId: string): void => {
    const client = liveClient(originOf(stack.gateway.url), { connectionParams: { 'X-Auth-Token': token } });
    subscriptions.push(client);
    const failed = (error: unknown): void => { liveErrors.push(`${token}: ${JSON.stringify(error)}`); };
    client.subscribe({ query: WATCH, variables: { id: instanceId } }, { next: (r) => { if (r.errors) failed(r.errors); }, error: failed, complete: () => undefined });
  };
  /** Resolves once `check` holds; throws at once when a subscription has failed, rather than waiting for the test's timeout. */
  const whenLive = (what: string, check: () => Promise<boolean>): Promise<void> => named(what, until(async () => {
    if (liveErrors.length) throw new Error(`a subscription failed: ${liveErrors.join('; ')}`);
    return check();
  }));

  /** One round of traffic, on instances and callers of its own (the gateway reads pages of 100 rows, so `first` alone would not make a page new). */
  async function traffic(round: number): Promise<void> {
    const [a, b, c] = instances.slice(3 * (round - 1)) as [string, string, string];
    // Cache: a miss, a hit, then (the clock past the TTL) a stale answer refreshed behind it.
    await stack.gql(PAGE, { id: a, first: 10 });
    await stack.gql(PAGE, { id: a, first: 10 });
    offset += TTL_MS + 1; // also a new budget minute for every identity
    await stack.gql(PAGE, { id: a, first: 10 });
    // Coalesced: two identical requests while the first one's call is slow.
    await stack.setFaults([{ kind: 'latency', latencyMs: 150, instanceId: b }]);
    await Promise.all([stack.gql(PAGE, { id: b, first: 10 }), stack.gql(PAGE, { id: b, first: 10 })]);
    // Upstream failures and retries: 5xx spends the retries; a timeout and a reset, each retried once.
    await stack.setFaults([{ kind: 'error', status: 503, instanceId: c }]);
    await stack.gql(PAGE, { id: c, first: 10 });
    await stack.setFaults([{ kind: 'hang', times: 1, instanceId: c }, { kind: 'reset', times: 1, instanceId: b }]);
    await stack.gql(PAGE, { id: c, first: 10 });
    await stack.gql(PAGE, { id: b, first: 150 }); // its first page is cached: the reset hits the second
    await stack.setFaults([]);
    // A caller with a token of its own watches an instance: its first poll is sent at once.
    const okPolls = await sample('live_polls_total', 'outcome="ok"');
    subscribe(`watcher-${round}`, a);
    await whenLive(`watcher-${round}'s first poll`, async () => (await sample('live_polls_total', 'outcome="ok"')) > okPolls);
    // Another token spends its budget on distinct pages until the gateway refuses, then subscribes: that poll is skipped.
    const spender = { 'X-Auth-Token': `spender-${round}` };
    const refusals = await sample('upstream_budget_refusals_total', 'identity_class="token"');
    for (let n = 1; (await sample('upstream_budget_refusals_total', 'identity_class="token"')) === refusals; n++) {
      if (n > BUDGET + 1) throw new Error('no budget refusal after more calls than the budget');
      await stack.gql(PAGE, { id: instances[n % instances.length], first: 200 + n }, spender);
    }
    const skipped = await sample('live_polls_skipped_total');
    subscribe(`spender-${round}`, b);
    await whenLive(`spender-${round}'s skipped poll`, async () => (await sample('live_polls_skipped_total')) > skipped);
  }

  /** Resolves once `check` holds, asking Prometheus ten times a second (a tighter loop would starve it of the CPU). */
  const eventually = (what: string | (() => string), check: () => Promise<boolean>): Promise<void> => named(what, (async () => {
    while (!(await check())) await new Promise((r) => setTimeout(r, 100));
  })());

  /** Resolves once Prometheus has scraped the gateway after `since` (seconds) and holds two samples of every series. */
  async function scrapedAfter(since: number): Promise<void> {
    let seen = 'nothing yet';
    await eventually(() => `a scrape after ${new Date(since * 1000).toISOString()}, and two samples of every series (last seen: ${seen})`, async () => {
      const { activeTargets } = await prometheus.api('/api/v1/targets?state=active');
      const t = activeTargets[0];
      seen = `target ${t?.health} (${t?.lastError || 'no error'}), last scrape ${t?.lastScrape} in ${t?.lastScrapeDuration}s`;
      if (t?.health !== 'up' || Date.parse(t.lastScrape) / 1000 <= since) return false;
      // A range selector keeps each series' name (count_over_time would drop it, and clash).
      const { result } = await prometheus.api(`/api/v1/query?query=${encodeURIComponent(`{job="${JOB}"}[1m]`)}`);
      // prom-client's nodejs_active_* series exist only while a handle of their type does (a TCP
      // connect in flight): under load they come and go between scrapes, and no panel reads them.
      const short = result.filter((series: { metric: Record<string, string>; values: unknown[] }) => series.values.length < 2 && !series.metric.__name__?.startsWith('nodejs_active_'));
      seen += `; series with one sample: ${short.slice(0, 5).map((x: { metric: Record<string, string> }) => JSON.stringify(x.metric)).join(' ')}`;
      return short.length === 0;
    });
  }

  const query = (expr: string): Promise<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }> =>
    prometheus.api(`/api/v1/query?query=${encodeURIComponent(expr)}`);

  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', ALERTS)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('evaluates every expression of the dashboard to data, and of the rules without error', async () => {
    // Two rounds with a scrape between them: every counter then moves between two samples, so rates are not all zero.
    await scrapedAfter(Date.now() / 1000);
    await traffic(1);
    await scrapedAfter(Date.now() / 1000);
    await traffic(2);
    await scrapedAfter(Date.now() / 1000);

    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    const answers = await Promise.all(expressions.map(async ({ expr, panel }) => {
      try {
        const { result } = await query(expr);
        const values = result.map((r) => Number(r.value[1]));
        return { panel, expr, series: result.length, withValue: values.filter((v) => !Number.isNaN(v)).length };
      } catch (error) {
        return { panel, expr, error: (error as Error).message };
      }
    }));
    // Each expression valid, and each with at least one series that has a number (not only NaN).
    expect(answers.filter((a) => a.error !== undefined || !a.withValue)).toEqual([]);
    // And the traffic did what it says: every cache outcome and every kind of failure moved in the window.
    const moved = async (expr: string, label: string): Promise<string[]> =>
      (await query(expr)).result.filter((r) => Number(r.value[1]) > 0).map((r) => r.metric[label]!).sort();
    expect(await moved('sum by (outcome) (rate(upstream_cache_lookups_total[1m]))', 'outcome')).toEqual(['coalesced', 'hit', 'miss', 'stale']);
    expect(await moved('sum by (status) (rate(upstream_calls_total[1m]))', 'status')).toEqual(['200', '503', 'network', 'timeout']);

    const groups = (await prometheus.api('/api/v1/rules')).groups;
    const rules = groups.flatMap((g: any) => g.rules);
    const found = Number(/SUCCESS: (\d+) rules found/.exec(promtool('check', 'rules', ALERTS))![1]);
    expect(rules).toHaveLength(found);
    const failures = (await Promise.all(rules.map((r: any) => query(r.query).then(() => undefined, (e: Error) => `${r.name}: ${e.message}`)))).filter(Boolean);
    expect(failures).toEqual([]);
  }, 60_000);

  it('has the rules loaded, each evaluated with health ok', async () => {
    await eventually('every rule evaluated', async () => {
      const rules = (await prometheus.api('/api/v1/rules')).groups.flatMap((g: any) => g.rules);
      return rules.length > 0 && rules.every((r: any) => r.health !== 'unknown');
    });
    const rules = (await prometheus.api('/api/v1/rules')).groups.flatMap((g: any) => g.rules);
    expect(rules.map((r: any) => ({ name: r.name, type: r.type, health: r.health, lastError: r.lastError ?? '' }))).toEqual(
      rules.map((r: any) => ({ name: r.name, type: 'alerting', health: 'ok', lastError: '' })),
    );
    expect(rules.map((r: any) => r.labels.severity).every((s: string) => ['warning', 'critical'].includes(s))).toBe(true);
    expect(rules.every((r: any) => r.duration > 0 && r.annotations.summary && r.annotations.description && r.annotations.runbook)).toBe(true);
  });

  it('lists the replicas for the dashboard\'s instance variable', async () => {
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
    const variable = dashboard.templating.list.find((v: any) => v.name === 'instance');
    const [, metricName, label] = /^label_values\((\w+), (\w+)\)$/.exec(variable.definition)!;
    const values = await prometheus.api(`/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': metricName! })}`);
    expect(values).toEqual([new URL(stack.gateway.url).host]);
  });
});
