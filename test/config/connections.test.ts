/** The HTTP server's connection limits as config.ts reads them: defaults, and one clear line when they disagree. */
import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig(): connection limits', () => {
  it('defaults to 10 s for headers, 30 s for a whole request, 1024 connections', () => {
    expect(loadConfig({}).connections).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1024 });
  });

  it('refuses a headers timeout longer than the request timeout, naming both variables', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' })).toThrow(ConfigError);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HEADERS_TIMEOUT_MS .* REQUEST_TIMEOUT_MS/);
  });

  it.each([['MAX_CONNECTIONS', '0'], ['HEADERS_TIMEOUT_MS', 'soon'], ['REQUEST_TIMEOUT_MS', '-1']])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});
