/**
 * A stranger attacks the broker of a running `elink up` while two members of a segment
 * ping each other through its switch (issue 11). From one underlay address it sends, over
 * 16 keep-alive HTTPS connections (so the listener's per-source caps let them in and the
 * broker's own limits are what is tested): 300 wrong passwords for a real user, 2,000
 * wrong admin tokens, 300 challenge requests and 100 text/plain bodies. Must be: at most
 * the limit of passwords is hashed, the rest 429; the tunnel keeps passing pings; the real
 * user logs in from elsewhere at once.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { useConnectedHosts } from './lib/connected-hosts.js';
import { requireNetnsOrSkip, sh } from './lib/netns.js';
import { ADMIN_TOKEN, PASSWORD } from './lib/server.js';

const enabled = requireNetnsOrSkip();

function ping(ns: string, to: string, count: number): Promise<string> {
  const p = spawn('ip', ['netns', 'exec', ns, 'ping', '-c', String(count), '-i', '0.1', '-W', '1', to], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return new Promise((r) => p.on('exit', () => r(out)));
}
const lossOf = (out: string) => Number(/(\d+(?:\.\d+)?)% packet loss/.exec(out)?.[1] ?? NaN);

describe.skipIf(!enabled)('a stranger attacking the broker (root, network namespaces, TAP)', () => {
  const env = useConnectedHosts({
    segments: [{ name: 'office', mode: 'l2', ipv4: { pool: '198.19.60.0/24' }, ipv6: { pool: 'fd00:e1:60::/64' } }],
    users: [
      { name: 'alice', segment: 'office' },
      { name: 'bob', segment: 'office' },
    ],
    brokerConfig: { adminToken: ADMIN_TOKEN },
    hosts: [
      { name: 'alice', user: 'alice' },
      { name: 'bob', user: 'bob' },
    ],
  });

  it('hashes at most the limit, answers the rest 429, and the tunnel and the real user are unaffected', async () => {
    const { server } = env;
    const url = new URL(server.brokerUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 16, ca: readFileSync(join(server.state, 'ca.pem')) });
    const call = (method: string, path: string, headers: Record<string, string>, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, method, path, agent, headers, timeout: 30_000 }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.end(body);
      });
    const json = { 'content-type': 'application/json' };
    const checksBefore = await server.metric('el_broker_credential_checks_total');
    const pings = ping(env.host('alice').ns, env.host('bob').v4, 60);
    try {
      const [logins, admin, challenges, plain] = await Promise.all([
        Promise.all(Array.from({ length: 300 }, (_, i) => call('POST', '/v1/login', json, JSON.stringify({ user: 'alice', password: `guess-${i}`, segment: 'office', device: 'stranger' })))),
        Promise.all(Array.from({ length: 2000 }, (_, i) => call('GET', '/v1/admin/status', { authorization: `Bearer guess-${i}-0123456789abcdef` }))),
        Promise.all(Array.from({ length: 300 }, () => call('GET', '/v1/challenge', {}))),
        Promise.all(Array.from({ length: 100 }, () => call('POST', '/v1/login', { 'content-type': 'text/plain' }, '{"user":"alice","password":"x"}'))),
      ]);
      const count = (xs: number[]) => xs.reduce<Record<number, number>>((m, s) => ((m[s] = (m[s] ?? 0) + 1), m), {});
      expect(count(logins)).toEqual({ 401: 10, 429: 290 });
      expect(count(admin)).toEqual({ 401: 10, 429: 1990 });
      expect(count(challenges)).toEqual({ 200: 60, 429: 240 });
      expect(count(plain)).toEqual({ 415: 100 });
      expect((await server.metric('el_broker_credential_checks_total')) - checksBefore).toBe(10);
    } finally {
      agent.destroy();
    }
    // The tunnel kept passing traffic throughout.
    expect(lossOf(await pings)).toBeLessThanOrEqual(4);
    // The real user, from another address (her own host), logs in at once.
    const ca = join(server.state, 'ca.pem');
    const reply = sh('curl', ['-s', '-m', '10', '--cacert', ca, '-H', 'content-type: application/json', '-d', JSON.stringify({ user: 'alice', password: PASSWORD, segment: 'office', device: 'laptop' }), '-w', '\n%{http_code}', `${server.brokerUrl}/v1/login`], { ns: env.host('alice').ns });
    expect(reply.trim().split('\n').at(-1)).toBe('200');
  }, 120_000);
});
