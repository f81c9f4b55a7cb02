/** The process's one pino logger. Secrets are redacted by path wherever they could appear. */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers["x-auth-token"]', 'req.headers.authorization', 'req.headers["x-subgraph-secret"]', 'req.headers.cookie',
  'headers["x-auth-token"]', 'headers.authorization', 'headers["X-Auth-Token"]', 'headers.Authorization',
  'token', 'sk', 'ak', 'securityToken', 'config.credentials', 'config.subgraphSecret',
  // A proxy's Proxy-Authorization (upstream/proxy.ts), wherever a proxy object is logged whole.
  'authorization', 'proxy.authorization', 'config.upstream.proxy.http.authorization', 'config.upstream.proxy.https.authorization',
];

/** `mixin`: fields every line gets (tracing's `trace_id` and `span_id`, observability/tracing.ts); none when absent. */
export function createLogger(level: string, destination?: pino.DestinationStream, mixin?: () => Record<string, string>): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined, ...(mixin ? { mixin } : {}) }, destination);
}
