import { describe, expect, it } from 'vitest';
import { parseProxyUrl, ProxyBypass, proxyFor, proxySettings } from './proxy-config.js';

describe('proxy URL', () => {
  it('takes host, port and Basic credentials (percent-decoded); shows no password', () => {
    const p = parseProxyUrl('http://al%40ice:p%3Ass@proxy.corp:3128', '--proxy');
    expect(p).toMatchObject({ host: 'proxy.corp', port: 3128, display: 'http://al%40ice:***@proxy.corp:3128' });
    expect(Buffer.from(p.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('al@ice:p:ss');
    expect(parseProxyUrl('proxy.corp:8080', 'HTTPS_PROXY')).toMatchObject({ host: 'proxy.corp', port: 8080, display: 'http://proxy.corp:8080' });
    expect(parseProxyUrl('http://[fd00::1]:3128', 'x')).toMatchObject({ host: 'fd00::1', port: 3128 });
    expect(parseProxyUrl('http://proxy', 'x').port).toBe(80);
    expect(parseProxyUrl('http://proxy', 'x').authorization).toBeUndefined();
  });

  it('refuses what is not an http:// proxy, naming where it came from', () => {
    expect(() => parseProxyUrl('https://proxy:443', 'HTTPS_PROXY')).toThrow(/HTTPS_PROXY: only http:\/\/ proxies/);
    expect(() => parseProxyUrl('socks5://proxy:1080', '--proxy')).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID' }));
    expect(() => parseProxyUrl('http://', '--proxy')).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID' }));
  });
});

describe('NO_PROXY', () => {
  const b = new ProxyBypass('example.com, .corp.net 10.0.0.0/8,198.18.0.5 fd00::/8 [::1]:4443 only.port:8443');
  it.each([
    ['example.com', 443, true],
    ['vpn.example.com', 443, true],
    ['notexample.com', 443, false],
    ['a.corp.net', 1, true],
    ['corp.net', 1, true],
    ['10.1.2.3', 4443, true],
    ['11.0.0.1', 4443, false],
    ['198.18.0.5', 8443, true],
    ['198.18.0.6', 8443, false],
    ['fd00:e1::7', 4443, true],
    ['::1', 4443, true],
    ['::1', 8443, false],
    ['only.port', 8443, true],
    ['only.port', 4443, false],
    ['EXAMPLE.COM', 1, true],
  ] as const)('%s:%i bypasses: %s', (host, port, want) => {
    expect(b.matches(host, port)).toBe(want);
  });

  it('* bypasses everything; empty bypasses nothing', () => {
    expect(new ProxyBypass('*').matches('anything', 1)).toBe(true);
    expect(new ProxyBypass('').matches('anything', 1)).toBe(false);
  });
});

describe('proxy settings', () => {
  it('--proxy first, then HTTPS_PROXY, then https_proxy; NO_PROXY applies to all', () => {
    const env = { HTTPS_PROXY: 'http://env:1', https_proxy: 'http://lower:2', NO_PROXY: 'direct.example' };
    expect(proxySettings('http://flag:3', env)).toMatchObject({ source: '--proxy', proxy: { host: 'flag' } });
    expect(proxySettings(undefined, env)).toMatchObject({ source: 'HTTPS_PROXY', proxy: { host: 'env' } });
    expect(proxySettings(undefined, { https_proxy: 'http://lower:2' })).toMatchObject({ source: 'https_proxy', proxy: { host: 'lower' } });
    expect(proxySettings(undefined, {}).proxy).toBeUndefined();
    const s = proxySettings('http://flag:3', env);
    expect(proxyFor(s, 'direct.example', 443)).toBeUndefined();
    expect(proxyFor(s, 'other.example', 443)).toMatchObject({ host: 'flag', port: 3 });
    expect(proxyFor(undefined, 'other.example', 443)).toBeUndefined();
  });
});
