/**
 * Which outbound proxy, if any, upstream calls go through: the proxy variables as config.ts read
 * them, applied to the one upstream origin as curl applies them. Pure: no environment, no I/O.
 *
 * The choice is made once, at start-up, because the client has one origin: a proxied client is
 * an undici ProxyAgent, any other is the plain Pool (exchange.ts). undici's EnvHttpProxyAgent
 * decides per request instead (a URL parse on every call), reads `process.env` for whatever it
 * is not given, and sends https through HTTP_PROXY when HTTPS_PROXY is unset, which curl does not.
 */
import { BlockList, isIP } from 'node:net';

import { serverOf } from './request';

/** A proxy as the upstream client needs it. */
export interface UpstreamProxy {
  /** The proxy's origin, without credentials: `http://proxy.corp:3128`. */
  origin: string;
  /** `Basic …`, from the user and password in the proxy URL: sent as Proxy-Authorization, never logged. */
  authorization?: string;
}

/** A proxy variable as read. */
export interface ProxyVariable extends UpstreamProxy {
  /** The variable it came from, as it is spelled in the environment (`https_proxy` or `HTTPS_PROXY`). */
  variable: string;
  /** For logs: the origin, with `***@` where the URL had credentials. */
  shown: string;
}

/** One NO_PROXY entry, parsed. `port`, when given, must be the upstream's too. */
export type NoProxyEntry = { text: string; port?: number } & ({ kind: 'all' } | { kind: 'name'; name: string } | { kind: 'ip'; addresses: BlockList });

export interface NoProxy {
  /** `no_proxy` or `NO_PROXY`, as spelled in the environment. */
  variable: string;
  entries: readonly NoProxyEntry[];
}

export interface ProxySettings {
  /** For an `http:` upstream: `http_proxy`, else `HTTP_PROXY`. */
  http: ProxyVariable | null;
  /** For an `https:` upstream: `https_proxy`, else `HTTPS_PROXY`. */
  https: ProxyVariable | null;
  noProxy: NoProxy | null;
}

export const NO_PROXY_SETTINGS: ProxySettings = { http: null, https: null, noProxy: null };

/** How upstream calls go: straight, straight because NO_PROXY names the upstream, or through a proxy. */
export type ProxyRoute =
  | { kind: 'direct' }
  | { kind: 'bypassed'; variable: string; entry: string }
  | { kind: 'proxied'; proxy: ProxyVariable };

/** `scheme://***@host:port` for a URL with credentials, the URL itself otherwise. Works on strings that do not parse too. */
export function redactProxyUrl(raw: string): string {
  // Up to the last `@`: a password may hold an unescaped `/` or `@`, which a URL parser would take for the end of the authority.
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_all, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;

/** An IP entry (`10.1.2.3`, `::1`, `[::1]`, `10.0.0.0/8`, `fd00::/8`) as a BlockList, or undefined when the entry is not an IP. */
function toAddresses(host: string): BlockList | undefined {
  const [address = '', bits, ...rest] = host.split('/');
  const family = isIP(address);
  if (family === 0) {
    if (bits !== undefined) throw new Error(`entry ${JSON.stringify(host)} is not an address/bits range`);
    return undefined;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const addresses = new BlockList();
  if (bits === undefined) {
    addresses.addAddress(address, type);
    return addresses;
  }
  const prefix = Number(bits);
  if (rest.length > 0 || !/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? IPV4_BITS : IPV6_BITS)) {
    throw new Error(`entry ${JSON.stringify(host)} has a bad range: ${family === 4 ? '0 to 32' : '0 to 128'} bits after the /`);
  }
  addresses.addSubnet(address, prefix, type);
  return addresses;
}

/** Splits `host:port` and `[v6]:port`; a bare IPv6 address (several colons, no brackets) has no port. */
function splitPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: Number(withPort[2]) } : { host: entry };
}

/**
 * NO_PROXY's entries, separated by commas or white space: `*` (every host), a host name that
 * matches itself and its subdomains (a leading `.` or `*.` changes nothing), an IP address or an
 * address/bits range (curl since 7.86), each with an optional `:port` (`[v6]:port` for IPv6).
 * Throws for an address range that does not parse, whose message names the entry.
 */
export function parseNoProxy(raw: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const text of raw.split(/[\s,]+/)) {
    if (text === '') continue;
    if (text === '*') {
      entries.push({ text, kind: 'all' });
      continue;
    }
    const { host, port } = splitPort(text);
    if (port !== undefined && port > 65535) throw new Error(`entry ${JSON.stringify(text)} has a port above 65535`);
    const addresses = toAddresses(host);
    const portPart = port === undefined ? {} : { port };
    if (addresses) entries.push({ text, ...portPart, kind: 'ip', addresses });
    else entries.push({ text, ...portPart, kind: 'name', name: host.replace(/^\*?\./, '').replace(/\.$/, '').toLowerCase() });
  }
  return entries;
}

/** The NO_PROXY entry that names `url`'s host (and port), if any. Names match only names, addresses only addresses, as in curl. */
export function noProxyMatch(entries: readonly NoProxyEntry[], url: URL): NoProxyEntry | undefined {
  const { name: host, port } = serverOf(url);
  const family = isIP(host);
  return entries.find((entry) => {
    if (entry.kind === 'all') return true;
    if (entry.port !== undefined && entry.port !== port) return false;
    if (entry.kind === 'ip') return family !== 0 && entry.addresses.check(host, family === 4 ? 'ipv4' : 'ipv6');
    return family === 0 && entry.name !== '' && (host === entry.name || host.endsWith(`.${entry.name}`));
  });
}

/**
 * The route of calls to `endpoint`: the proxy variable for its scheme (an https upstream never
 * uses HTTP_PROXY), unless NO_PROXY names its host.
 */
export function selectProxy(endpoint: string, settings: ProxySettings): ProxyRoute {
  const url = new URL(endpoint);
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (proxy === null) return { kind: 'direct' };
  const bypass = settings.noProxy ? noProxyMatch(settings.noProxy.entries, url) : undefined;
  if (bypass && settings.noProxy) return { kind: 'bypassed', variable: settings.noProxy.variable, entry: bypass.text };
  return { kind: 'proxied', proxy };
}
