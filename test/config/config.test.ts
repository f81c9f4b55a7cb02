import { ConfigError, loadConfig } from '../../src/config';
import { RDS_REGIONS } from '../../src/upstream/regions';

describe('loadConfig()', () => {
  it('has the documented defaults, and no upstream means the embedded simulator', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000, host: '127.0.0.1', production: false, graphiql: true, logLevel: 'info', redisUrl: null, subgraphSecret: null,
      upstream: { endpoint: null, timeoutMs: 10_000, retries: 2, fanout: 4, budgetPerMinute: 60, maxCallsPerOperation: 20 },
      limits: { maxPageSize: 500, maxDepth: 10, maxAliases: 30, maxBodyBytes: 1_048_576, maxSubscriptionsPerConnection: 20 },
      defaultProjectId: null, credentials: null,
      live: { pollIntervalMs: 10_000, maxWatches: 1000 },
    });
    expect(c.upstream.cacheTtlMs).toBeGreaterThan(0);
  });

  it('reads the live poll interval and the live watch cap', () => {
    expect(loadConfig({ LIVE_POLL_INTERVAL_MS: '2500', MAX_LIVE_WATCHES: '20' }).live).toEqual({ pollIntervalMs: 2500, maxWatches: 20 });
  });

  it('turns GraphiQL off in production unless GRAPHIQL=true', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', GRAPHIQL: 'true' }).graphiql).toBe(true);
  });

  it('resolves RDS_REGION to the regional endpoint, with the eu-west-101 exception, and lets RDS_ENDPOINT win', () => {
    expect(loadConfig({ RDS_REGION: 'ap-southeast-1' }).upstream.endpoint).toBe('https://rds.ap-southeast-1.myhuaweicloud.com');
    expect(loadConfig({ RDS_REGION: 'eu-west-101' }).upstream.endpoint).toBe('https://rds.eu-west-101.myhuaweicloud.eu');
    expect(loadConfig({ RDS_REGION: 'ap-southeast-1', RDS_ENDPOINT: 'http://127.0.0.1:9000/' }).upstream.endpoint).toBe('http://127.0.0.1:9000');
  });

  it.each([
    ['PORT', 'abc'], ['PORT', '70000'], ['UPSTREAM_FANOUT', '0'], ['UPSTREAM_TIMEOUT_MS', '-5'], ['UPSTREAM_RETRIES', '1.5'],
    ['MAX_PAGE_SIZE', 'lots'], ['MAX_BODY_BYTES', '10'], ['UPSTREAM_CACHE_TTL_MS', 'x'], ['UPSTREAM_BUDGET_PER_MINUTE', '0'],
    ['MAX_UPSTREAM_CALLS_PER_OPERATION', ''.padEnd(3, '9') + 'x'], ['MAX_DEPTH', '0'], ['MAX_ALIASES', '-1'],
    ['MAX_SUBSCRIPTIONS_PER_CONNECTION', '0'], ['MAX_SUBSCRIPTIONS_PER_CONNECTION', 'many'],
    ['RDS_ENDPOINT', 'not a url'], ['RDS_ENDPOINT', 'ftp://x'], ['RDS_ENDPOINT', 'http://user:pw@host'], ['RDS_REGION', 'Mars 1'],
    ['HUAWEICLOUD_SDK_PROJECT_ID', 'a/b'], ['GRAPHIQL', 'maybe'], ['LOG_LEVEL', 'loud'], ['HUAWEICLOUD_SDK_AK', 'only-ak'],
    ['HUAWEICLOUD_SDK_SK', 'only-sk'], ['HUAWEICLOUD_SDK_SECURITY_TOKEN', 'only-token'],
    ['LIVE_POLL_INTERVAL_MS', '50'], ['LIVE_POLL_INTERVAL_MS', 'often'], ['MAX_LIVE_WATCHES', '0'], ['MAX_LIVE_WATCHES', '1e3'],
    ['TRUSTED_DOCUMENTS_MODE', 'strict'], ['TRUSTED_DOCUMENTS_MODE', 'REQUIRE'],
  ])('stops on a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('reads TRUSTED_DOCUMENTS (allow by default) and TRUSTED_DOCUMENTS_MODE; the file itself is read when the gateway starts', () => {
    expect(loadConfig({}).trustedDocuments).toBeNull();
    expect(loadConfig({ TRUSTED_DOCUMENTS: '/nonexistent/manifest.json' }).trustedDocuments).toEqual({ file: '/nonexistent/manifest.json', mode: 'allow' });
    expect(loadConfig({ TRUSTED_DOCUMENTS: 'm.json', TRUSTED_DOCUMENTS_MODE: 'require' }).trustedDocuments).toEqual({ file: 'm.json', mode: 'require' });
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'm.json', TRUSTED_DOCUMENTS_MODE: 'strict' })).toThrow('TRUSTED_DOCUMENTS_MODE must be allow or require, got "strict"');
    expect(() => loadConfig({ TRUSTED_DOCUMENTS_MODE: 'require' })).toThrow(new ConfigError('TRUSTED_DOCUMENTS_MODE needs TRUSTED_DOCUMENTS (the path of the manifest of trusted documents)'));
  });

  it('allows loopback origins outside production and none in production unless CORS_ORIGINS says', () => {
    expect(loadConfig({}).cors).toEqual({ kind: 'loopback' });
    expect(loadConfig({ NODE_ENV: 'production' }).cors).toEqual({ kind: 'list', origins: [] });
    expect(loadConfig({ NODE_ENV: 'production', CORS_ORIGINS: ' * ' }).cors).toEqual({ kind: 'any' });
    // As browsers send them: lower-case host, no default port; repeats and a trailing comma are harmless.
    expect(loadConfig({ CORS_ORIGINS: 'https://Console.Example.com:443, http://localhost:5173,http://localhost:5173,' }).cors)
      .toEqual({ kind: 'list', origins: ['https://console.example.com', 'http://localhost:5173'] });
    expect(loadConfig({ CORS_ORIGINS: 'http://[::1]:3000' }).cors).toEqual({ kind: 'list', origins: ['http://[::1]:3000'] });
  });

  it.each(['console.example.com', 'https://console.example.com/', 'https://console.example.com/app', 'https://x.com?a=1', 'ftp://x.com',
    'https://user@x.com', '*, https://x.com', 'null', 'https://x.com:99999', 'https://exa mple.com'])('stops on CORS_ORIGINS=%j, naming it and the entry', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/^CORS_ORIGINS must be \* or a comma-separated list of origins \(scheme:\/\/host\[:port\]\); "/);
  });

  it('reads service credentials, with a security token for temporary ones', () => {
    expect(loadConfig({ HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK: 'sk' }).credentials).toEqual({ ak: 'AK1', sk: 'sk' });
    expect(loadConfig({ HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK: 'sk', HUAWEICLOUD_SDK_SECURITY_TOKEN: 'st' }).credentials).toEqual({ ak: 'AK1', sk: 'sk', securityToken: 'st' });
  });

  it('knows the 34 RDS regions and names them when the region is unknown', () => {
    expect(RDS_REGIONS).toHaveLength(34);
    for (const region of RDS_REGIONS) expect(loadConfig({ RDS_REGION: region }).upstream.endpoint).toMatch(/^https:\/\/rds\.[a-z0-9-]+\.myhuaweicloud\.(com|eu)$/);
    expect(() => loadConfig({ RDS_REGION: 'eu-west-9' })).toThrow(/RDS_REGION "eu-west-9" is not an RDS region; known: af-north-1, .*tr-west-1/);
  });

  it('never puts a secret in its message', () => {
    for (const env of [{ HUAWEICLOUD_SDK_AK: 'AK-VALUE!', HUAWEICLOUD_SDK_SK: 'SKVALUE' }, { HUAWEICLOUD_SDK_SK: 'SKVALUE' }, { HUAWEICLOUD_SDK_AK: 'AKVALUE' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try { loadConfig(env); } catch (error) { expect(String(error)).not.toMatch(/AK-?VALUE|SKVALUE/); }
    }
  });
});

describe('documentation of the configuration', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const root = path.join(__dirname, '..', '..');
  // The gateway's variables and the embedded simulator's: both are documented for `npm start`.
  const source = ['config.ts', 'simulator/config.ts'].map((file) => fs.readFileSync(path.join(root, 'src', file), 'utf8')).join('\n');
  const names = [...new Set([...source.matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!))];

  it('finds the variables config.ts and simulator/config.ts read (so the checks below are not vacuous)', () => {
    expect(names).toEqual(expect.arrayContaining(['PORT', 'HOST', 'RDS_ENDPOINT', 'RDS_REGION', 'REDIS_URL', 'SUBGRAPH_SECRET', 'MAX_UPSTREAM_CALLS_PER_OPERATION', 'SIMULATOR_PORT', 'SIMULATOR_FAULTS']));
  });

  it.each(['.env.example', 'README.md'])('lists every variable in %s', (file) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    expect(names.filter((n) => !text.includes(n))).toEqual([]);
  });
});
