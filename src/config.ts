/**
 * The gateway's configuration from the environment. Every variable is validated here; a bad value
 * throws a `ConfigError` whose message names the variable, and start-up prints it as one line.
 * The embedded simulator's SIMULATOR_* variables are read by simulator/config.ts.
 */
import { bool, ConfigError, int, str, type Env } from './env';
import { isId } from './ids';
import { parseNoProxy, redactProxyUrl, type NoProxy, type ProxySettings, type ProxyVariable } from './upstream/proxy';
import { RDS_REGIONS, rdsEndpoint } from './upstream/regions';

export { ConfigError } from './env';

export interface UpstreamConfig {
  /** Base URL of the RDS API; null means "start the embedded simulator". */
  endpoint: string | null;
  timeoutMs: number;
  retries: number;
  /** Upstream calls in flight at once, per operation. */
  fanout: number;
  cacheTtlMs: number;
  /** How long past its TTL a cached page may still be served while it is refreshed. */
  cacheStaleMs: number;
  budgetPerMinute: number;
  maxCallsPerOperation: number;
  /** HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case); upstream/proxy.ts applies them to the endpoint. */
  proxy: ProxySettings;
}

export interface ServiceCredentials {
  ak: string;
  sk: string;
  securityToken?: string;
}

/**
 * OpenTelemetry tracing (observability/tracing.ts), on when an OTLP endpoint is set. What decides
 * is read here; the SDK reads the rest of the standard variables itself (OTEL_TRACES_SAMPLER(_ARG),
 * OTEL_BSP_*, OTEL_EXPORTER_OTLP_(TRACES_)HEADERS/TIMEOUT, OTEL_RESOURCE_ATTRIBUTES), which are
 * checked here so that a bad value stops start-up rather than being replaced by a default.
 */
export interface TracingConfig {
  /**
   * Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
   * OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces` appended (the OTLP exporter's own rule, made
   * explicit so that the exporter never falls back to its default on a URL it cannot parse).
   */
  url: string;
  /** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL; gRPC is not supported. */
  protocol: 'http/protobuf' | 'http/json';
  /** OTEL_SERVICE_NAME. @default rds-backup-graph */
  serviceName: string;
}

export interface Config {
  port: number;
  host: string;
  production: boolean;
  upstream: UpstreamConfig;
  /** Project used when a request names none (`X-Project-Id`). */
  defaultProjectId: string | null;
  credentials: ServiceCredentials | null;
  limits: {
    maxPageSize: number;
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxBodyBytes: number;
    /** A GraphQL document (the `query` text) larger than this is refused before it is parsed. */
    maxDocumentBytes: number;
    /** An operation's upstream calls may not go on past this (ms from its start). */
    operationDeadlineMs: number;
    /** Subscriptions one graphql-ws connection may run at once; more are refused. */
    maxSubscriptionsPerConnection: number;
  };
  /** Live changes (subscriptions, live/polls.ts). */
  live: {
    /** How often the one poll of a live key runs, at least (it stretches to half the identity's budget). */
    pollIntervalMs: number;
    /** Distinct live keys this replica polls at once; a new one past it is refused. */
    maxWatches: number;
  };
  redisUrl: string | null;
  /** A Redis command slower than this is given up, and that one is served from memory. */
  redisCommandTimeoutMs: number;
  subgraphSecret: string | null;
  graphiql: boolean;
  /** Repeats of operations Apollo has validated skip its request pipeline (graphql/fast-path.ts). */
  fastPath: boolean;
  /** Browser origins allowed to call `/graphql` (http/cors.ts). */
  cors: CorsOrigins;
  /**
   * TRUSTED_DOCUMENTS and TRUSTED_DOCUMENTS_MODE: the manifest of operations the gateway runs by
   * id, read and checked at start-up (graphql/trusted-documents/), and whether it runs only those
   * (`require`) or others too (`allow`); null without a manifest.
   */
  trustedDocuments: TrustedDocumentsConfig | null;
  logLevel: string;
  /** How long SIGTERM waits for requests in flight before cutting them. */
  shutdownTimeoutMs: number;
  /** Null when tracing is off (no OTLP endpoint, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none). */
  tracing: TracingConfig | null;
  /** What the HTTP server allows a client (server.ts). */
  connections: {
    /** A request's headers must have arrived this long after its connection began waiting for them, else 408. */
    headersTimeoutMs: number;
    /** A whole request (headers and body) must have arrived in this long, else 408. */
    requestTimeoutMs: number;
    /** Connections open at once; more are closed as they come. */
    maxConnections: number;
  };
}

export type TrustedDocumentsMode = 'allow' | 'require';

