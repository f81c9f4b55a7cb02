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

describe('the log mixin with tracing on', () => {
  it('gives each line only its own fields: a line outside any span carries nothing of an earlier one', () => {
    // Run in a fresh process against the build: tracing on registers OpenTelemetry's globals.
    const script = [
      "const { createTracing } = require('./observability/tracing');",
      "const { createLogger } = require('./logger');",
      "const t = createTracing({ url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json', serviceName: 's' });",
      'const lines = [];',
      "const log = createLogger('info', { write: (l) => lines.push(JSON.parse(l)) }, t.logMixin);",
      "log.info({ requestId: 'first', err: 'boom' }, 'one');",
      "log.info('two');",
      'console.log(JSON.stringify(lines[1]));',
      'process.exit(0);',
    ].join(' ');
    const second = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: DIST, encoding: 'utf8' }).trim().split('\n').pop()!);
    expect(second).not.toHaveProperty('requestId');
    expect(second).not.toHaveProperty('err');
    expect(second.msg).toBe('two');
  });
});
