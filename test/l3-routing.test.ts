/**
 * L3 mode end to end on real kernels: `elink up` in the root namespace; hosts in three
 * L3 segments (TUN devices) in their own namespaces. Policy: a and b reach each other,
 * c reaches nobody. The switch routes, decrements TTL, answers with ICMP, and drops
 * (and counts) policy violations and spoofed sources.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { useConnectedHosts } from './lib/connected-hosts.js';
import { requireNetnsOrSkip, sh } from './lib/netns.js';
import { pingEach } from './lib/ping.js';

const enabled = requireNetnsOrSkip();

/** Runs tcpdump in `ns` until `count` packets match or `seconds` pass; resolves with its output. */
function capture(ns: string, filter: string, seconds: number, count = 1) {
  const p = spawn('ip', ['netns', 'exec', ns, 'timeout', String(seconds), 'tcpdump', '-i', 'el0', '-n', '-l', '-c', String(count), filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const listening = new Promise<void>((r) => p.stderr.on('data', (d) => String(d).includes('listening on') && r()));
  const done = new Promise<{ code: number | null; out: string }>((r) => p.on('exit', (code) => r({ code, out })));
  return { listening, done };
}

describe.skipIf(!enabled)('L3 segments end to end (root, network namespaces, TUN)', () => {
  const env = useConnectedHosts({
    segments: [
      { name: 'sa', mode: 'l3', ipv4: { pool: '198.19.1.0/24' }, ipv6: { pool: 'fd00:e1:1::/64' }, reach: ['sb'] },
      { name: 'sb', mode: 'l3', ipv4: { pool: '198.19.2.0/24' }, ipv6: { pool: 'fd00:e1:2::/64' }, reach: ['sa'] },
      { name: 'sc', mode: 'l3', ipv4: { pool: '198.19.3.0/24' }, ipv6: { pool: 'fd00:e1:3::/64' } },
    ],
    users: [
      { name: 'alice', segment: 'sa' },
      { name: 'bob', segment: 'sb' },
      { name: 'carol', segment: 'sc' },
      { name: 'alex', segment: 'sa' },
    ],
    hosts: [
      { name: 'a', user: 'alice' },
      { name: 'b', user: 'bob' },
      { name: 'c', user: 'carol' },
      { name: 'a2', user: 'alex' },
    ],
  });
  const host = env.host;

  it('gives each host a TUN with its address and routes to the segments it may reach', () => {
    expect(host('a').v4).toMatch(/^198\.19\.1\./);
    expect(host('b').v6).toMatch(/^fd00:e1:2:/);
    const link = sh('ip', ['-d', 'link', 'show', 'el0'], { ns: host('a').ns });
    expect(link).toMatch(/tun/);
    const routes = sh('ip', ['route', 'show', 'dev', 'el0'], { ns: host('a').ns });
    expect(routes).toContain('198.19.2.0/24');
    expect(sh('ip', ['route', 'show', 'dev', 'el0'], { ns: host('c').ns })).not.toContain('198.19.1.0/24');
  });

  it('routes a ↔ b (allowed by policy) over IPv4 and IPv6, both ways', async () => {
    for (const [x, y] of [['a', 'b'], ['b', 'a']]) {
      expect(await pingEach(host(x).ns, host(y).v4, 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
      expect(await pingEach(host(x).ns, host(y).v6, 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    }
    // Inside one segment too.
    expect(await pingEach(host('a').ns, host('a2').v4, 2)).toEqual({ transmitted: 2, received: 2, unanswered: [] });
  });

  it('carries TCP between segments (HTTP over IPv4 and IPv6)', async () => {
    const web = spawn('ip', ['netns', 'exec', host('b').ns, 'python3', '-m', 'http.server', '8080', '--bind', '::'], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 10_000;
      let out = '';
      while (Date.now() < deadline) {
        out = sh('curl', ['-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}', `http://${host('b').v4}:8080/`], { ns: host('a').ns, allowFail: true });
        if (out.startsWith('200')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/^200/);
      expect(sh('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://[${host('b').v6}]:8080/`], { ns: host('a').ns })).toBe('200');
    } finally {
      web.kill();
    }
  });

  it('drops and counts c → a (not allowed by policy)', async () => {
    // c has no route to a's segment from the switch; add one, as a misbehaving client would.
    sh('ip', ['route', 'replace', '198.19.1.0/24', 'dev', 'el0'], { ns: host('c').ns });
    const before = await env.server.metric('el_switch_frames_dropped_total', { reason: 'policy_denied' });
    const watch = capture(host('a').ns, `icmp and src host ${host('c').v4}`, 4);
    await watch.listening;
    const out = sh('ping', ['-c', '3', '-i', '0.2', '-W', '1', host('a').v4], { ns: host('c').ns, allowFail: true });
    expect(out).toMatch(/100% packet loss/);
    const seen = await watch.done;
    expect(seen.code).toBe(124); // tcpdump saw nothing and was ended by timeout
    expect(await env.server.metric('el_switch_frames_dropped_total', { reason: 'policy_denied' })).toBeGreaterThanOrEqual(before + 3);
  });

  it('drops and counts a spoofed source address; nobody receives it', async () => {
    // An address of a's own segment that the broker did not give to a.
    const spoofed = '198.19.1.250';
    sh('ip', ['addr', 'add', `${spoofed}/32`, 'dev', 'el0'], { ns: host('a').ns });
    const before = await env.server.metric('el_switch_frames_dropped_total', { reason: 'src_address' });
    const watchers = ['b', 'a2'].map((n) => capture(host(n).ns, `src host ${spoofed}`, 4));
    await Promise.all(watchers.map((w) => w.listening));
    const out = sh('ping', ['-c', '3', '-i', '0.2', '-W', '1', '-I', spoofed, host('b').v4], { ns: host('a').ns, allowFail: true });
    sh('ping', ['-c', '2', '-i', '0.2', '-W', '1', '-I', spoofed, host('a2').v4], { ns: host('a').ns, allowFail: true });
    expect(out).toMatch(/100% packet loss/);
    for (const seen of await Promise.all(watchers.map((w) => w.done))) {
      expect(seen.code).toBe(124);
      expect(seen.out.trim()).toBe('');
    }
    expect(await env.server.metric('el_switch_frames_dropped_total', { reason: 'src_address' })).toBeGreaterThanOrEqual(before + 5);
    sh('ip', ['addr', 'del', `${spoofed}/32`, 'dev', 'el0'], { ns: host('a').ns });
  });

  it('shows the switch as a hop in traceroute (IPv4 and IPv6)', () => {
    const v4 = sh('traceroute', ['-n', '-q', '1', '-w', '2', '-m', '4', host('b').v4], { ns: host('a').ns, timeoutMs: 30_000 });
    const hops4 = v4.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    expect(hops4[0]).toMatch(/^\s*1\s+198\.19\.1\.1\s/); // a's gateway: the switch
    expect(hops4[1]).toContain(host('b').v4);
    const v6 = sh('traceroute', ['-6', '-n', '-q', '1', '-w', '2', '-m', '4', host('b').v6], { ns: host('a').ns, timeoutMs: 30_000 });
    const hops6 = v6.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    expect(hops6[0]).toMatch(/^\s*1\s+fd00:e1:1::1\s/);
    expect(hops6[1]).toContain(host('b').v6);
  });

  it('answers ping to the segment gateway (IPv4 and IPv6) from the switch; c reaches only its own gateway', async () => {
    expect(await pingEach(host('a').ns, '198.19.1.1', 3)).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    expect(await pingEach(host('a').ns, 'fd00:e1:1::1', 3, ['-6'])).toEqual({ transmitted: 3, received: 3, unanswered: [] });
    // c may reach no other segment, but its own gateway answers.
    expect(await pingEach(host('c').ns, '198.19.3.1', 2)).toEqual({ transmitted: 2, received: 2, unanswered: [] });
    expect(await pingEach(host('c').ns, 'fd00:e1:3::1', 2, ['-6'])).toEqual({ transmitted: 2, received: 2, unanswered: [] });
  });

  it('one session’s TTL=1 flood spends its own ICMP budget: another session’s pings to the gateway keep answering', async () => {
    const before = await env.server.metric('el_switch_icmp_errors_total', { result: 'session_limited' });
    // a floods TTL=1 UDP packets towards a2 for 6 s, as fast as it can (each asks for an ICMP time exceeded).
    const flood = `import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.setblocking(False)
end, n = time.monotonic() + 6, 0
while time.monotonic() < end:
    try:
        s.sendto(b'x', ('${host('a2').v4}', 33434)); n += 1
    except BlockingIOError:
        time.sleep(0.001)
print(n)`;
    const run = (ns: string, cmd: string, args: string[]) =>
      new Promise<string>((r) => {
        const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('exit', () => r(out));
      });
    const attack = run(host('a').ns, 'python3', ['-c', flood]);
    await new Promise((r) => setTimeout(r, 500));
    const pings = run(host('a2').ns, 'ping', ['-c', '40', '-i', '0.1', '-W', '1', '198.19.1.1']);
    const [sent, out] = await Promise.all([attack, pings]);
    expect(Number(sent)).toBeGreaterThan(10_000);
    // Before the per-session budget: 95 % loss. Now a2 keeps its own (at most 2 of 40 lost on a loaded machine).
    expect(Number(/(\d+(?:\.\d+)?)% packet loss/.exec(out)?.[1])).toBeLessThanOrEqual(5);
    expect(await env.server.metric('el_switch_icmp_errors_total', { result: 'session_limited' })).toBeGreaterThan(before + 5000);
  }, 30_000);
});
