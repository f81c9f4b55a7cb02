/**
 * The simulator's view of credentials: open, IAM tokens, and AK/SK (`SDK-HMAC-SHA256`).
 *
 * This is a verifier written from NOTES.md alone. It deliberately shares no code with the
 * gateway's signer: two independent readings of the algorithm that agree are the test.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface KeyPair {
  ak: string;
  sk: string;
  /** Temporary credentials: the request must carry and sign this `X-Security-Token`. */
  securityToken?: string;
}

export interface AuthOptions {
  /** Accepted `X-Auth-Token` values. */
  tokens?: readonly string[];
  /** Accepted AK/SK pairs. */
  keys?: readonly KeyPair[];
  /** Largest accepted distance between `X-Sdk-Date` and the simulator's clock. @default 15 minutes */
  maxSkewMs?: number;
  /** Failed AK/SK calls in a row that lock a key, and for how long. @default 5, 5 minutes */
  lockAfterFailures?: number;
  lockMs?: number;
}

export interface SignableRequest {
  method: string;
  /** The path as it came on the wire (percent-encoded). */
  rawPath: string;
  /** The query string as it came on the wire, without `?`. */
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body?: string;
}

export type AuthOutcome = { ok: true; caller: string } | { ok: false; message: string };

const ALGORITHM = 'SDK-HMAC-SHA256';
const AUTH_HEADER = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)$/;

/** RFC 3986: keep A-Z a-z 0-9 - _ . ~, everything else as %XY in upper case (UTF-8 bytes). */
function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeForm(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function header(req: SignableRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The canonical request of NOTES.md for the given signed headers. Throws on undecodable input. */
export function canonicalRequest(req: SignableRequest, signedHeaders: readonly string[]): string {
  const segments = req.rawPath.split('/').map((seg) => rfc3986(decodeURIComponent(seg)));
  let uri = segments.join('/');
  if (!uri.endsWith('/')) uri += '/';
  const params = req.rawQuery === '' ? [] : req.rawQuery.split('&').filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    return [decodeForm(eq === -1 ? p : p.slice(0, eq)), decodeForm(eq === -1 ? '' : p.slice(eq + 1))] as const;
  });
  // Sorted on the decoded keys and values, encoded afterwards: the order the SDKs sign in.
  params.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const query = params.map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
  const headers = signedHeaders.map((h) => `${h}:${(header(req, h) ?? '').trim()}\n`).join('');
  const bodyHash = createHash('sha256').update(req.body ?? '').digest('hex');
  return [req.method.toUpperCase(), uri, query, headers, signedHeaders.join(';'), bodyHash].join('\n');
}

/** `hex(HMAC-SHA256(SK, "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(sha256(canonical request))))`. */
export function expectedSignature(req: SignableRequest, signedHeaders: readonly string[], sk: string): string {
  const date = header(req, 'x-sdk-date') ?? '';
  const hashed = createHash('sha256').update(canonicalRequest(req, signedHeaders)).digest('hex');
  return createHmac('sha256', sk).update(`${ALGORITHM}\n${date}\n${hashed}`).digest('hex');
}

function parseSdkDate(value: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Checks a request's credentials. Holds the per-AK failure counters (lock-out) as state. */
export class Authenticator {
  private readonly tokens: ReadonlySet<string>;
  private readonly keys: ReadonlyMap<string, KeyPair>;
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();
  private readonly maxSkewMs: number;
  private readonly lockAfter: number;
  private readonly lockMs: number;

  constructor(options: AuthOptions = {}, private readonly now: () => number = Date.now) {
    this.tokens = new Set(options.tokens ?? []);
    this.keys = new Map((options.keys ?? []).map((k) => [k.ak, k]));
    this.maxSkewMs = options.maxSkewMs ?? 15 * 60_000;
    this.lockAfter = options.lockAfterFailures ?? 5;
    this.lockMs = options.lockMs ?? 5 * 60_000;
  }

  /** Open mode: neither tokens nor keys configured; every caller is anonymous. */
  get open(): boolean {
    return this.tokens.size === 0 && this.keys.size === 0;
  }

  check(req: SignableRequest): AuthOutcome {
    const token = header(req, 'x-auth-token');
    const authorization = header(req, 'authorization');
    if (token !== undefined && token !== '') {
      if (this.tokens.has(token)) return { ok: true, caller: `token:${createHash('sha256').update(token).digest('hex').slice(0, 16)}` };
      return { ok: false, message: 'Incorrect IAM authentication information: the token is invalid or expired.' };
    }
    if (authorization !== undefined && authorization.startsWith(ALGORITHM)) return this.checkSignature(req, authorization);
    if (this.open) return { ok: true, caller: 'anonymous' };
    return { ok: false, message: 'Incorrect IAM authentication information: no credentials in the request.' };
  }

  private checkSignature(req: SignableRequest, authorization: string): AuthOutcome {
    const m = AUTH_HEADER.exec(authorization);
    if (!m) return { ok: false, message: 'Incorrect IAM authentication information: malformed Authorization header.' };
    const [, ak = '', signedList = '', signature = ''] = m;
    const state = this.failures.get(ak) ?? { count: 0, lockedUntil: 0 };
    if (state.lockedUntil > this.now()) {
      return { ok: false, message: 'Incorrect IAM authentication information: the AK is locked after repeated failures.' };
    }
    const outcome = this.verify(req, ak, signedList.toLowerCase().split(';'), signature.toLowerCase());
    if (outcome.ok) {
      this.failures.delete(ak);
    } else {
      state.count += 1;
      if (state.count >= this.lockAfter) {
        state.lockedUntil = this.now() + this.lockMs;
        state.count = 0;
      }
      this.failures.set(ak, state);
    }
    return outcome;
  }

  private verify(req: SignableRequest, ak: string, signedHeaders: string[], signature: string): AuthOutcome {
    const key = this.keys.get(ak);
    if (key === undefined) return { ok: false, message: 'Incorrect IAM authentication information: unknown AK.' };
    if (key.securityToken !== undefined && (header(req, 'x-security-token') !== key.securityToken || !signedHeaders.includes('x-security-token'))) {
      return { ok: false, message: 'Incorrect IAM authentication information: the security token is missing, unsigned or wrong.' };
    }
    if (!signedHeaders.includes('x-sdk-date')) return { ok: false, message: 'Incorrect IAM authentication information: x-sdk-date is not signed.' };
    const date = parseSdkDate(header(req, 'x-sdk-date') ?? '');
    if (date === null) return { ok: false, message: 'Incorrect IAM authentication information: X-Sdk-Date is missing or malformed.' };
    if (Math.abs(this.now() - date) > this.maxSkewMs) return { ok: false, message: 'Incorrect IAM authentication information: X-Sdk-Date is too far from the current time.' };
    let expected: string;
    try {
      expected = expectedSignature(req, signedHeaders, key.sk);
    } catch {
      return { ok: false, message: 'Incorrect IAM authentication information: the request cannot be canonicalised.' };
    }
    const a = Buffer.from(expected, 'utf8');
    const b = Buffer.from(signature, 'utf8');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, message: 'Incorrect IAM authentication information: verify aksk signature fail.' };
    return { ok: true, caller: `ak:${ak}` };
  }
}