export interface TrustedDocumentsConfig {
  /** The manifest's path, as given. */
  file: string;
  mode: TrustedDocumentsMode;
}

/**
 * Which browser origins may call the gateway (CORS_ORIGINS): `any` (`*`), `loopback` (every
 * `http(s)://localhost`, `127.x.x.x` or `[::1]` origin on any port: the default outside
 * production), or a list of exact origins as browsers send them (lower-case scheme and host, no
 * default port), empty by default in production.
 */
export type CorsOrigins = { kind: 'any' } | { kind: 'loopback' } | { kind: 'list'; origins: readonly string[] };

/** One entry of CORS_ORIGINS, normalised as a browser serialises its Origin header. */
function toOrigin(entry: string): string {
  const refuse = (why: string): never => {
    throw new ConfigError(`CORS_ORIGINS must be * or a comma-separated list of origins (scheme://host[:port]); ${JSON.stringify(entry.slice(0, 80))} ${why}`);
  };
  if (entry === '*') refuse('cannot be combined with other origins: * alone allows every origin');
  if (entry.toLowerCase() === 'null') refuse('is the origin of sandboxed and file: pages, which any page can make: not allowed');
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(entry)) refuse('is not one (an http or https origin, with no path, query or credentials; no trailing /)');
  let url: URL;
  try { url = new URL(entry); } catch { return refuse('is not one (its host or port does not parse)'); }
  return url.origin;
}

function corsOrigins(env: Env, production: boolean): CorsOrigins {
  const raw = str(env, 'CORS_ORIGINS');
  if (raw === null) return production ? { kind: 'list', origins: [] } : { kind: 'loopback' };
  if (raw === '*') return { kind: 'any' };
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return { kind: 'list', origins: [...new Set(entries.map(toOrigin))] };
}

