import { describe, expect, it } from 'vitest';
import { connectHosts, urlHost } from './connect-host.js';

const names = ['localhost', '127.0.0.1', '::1', 'vm', '10.0.0.5', '198.18.210.1', 'fd00::5'];

describe('connectHosts', () => {
  it('prints the listen address when it is a specific one: nothing listens on the others', () => {
    expect(connectHosts('198.18.210.1', undefined, names)).toEqual(['198.18.210.1']);
    expect(connectHosts('127.0.0.5', undefined, names)).toEqual(['127.0.0.5']);
    expect(connectHosts('fd00::5', undefined, names)).toEqual(['fd00::5']);
  });
  it('prints the advertised names first, whatever the listen address', () => {
    expect(connectHosts('0.0.0.0', 'vpn.example.net', names)).toEqual(['vpn.example.net']);
    expect(connectHosts('198.18.210.1', 'a.example, b.example', names)).toEqual(['a.example', 'b.example']);
  });
  it('prints this host’s IPv4 addresses for a wildcard listener, 127.0.0.1 when it has none', () => {
    expect(connectHosts('0.0.0.0', undefined, names)).toEqual(['10.0.0.5', '198.18.210.1']);
    expect(connectHosts('::', undefined, names)).toEqual(['10.0.0.5', '198.18.210.1']);
    expect(connectHosts('0.0.0.0', undefined, ['localhost', '127.0.0.1'])).toEqual(['127.0.0.1']);
  });
  it('brackets IPv6 addresses for URLs', () => {
    expect(urlHost('fd00::5')).toBe('[fd00::5]');
    expect(urlHost('198.18.210.1')).toBe('198.18.210.1');
    expect(urlHost('vpn.example.net')).toBe('vpn.example.net');
  });
});
