import { describe, expect, it } from 'vitest';
import { parseForwardSpec, parseListenAddress } from './forward-spec.js';

describe('-L/-R specs', () => {
  it('port:host:hostport and bind:port:host:hostport, IPv6 in brackets, * for all', () => {
    expect(parseForwardSpec('-L', '8080:198.19.0.5:80')).toEqual({ port: 8080, host: '198.19.0.5', hostPort: 80 });
    expect(parseForwardSpec('-L', '127.0.0.2:0:web.lab:8443')).toEqual({ bind: '127.0.0.2', port: 0, host: 'web.lab', hostPort: 8443 });
    expect(parseForwardSpec('-R', '[::1]:2222:[fd00:e1::5]:22')).toEqual({ bind: '::1', port: 2222, host: 'fd00:e1::5', hostPort: 22 });
    expect(parseForwardSpec('-R', '*:80:127.0.0.1:8080')).toEqual({ bind: '0.0.0.0', port: 80, host: '127.0.0.1', hostPort: 8080 });
    expect(parseForwardSpec('-L', ':80:h:1')).toEqual({ port: 80, host: 'h', hostPort: 1 });
  });

  it.each(['80:h', '1:2:3:4:5', '70000:h:1', '80:h:0', '80:h:x', '80:[zz]:1', '[::1:80:h:1', 'a b:1:h:1', '80:h h:1', '80::1:22', '-1:h:1', '80:h:65536'])('refuses %s with EL_ERR_INVALID and the syntax', (s) => {
    expect(() => parseForwardSpec('-L', s)).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID', message: expect.stringContaining('[bind:]port:host:hostport') }));
  });

  it('[host:]port for --http and --socks, 127.0.0.1 by default', () => {
    expect(parseListenAddress('--http', '3128')).toEqual({ host: '127.0.0.1', port: 3128 });
    expect(parseListenAddress('--socks', '[::1]:1080')).toEqual({ host: '::1', port: 1080 });
    expect(() => parseListenAddress('--http', 'x:y')).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID' }));
  });
});
