import { ConfigError, loadConfig } from '../../src/config';

const proxyOf = (env: Record<string, string>) => loadConfig(env).upstream.proxy;

describe('loadConfig(): HTTPS_PROXY, HTTP_PROXY and NO_PROXY', () => {
  it('has none by default, and reads nothing from process.env', () => {
    expect(proxyOf({})).toEqual({ http: null, https: null, noProxy: null });
  });

  it('prefers the lower-case variable, as curl and undici do; a blank one counts as unset', () => {
    expect(proxyOf({ https_proxy: 'http://lower:3128', HTTPS_PROXY: 'http://upper:3128' }).https).toMatchObject({ variable: 'https_proxy', origin: 'http://lower:3128' });
    expect(proxyOf({ https_proxy: '  ', HTTPS_PROXY: 'http://upper:3128' }).https).toMatchObject({ variable: 'HTTPS_PROXY', origin: 'http://upper:3128' });
    expect(proxyOf({ http_proxy: 'http://lower:3128', HTTP_PROXY: 'http://upper:3128' }).http).toMatchObject({ variable: 'http_proxy' });
    expect(proxyOf({ no_proxy: 'a.example', NO_PROXY: 'b.example' }).noProxy).toMatchObject({ variable: 'no_proxy', entries: [{ text: 'a.example' }] });
  });

  it('takes a proxy URL as curl does: http:// without a scheme, port 1080 without one (443 for https://)', () => {
    expect(proxyOf({ HTTP_PROXY: 'proxy.corp:8080' }).http).toEqual({ variable: 'HTTP_PROXY', origin: 'http://proxy.corp:8080', shown: 'http://proxy.corp:8080' });
    expect(proxyOf({ HTTP_PROXY: 'http://proxy.corp' }).http?.origin).toBe('http://proxy.corp:1080');
    expect(proxyOf({ HTTP_PROXY: 'http://proxy.corp:80/' }).http?.origin).toBe('http://proxy.corp');
    expect(proxyOf({ HTTPS_PROXY: 'https://proxy.corp' }).https?.origin).toBe('https://proxy.corp');
    expect(proxyOf({ HTTPS_PROXY: 'http://[fd00::1]:3128' }).https?.origin).toBe('http://[fd00::1]:3128');
  });

  it('turns credentials into a Basic Proxy-Authorization, percent-decoded, and shows them as ***', () => {
    expect(proxyOf({ HTTPS_PROXY: 'http://us%40er:p%3Ass@proxy:3128' }).https).toEqual({
      variable: 'HTTPS_PROXY', origin: 'http://proxy:3128', shown: 'http://***@proxy:3128', authorization: `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`,
    });
    expect(proxyOf({ HTTP_PROXY: 'http://user@proxy:3128' }).http?.authorization).toBe(`Basic ${Buffer.from('user:').toString('base64')}`);
  });

  it.each([
    ['HTTPS_PROXY', 'socks5://alice:hunter2@proxy:1080', /has the scheme socks5/],
    ['https_proxy', 'http://alice:hunter2@proxy:3128/path', /has a path, query or fragment/],
    ['HTTP_PROXY', 'http://alice:hunter2@proxy:3128?x=1', /has a path, query or fragment/],
    ['http_proxy', 'http://alice:hunt#er2@proxy:3128', /does not parse/],
    ['HTTP_PROXY', 'http://alice:hunter2@proxy:99999', /does not parse/],
    ['HTTP_PROXY', 'http://alice:hunter2%zz@proxy:3128', /not valid percent-encoding/],
    ['HTTP_PROXY', 'http://bad host:3128', /does not parse/],
  ])('stops on %s=%j with one line naming it, without the password', (name, value, why) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    let message = '';
    try { loadConfig({ [name]: value }); } catch (error) { message = (error as Error).message; }
    expect(message.startsWith(`${name} must be a proxy URL`)).toBe(true);
    expect(message).toMatch(why);
    expect(message).not.toMatch(/hunt|alice/);
    expect(message).not.toContain('\n');
  });

  it('stops on a NO_PROXY range that does not parse, naming the variable and the entry', () => {
    expect(() => loadConfig({ NO_PROXY: 'localhost,10.0.0.0/40' })).toThrow(/^NO_PROXY must be a list of host names, .*"10\.0\.0\.0\/40"/);
  });
});
