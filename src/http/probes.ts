/** The operators' routes: `/healthz` (alive), `/readyz` (can answer), `/metrics` (Prometheus). GET and HEAD only. */
import type { Metrics } from '../observability/metrics';
import type { Readiness } from '../observability/readiness';
import { jsonReply, type Reply } from './reply';
import type { Route, RouteHandler } from './router';

export interface ProbeDeps {
  readiness: Readiness;
  metrics: Metrics;
  /** Whether shutdown has begun: the gateway is then not ready. */
  closing(): boolean;
}

function probe(path: string, handle: RouteHandler): Route {
  return {
    matches: (x) => x.pathname === path,
    handle: (x) => (x.method === 'GET' || x.method === 'HEAD' ? handle(x) : jsonReply(405, { error: 'method not allowed' }, { allow: 'GET, HEAD' })),
  };
}

export function createProbeRoutes({ readiness, metrics, closing }: ProbeDeps): Route[] {
  const ready = async (): Promise<Reply> => {
    const report = await readiness.check();
    const shuttingDown = closing();
    const isReady = report.ready && !shuttingDown;
    return jsonReply(isReady ? 200 : 503, { status: isReady ? 'ready' : 'unready', ...report, shuttingDown });
  };
  metrics.judgeReadiness(async () => (await readiness.lastVerdict()).ready && !closing());
  const scrape = async (): Promise<Reply> => ({
    status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics(),
  });
  return [
    probe('/healthz', () => jsonReply(200, { status: 'ok' })),
    probe('/readyz', ready),
    probe('/metrics', scrape),
  ];
}
