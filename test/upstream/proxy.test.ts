import { noProxyMatch, parseNoProxy, redactProxyUrl, selectProxy, type ProxySettings, type ProxyVariable } from '../../src/upstream/proxy';

const bypasses = (noProxy: string, url: string): string | undefined => noProxyMatch(parseNoProxy(noProxy), new URL(url))?.text;

describe('noProxyMatch()', () => {
  it.each([
    ['*', 'https://rds.ap-southeast-1.myhuaweicloud.com', '*'],
    ['myhuaweicloud.com', 'https://rds.ap-southeast-1.myhuaweicloud.com', 'myhuaweicloud.com'],
    ['.myhuaweicloud.com', 'https://rds.ap-southeast-1.myhuaweicloud.com', '.myhuaweicloud.com'],
    ['*.myhuaweicloud.com', 'https://rds.ap-southeast-1.myhuaweicloud.com', '*.myhuaweicloud.com'],
    ['MyHuaweiCloud.COM.', 'https://RDS.myhuaweicloud.com./', 'MyHuaweiCloud.COM.'],
    ['rds.example.com', 'https://rds.example.com', 'rds.example.com'],
    ['localhost example.com,\t10.0.0.1', 'http://10.0.0.1:8080', '10.0.0.1'],
    ['10.0.0.0/8', 'http://10.20.30.40', '10.0.0.0/8'],
    ['::1', 'http://[::1]:4010', '::1'],
    ['[::1]', 'http://[::1]:4010', '[::1]'],
    ['fd00::/8', 'https://[fd12::5]', 'fd00::/8'],
    ['example.com:443', 'https://rds.example.com', 'example.com:443'],
    ['[::1]:4010', 'http://[::1]:4010', '[::1]:4010'],
    ['127.0.0.1:80', 'http://127.0.0.1', '127.0.0.1:80'],
  ])('NO_PROXY=%j bypasses %s (entry %j)', (noProxy, url, entry) => {
    expect(bypasses(noProxy, url)).toBe(entry);
  });

  it.each([
    ['ample.com', 'https://example.com'], // a suffix, not at a dot
    ['example.com', 'https://example.com.evil.net'],
    ['www.example.com', 'https://example.com'],
    ['example.com:8443', 'https://example.com'], // another port
    ['[::1]:80', 'http://[::1]:4010'],
    ['10.0.0.0/8', 'http://11.0.0.1'],
    ['0.0.1', 'http://127.0.0.1'], // names never match addresses by suffix (curl)
    ['127.0.0.1', 'http://localhost'], // nor addresses names: no DNS here
    ['.', 'https://example.com'],
    ['', 'https://example.com'],
    [' , ,', 'https://example.com'],
  ])('NO_PROXY=%j leaves %s to the proxy', (noProxy, url) => {
    expect(bypasses(noProxy, url)).toBeUndefined();
  });

  it.each(['10.0.0.0/33', 'fd00::/129', '10.0.0.0/x', 'example.com/8', '10.0.0.0/8/8', 'host:70000'])('refuses the entry %j, naming it', (entry) => {
    expect(() => parseNoProxy(`localhost,${entry}`)).toThrow(JSON.stringify(entry));
  });
});

describe('selectProxy()', () => {
  const proxy = (variable: string): ProxyVariable => ({ variable, origin: 'http://proxy:3128', shown: 'http://proxy:3128' });
  const settings = (over: Partial<ProxySettings>): ProxySettings => ({ http: null, https: null, noProxy: null, ...over });

  it('takes the variable for the upstream\'s scheme, and no other', () => {
    const both = settings({ http: proxy('HTTP_PROXY'), https: proxy('https_proxy') });
    expect(selectProxy('https://rds.example.com', both)).toEqual({ kind: 'proxied', proxy: proxy('https_proxy') });
    expect(selectProxy('http://127.0.0.1:4010/prefix', both)).toEqual({ kind: 'proxied', proxy: proxy('HTTP_PROXY') });
    expect(selectProxy('https://rds.example.com', settings({ http: proxy('HTTP_PROXY') }))).toEqual({ kind: 'direct' });
    expect(selectProxy('http://127.0.0.1:4010', settings({ https: proxy('HTTPS_PROXY') }))).toEqual({ kind: 'direct' });
  });

  it('says which NO_PROXY entry bypasses the proxy', () => {
    const noProxy = { variable: 'no_proxy', entries: parseNoProxy('localhost,.example.com') };
    expect(selectProxy('https://rds.example.com', settings({ https: proxy('HTTPS_PROXY'), noProxy }))).toEqual({ kind: 'bypassed', variable: 'no_proxy', entry: '.example.com' });
    expect(selectProxy('https://rds.example.org', settings({ https: proxy('HTTPS_PROXY'), noProxy }))).toMatchObject({ kind: 'proxied' });
  });
});

describe('redactProxyUrl()', () => {
  it.each([
    ['http://user:pass@proxy:3128', 'http://***@proxy:3128'],
    ['http://user@proxy:3128', 'http://***@proxy:3128'],
    ['user:pass@proxy:3128', '***@proxy:3128'],
    ['http://us@r:p@ss/w:rd@proxy:3128', 'http://***@proxy:3128'], // unescaped @ and / in a password: up to the last @
    ['HTTPS://user:pass@proxy', 'HTTPS://***@proxy'],
    ['http://proxy:3128', 'http://proxy:3128'],
  ])('%s → %s', (raw, shown) => {
    expect(redactProxyUrl(raw)).toBe(shown);
  });
});