/** Node refuses a headers timeout longer than the request timeout: said here, naming the variable. */
function connectionLimits(env: Env): Config['connections'] {
  const headersTimeoutMs = int(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = int(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be longer than REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  return { headersTimeoutMs, requestTimeoutMs, maxConnections: int(env, 'MAX_CONNECTIONS', 1024, 1, 1_000_000) };
}

/** The manifest is read (and each document checked) when the gateway starts, not here: this checks the variables alone. */
function trustedDocuments(env: Env): TrustedDocumentsConfig | null {
  const file = str(env, 'TRUSTED_DOCUMENTS');
  const mode = str(env, 'TRUSTED_DOCUMENTS_MODE');
  if (mode !== null && mode !== 'allow' && mode !== 'require') throw new ConfigError(`TRUSTED_DOCUMENTS_MODE must be allow or require, got ${JSON.stringify(mode.slice(0, 40))}`);
  if (file === null) {
    if (mode !== null) throw new ConfigError('TRUSTED_DOCUMENTS_MODE needs TRUSTED_DOCUMENTS (the path of the manifest of trusted documents)');
    return null;
  }
  return { file, mode: mode ?? 'allow' };
}

function endpoint(env: Env): string | null {
  const raw = str(env, 'RDS_ENDPOINT');
  if (raw !== null) {
    let url: URL;
    try { url = new URL(raw); } catch { throw new ConfigError(`RDS_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`RDS_ENDPOINT must be an http(s) URL, got ${JSON.stringify(raw)}`);
    if (url.search || url.hash || url.username || url.password) throw new ConfigError('RDS_ENDPOINT must be a base URL without query, fragment or credentials');
    return url.origin + url.pathname.replace(/\/+$/, '');
  }
  const region = str(env, 'RDS_REGION');
  if (region === null) return null;
  const resolved = rdsEndpoint(region);
  if (resolved === undefined) throw new ConfigError(`RDS_REGION ${JSON.stringify(region.slice(0, 40))} is not an RDS region; known: ${RDS_REGIONS.join(', ')}`);
  return resolved;
}

/** The variable of a pair that is set, the lower-case one first (as curl and undici read them); blank counts as unset. */
function pick(env: Env, lower: string, upper: string): { variable: string; value: string } | null {
  for (const variable of [lower, upper]) {
    const value = str(env, variable);
    if (value !== null) return { variable, value };
  }
  return null;
}

/** curl's default port for a proxy URL that names none (1080, or 443 for an https proxy). */
const CURL_PROXY_PORT = '1080';

/**
 * A proxy URL as curl takes it: `[scheme://][user[:password]@]host[:port]`, `http://` when no
 * scheme is given, port 1080 when none is (443 for `https://`). The credentials become a Basic
 * Proxy-Authorization; no message here ever shows them.
 */
function proxyVariable(env: Env, lower: string, upper: string): ProxyVariable | null {
  const set = pick(env, lower, upper);
  if (set === null) return null;
  const { variable, value } = set;
  const refuse = (why: string): never => {
    throw new ConfigError(`${variable} must be a proxy URL, http://[user:password@]host[:port] (or https://); ${JSON.stringify(redactProxyUrl(value).slice(0, 120))} ${why}`);
  };
  let url: URL;
  try { url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`); } catch { return refuse('does not parse'); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`has the scheme ${url.protocol.slice(0, -1)}`);
  if (url.hostname === '') refuse('has no host');
  if (url.pathname !== '/' || url.search || url.hash) refuse('has a path, query or fragment');
  // The URL parser drops a default port (`:80`), so a port written out is seen in the text.
  if (url.port === '' && url.protocol === 'http:' && !/:\d+\/?$/.test(value)) url.port = CURL_PROXY_PORT;
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    let user: string;
    let password: string;
    try { [user, password] = [decodeURIComponent(url.username), decodeURIComponent(url.password)]; } catch { return refuse('has a user or password that is not valid percent-encoding'); }
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const origin = url.origin;
  const shown = authorization === undefined ? origin : origin.replace('://', '://***@');
  return authorization === undefined ? { variable, origin, shown } : { variable, origin, shown, authorization };
}

function noProxy(env: Env): NoProxy | null {
  const set = pick(env, 'no_proxy', 'NO_PROXY');
  if (set === null) return null;
  try {
    return { variable: set.variable, entries: parseNoProxy(set.value) };
  } catch (error) {
    throw new ConfigError(`${set.variable} must be a list of host names, addresses and address/bits ranges, each with an optional :port: ${(error as Error).message}`);
  }
}

function proxySettings(env: Env): ProxySettings {
  return { http: proxyVariable(env, 'http_proxy', 'HTTP_PROXY'), https: proxyVariable(env, 'https_proxy', 'HTTPS_PROXY'), noProxy: noProxy(env) };
}

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

function otlpUrl(env: Env, name: string): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let url: URL;
  try { url = new URL(raw); } catch { throw new ConfigError(`${name} must be an http(s) URL`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL (OTLP over HTTP; gRPC is not supported)`);
  return raw;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A list of `key=value` pairs, comma-separated, values percent-encoded (the W3C Baggage format of
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES), checked: the SDK takes a bad one and
 * every export then fails (a header value with a control character, a name with a space), or
 * drops it. The message never shows a value (a header may hold a collector's API key).
 */
function checkKeyValueList(env: Env, name: string, keysAreHeaders: boolean): void {
  const raw = str(env, name);
  if (raw === null) return;
  raw.split(',').forEach((item, i) => {
    if (item.trim() === '') return;
    const at = item.indexOf('=');
    const key = at < 0 ? '' : item.slice(0, at).trim();
    let value: string | undefined;
    try { value = at < 0 ? undefined : decodeURIComponent(item.slice(at + 1).trim()); } catch { value = undefined; }
    if (key === '' || value === undefined || (keysAreHeaders && (!HEADER_NAME.test(key) || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)))) {
      throw new ConfigError(`${name} must be key=value pairs separated by commas, values percent-encoded${keysAreHeaders ? ', keys header names' : ''}: pair ${i + 1} is not`);
    }
  });
}

/** The variables the OpenTelemetry SDK reads itself, checked: it would replace a bad one with its default. */
function checkSdkVariables(env: Env): void {
  checkKeyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS', true);
  checkKeyValueList(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', true);
  checkKeyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES', false);
  const sampler = str(env, 'OTEL_TRACES_SAMPLER');
  if (sampler !== null && !SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(sampler.slice(0, 40))}`);
  const ratio = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratio !== null && !(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(ratio))) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got ${JSON.stringify(ratio.slice(0, 40))}`);
  for (const name of ['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT']) {
    int(env, name, 0, name.includes('SIZE') || name.includes('TIMEOUT') ? 1 : 0, 3_600_000);
  }
}

/**
 * Tracing's configuration, or null when it is off: no OTLP endpoint, OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none. Only OTLP over HTTP is built in: a gRPC protocol stops start-up.
 */
function tracingConfig(env: Env): TracingConfig | null {
  const exporter = str(env, 'OTEL_TRACES_EXPORTER');
  if (exporter !== null && exporter !== 'otlp' && exporter !== 'none') throw new ConfigError(`OTEL_TRACES_EXPORTER must be otlp or none, got ${JSON.stringify(exporter.slice(0, 40))}`);
  const own = otlpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = otlpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (bool(env, 'OTEL_SDK_DISABLED', false) || exporter === 'none' || (own === null && base === null)) return null;
  const protocolVariable = str(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== null ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = str(env, protocolVariable) ?? 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError(`${protocolVariable} must be http/protobuf or http/json, got ${JSON.stringify(protocol.slice(0, 40))}${protocol === 'grpc' ? ': grpc is not supported' : ''}`);
  }
  checkSdkVariables(env);
  return {
    url: own ?? `${base!}${base!.endsWith('/') ? '' : '/'}v1/traces`,
    protocol: protocol as TracingConfig['protocol'],
    serviceName: str(env, 'OTEL_SERVICE_NAME') ?? 'rds-backup-graph',
  };
}

function credentials(env: Env): ServiceCredentials | null {
  const ak = str(env, 'HUAWEICLOUD_SDK_AK');
  const sk = str(env, 'HUAWEICLOUD_SDK_SK');
  if (ak === null && sk === null) {
    if (str(env, 'HUAWEICLOUD_SDK_SECURITY_TOKEN') !== null) throw new ConfigError('HUAWEICLOUD_SDK_SECURITY_TOKEN needs HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK');
    return null;
  }
  if (ak === null) throw new ConfigError('HUAWEICLOUD_SDK_AK must be set together with HUAWEICLOUD_SDK_SK');
  if (sk === null) throw new ConfigError('HUAWEICLOUD_SDK_SK must be set together with HUAWEICLOUD_SDK_AK');
  if (!/^[A-Za-z0-9]{1,128}$/.test(ak)) throw new ConfigError('HUAWEICLOUD_SDK_AK must be letters and digits (an access key id)');
  const securityToken = str(env, 'HUAWEICLOUD_SDK_SECURITY_TOKEN');
  return securityToken === null ? { ak, sk } : { ak, sk, securityToken };
}

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const projectId = str(env, 'HUAWEICLOUD_SDK_PROJECT_ID');
  if (projectId !== null && !isId(projectId)) throw new ConfigError('HUAWEICLOUD_SDK_PROJECT_ID must be 1 to 64 letters, digits, - or _');
  const logLevel = str(env, 'LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`);
  }
  const cacheTtlMs = int(env, 'UPSTREAM_CACHE_TTL_MS', 5_000, 0, 3_600_000);
  return {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: str(env, 'HOST') ?? '127.0.0.1',
    production,
    upstream: {
      endpoint: endpoint(env),
      timeoutMs: int(env, 'UPSTREAM_TIMEOUT_MS', 10_000, 1, 600_000),
      retries: int(env, 'UPSTREAM_RETRIES', 2, 0, 10),
      fanout: int(env, 'UPSTREAM_FANOUT', 4, 1, 64),
      cacheTtlMs,
      cacheStaleMs: int(env, 'UPSTREAM_CACHE_STALE_MS', cacheTtlMs, 0, 3_600_000),
      budgetPerMinute: int(env, 'UPSTREAM_BUDGET_PER_MINUTE', 60, 1, 1_000_000_000),
      maxCallsPerOperation: int(env, 'MAX_UPSTREAM_CALLS_PER_OPERATION', 20, 1, 10_000),
      proxy: proxySettings(env),
    },
    defaultProjectId: projectId,
    credentials: credentials(env),
    limits: {
      maxPageSize: int(env, 'MAX_PAGE_SIZE', 500, 1, 100_000),
      maxDepth: int(env, 'MAX_DEPTH', 10, 1, 1000),
      maxAliases: int(env, 'MAX_ALIASES', 30, 1, 10_000),
      maxTokens: int(env, 'MAX_TOKENS', 2000, 10, 1_000_000),
      maxDirectives: int(env, 'MAX_DIRECTIVES', 20, 1, 10_000),
      maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1_048_576, 1024, 1_073_741_824),
      maxDocumentBytes: int(env, 'MAX_DOCUMENT_BYTES', 65_536, 1024, 1_073_741_824),
      operationDeadlineMs: int(env, 'OPERATION_DEADLINE_MS', 25_000, 100, 600_000),
      maxSubscriptionsPerConnection: int(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 20, 1, 10_000),
    },
    live: {
      pollIntervalMs: int(env, 'LIVE_POLL_INTERVAL_MS', 10_000, 100, 3_600_000),
      maxWatches: int(env, 'MAX_LIVE_WATCHES', 1000, 1, 1_000_000),
    },
    redisUrl: str(env, 'REDIS_URL'),
    redisCommandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 250, 10, 60_000),
    subgraphSecret: str(env, 'SUBGRAPH_SECRET'),
    graphiql: bool(env, 'GRAPHIQL', !production),
    fastPath: bool(env, 'GRAPHQL_FAST_PATH', true),
    cors: corsOrigins(env, production),
    trustedDocuments: trustedDocuments(env),
    logLevel,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    tracing: tracingConfig(env),
    connections: connectionLimits(env),
  };
}
