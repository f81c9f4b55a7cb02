/** Tracing off costs nothing: the OpenTelemetry SDK is not even loaded (observability/tracing.ts). Runs the build (`npm run build`). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const DIST = path.join(__dirname, '..', '..', 'dist');

/**
 * The OpenTelemetry SDK modules (not the API, which prom-client loads anyway) a fresh Node
 * process has loaded after `script`, run against the build.
 */
function otelModulesAfter(script: string): number {
  const count = "Object.keys(require.cache).filter((m) => m.includes('@opentelemetry/') && !m.includes('@opentelemetry/api/')).length";
  const out = execFileSync(process.execPath, ['-e', `${script}; console.log(${count})`], { cwd: DIST, encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

describe('createTracing()', () => {
  it('loads no OpenTelemetry module when tracing is off, and the SDK when it is on', () => {
    expect(otelModulesAfter("const t = require('./observability/tracing').createTracing(null); if (t.enabled || t.logMixin) process.exit(3)")).toBe(0);
    expect(otelModulesAfter("require('./app'); require('./server')")).toBe(0);
    expect(otelModulesAfter("const t = require('./observability/tracing').createTracing({ url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json', serviceName: 's' }); if (!t.enabled) process.exit(3)")).toBeGreaterThan(0);
  });
});
