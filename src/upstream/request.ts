/**
 * Building a list-backups request: where it goes (the endpoint's origin and path prefix), its
 * path and query (url.ts), its headers for the call's credentials and language, and, for AK/SK,
 * a fresh signature for every attempt (signer.ts).
 */
import type { UpstreamAuth } from './client';
import { signRequest } from './signer';
import { listBackupsParts, toPathAndQuery, type ListBackupsParams } from './url';

/** Where requests go, from the endpoint URL. */
export interface UpstreamTarget {
  origin: string;
  /** `host` as it is signed. */
  host: string;
  /** The endpoint's path without its trailing `/`s, '' when none: every request path starts with it. */
  pathPrefix: string;
  /** The same prefix as decoded segments, for the signature. */
  prefixSegments: string[];
  /** The host name (no brackets around an IPv6 address) and port calls go to: for spans and NO_PROXY. */
  server: { name: string; port: number };
}

/** A URL's host name, lower case, without brackets or a final dot, and its port (the scheme's default when none is written). */
export function serverOf(url: URL): { name: string; port: number } {
  const name = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  return { name, port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port) };
}

export function toUpstreamTarget(endpoint: string): UpstreamTarget {
  const base = new URL(endpoint);
  return {
    origin: base.origin,
    host: base.host,
    // An endpoint may carry a path prefix (a proxy in front of RDS); it is part of what is signed.
    prefixSegments: base.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s)),
    pathPrefix: base.pathname.replace(/\/+$/, ''),
    server: serverOf(base),
  };
}

export interface ListBackupsRequest {
  /** Path and query, the endpoint's prefix included. */
  path: string;
  /** The headers of one attempt. */
  headers(): Record<string, string>;
}

export function createListBackupsRequest(
  target: UpstreamTarget, params: ListBackupsParams, auth: UpstreamAuth, language: string | undefined, now: () => Date,
): ListBackupsRequest {
  const parts = listBackupsParts(params);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (language) headers['X-Language'] = language;
  if (auth.kind === 'token') headers['X-Auth-Token'] = auth.token;
  if (auth.kind === 'aksk') {
    headers['X-Project-Id'] = params.projectId;
    if (auth.securityToken) headers['X-Security-Token'] = auth.securityToken;
  }
  return {
    path: target.pathPrefix + toPathAndQuery(parts),
    /** Each attempt is signed afresh: a retry must not carry an old X-Sdk-Date. */
    headers: () => {
      if (auth.kind !== 'aksk') return headers;
      const signed = signRequest({ method: 'GET', pathSegments: [...target.prefixSegments, ...parts.pathSegments], query: parts.query, headers: { ...headers, host: target.host } }, auth, now());
      return { ...headers, ...signed };
    },
  };
}
