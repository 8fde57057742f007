/** `elink proxy`'s command line: what it accepts, what it refuses, and that --help shows every flag. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROXY_DEFAULTS } from '@elink/proxy';
import { proxyHelp, proxyPlan } from './proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'elink-proxy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const session = ['--broker', 'https://127.0.0.1:8443', '--user', 'u', '--password-file', join(dir, 'pw')];

describe('elink proxy: command line', () => {
  it('listeners, forwards and limits as given; defaults from PROXY_DEFAULTS', () => {
    const plan = proxyPlan([...session, '--http', '3128', '--socks', '[::1]:1080', '-L', '8080:198.19.0.5:80', '-L', '127.0.0.2:0:[fd00:e1::5]:22', '-R', '2222:127.0.0.1:22', '--max-connections', '10', '--dns', '198.19.0.1, fd00:e1::1']);
    if (plan.help) throw new Error('unexpected help');
    expect(plan.http).toEqual({ host: '127.0.0.1', port: 3128 });
    expect(plan.socks).toEqual({ host: '::1', port: 1080 });
    expect(plan.local).toEqual([
      { port: 8080, host: '198.19.0.5', hostPort: 80 },
      { bind: '127.0.0.2', port: 0, host: 'fd00:e1::5', hostPort: 22 },
    ]);
    expect(plan.remote).toEqual([{ port: 2222, host: '127.0.0.1', hostPort: 22 }]);
    expect(plan.limits).toEqual({ ...PROXY_DEFAULTS, maxConnections: 10 });
    expect(plan.dns).toEqual(['198.19.0.1', 'fd00:e1::1']);
  });

  it.each([
    [[...session], /nothing to do/],
    [['--http', '3128'], /--broker, --user and --password-file are required/],
    [[...session, '-L', '8080:x'], /-L 8080:x: .*\[bind:\]port:host:hostport/],
    [[...session, '--socks', 'x:y:z'], /--socks x:y:z/],
    [[...session, '--http', '1', '--max-connections', '0'], /--max-connections must be an integer/],
    [[...session, '--http', '1', '--idle-timeout', 'soon'], /--idle-timeout must be seconds/],
    [[...session, '--http', '1', '--dns', 'dns.lab'], /--dns takes IP addresses/],
    [[...session, '--http', '1', '--transport', 'udp'], /--transport must be one of/],
    [[...session, '--http', '1', '--nope'], /Unknown option '--nope'/],
    [[...session, '--http', '1', '--auth-file', join(dir, 'missing')], /cannot read/],
    [[...session, '--http', '1', '--metrics', 'localhost'], /--metrics \(or ELINK_METRICS\) must be \[HOST:\]PORT/],
  ])('refuses %j with EL_ERR_INVALID', (argv, message) => {
    expect(() => proxyPlan(argv as string[])).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID', message: expect.stringMatching(message) }));
  });

  it('--metrics [HOST:]PORT, else ELINK_METRICS (empty: off); none: no metrics', () => {
    const plan = (argv: string[], env?: string) => {
      const saved = process.env.ELINK_METRICS;
      if (env === undefined) delete process.env.ELINK_METRICS;
      else process.env.ELINK_METRICS = env;
      try {
        const p = proxyPlan([...session, '--http', '1', ...argv]);
        if (p.help) throw new Error('unexpected help');
        return p.metrics;
      } finally {
        if (saved === undefined) delete process.env.ELINK_METRICS;
        else process.env.ELINK_METRICS = saved;
      }
    };
    expect(plan(['--metrics', '[::1]:9101'])).toEqual({ host: '::1', port: 9101 });
    expect(plan([], '9102')).toEqual({ host: '127.0.0.1', port: 9102 });
    expect(plan(['--metrics', '9103'], '9102')).toEqual({ host: '127.0.0.1', port: 9103 });
    expect(plan([], '')).toBeUndefined();
    expect(plan([])).toBeUndefined();
    expect(() => plan([], 'x:y')).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID' }));
  });

  it('--auth-file: user:password from its first line', () => {
    writeFileSync(join(dir, 'auth'), 'alice:pa:ss\nignored\n');
    const plan = proxyPlan([...session, '--socks', '1080', '--auth-file', join(dir, 'auth')]);
    expect(!plan.help && plan.auth).toEqual({ user: 'alice', password: 'pa:ss' });
    writeFileSync(join(dir, 'bad'), 'nocolon\n');
    expect(() => proxyPlan([...session, '--socks', '1080', '--auth-file', join(dir, 'bad')])).toThrow(expect.objectContaining({ code: 'EL_ERR_INVALID' }));
  });

  it('--help names every flag the command accepts, with the defaults', () => {
    expect(proxyPlan(['--help'])).toEqual({ help: true });
    for (const flag of ['--http', '--socks', '-L', '-R', '--auth-file', '--dns', '--max-connections', '--idle-timeout', '--connect-timeout', '--max-header-size', '--broker', '--user', '--password-file', '--segment', '--device', '--ca', '--state', '--no-device-key', '--ciphers', '--transport', '--proxy', '--metrics', '--log-level']) {
      expect(proxyHelp).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
      // And the parser takes it (a flag in the help that the parser refused would fail here).
      const needsValue = !['--no-device-key'].includes(flag);
      const value = { '--http': '1', '--socks': '2', '-L': '3:h:4', '-R': '5:h:6', '--auth-file': join(dir, 'auth'), '--dns': '198.19.0.1', '--transport': 'tls', '--max-connections': '5', '--idle-timeout': '5', '--connect-timeout': '5', '--max-header-size': '4096', '--broker': 'https://x', '--user': 'u', '--password-file': 'pw', '--metrics': '9101' }[flag] ?? 'x';
      expect(() => proxyPlan([...session, '--http', '9', flag, ...(needsValue ? [value] : [])])).not.toThrow();
    }
    expect(proxyHelp).toContain(`(default ${PROXY_DEFAULTS.maxConnections})`);
  });
});
