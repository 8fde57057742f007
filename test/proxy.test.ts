/**
 * `elink proxy` end to end: `elink up`, a kernel client host (`elink connect`, TAP) in a
 * network namespace serving HTTP with Python's http.server, and `elink proxy` as user
 * 65534 (setpriv: no TAP/TUN, no capability) in the root namespace on the same segment.
 * curl, as the proxy's client on 127.0.0.1, fetches from the kernel host through the HTTP
 * proxy (plain and CONNECT), SOCKS5 and an -L forward, byte-exact over IPv4 and IPv6, and
 * by name through a DNS server on the kernel host, which the segment pushes in welcome
 * (segments[].dns: no --dns given); the kernel host reaches a server
 * on this host through an -R forward on the segment. Its --metrics endpoint shows the
 * session (el_client_*) and counts the traffic through it; a bad --metrics value is status
 * 2, a port in use EL_ERR_LISTEN before any login.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useConnectedHosts } from './lib/connected-hosts.js';
import { requireNetnsOrSkip, sh } from './lib/netns.js';
import { elink, freePort, type Proc } from './lib/processes.js';
import { sumMetric } from './lib/metrics.js';
import { pattern, readableCopies } from './lib/stack-peer.js';

const enabled = requireNetnsOrSkip();
const MB4 = 4 * 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SHA4 = sha(pattern(MB4));
/** kp's fixed address (broker.static), pushed as the segment's DNS server. */
const DNS_V4 = '198.19.92.53';

/** A DNS server for the kernel host: kp.lab IN A argv[1]; NXDOMAIN for every other question. */
const DNS_SERVER = `import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 53))
while True:
    q, peer = s.recvfrom(512)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    found = ".".join(labels) == "kp.lab" and qtype == 1
    head = q[:2] + struct.pack(">HHHHH", 0x8180 if found else 0x8183, 1, 1 if found else 0, 0, 0)
    answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(sys.argv[1]) if found else b""
    s.sendto(head + q[12:i + 5] + answer, peer)
`;

describe.skipIf(!enabled)('elink proxy: unprivileged, through the user-mode stack, to a kernel host', () => {
  const env = useConnectedHosts({
    // kp has a fixed address: the segment pushes it as its DNS server (the DNS server runs there).
    segments: [{ name: 'px', mode: 'l2', ipv4: { pool: '198.19.92.0/24' }, ipv6: { pool: 'fd00:e1:92::/64' }, dns: { servers: [DNS_V4], search: ['lab'] } }],
    brokerConfig: { static: [{ segment: 'px', user: 'kp', device: 'kp', ipv4: DNS_V4 }] },
    users: [
      { name: 'kp', segment: 'px' },
      { name: 'lp', segment: 'px' },
    ],
    hosts: [{ name: 'kp', user: 'kp' }],
  });
  let files: ReturnType<typeof readableCopies> | undefined;
  let www = '';
  let state = '';
  let python: ChildProcess | undefined;
  let dns: ChildProcess | undefined;
  let local: Server | undefined;
  let proxy: Proc;
  let ports: { http: number; socks: number; L: number; R: number; metrics: number };
  let onSegment: { ipv4: string; ipv6: string };
  let onSegmentDns: { servers: unknown; search: unknown; from: unknown };

  /** curl as the proxy's client, in this (the root) namespace; stdout's sha256 or the -w output. */
  const curl = (args: string[]) => sh('sh', ['-c', `curl -sS -g -m 20 ${args.join(' ')}`], { timeoutMs: 25_000, allowFail: true });
  const curlSha = (args: string[]) => curl([...args, '| sha256sum']).split(' ')[0];

  beforeAll(async () => {
    www = mkdtempSync(join(tmpdir(), 'elink-proxy-www-'));
    chmodSync(www, 0o755);
    writeFileSync(join(www, 'blob'), pattern(MB4));
    const kp = env.host('kp');
    python = spawn('ip', ['netns', 'exec', kp.ns, 'python3', '-m', 'http.server', '8000', '--bind', '::', '--directory', www], { stdio: 'ignore' });
    dns = spawn('ip', ['netns', 'exec', kp.ns, 'python3', '-c', DNS_SERVER, kp.v4], { stdio: 'ignore' });
    local = createServer((_req, res) => res.end('hello from the proxy host\n'));
    await new Promise<void>((r) => local!.listen(0, '127.0.0.1', r));
    const localPort = (local.address() as { port: number }).port;
    files = readableCopies(env.server.state);
    state = mkdtempSync(join(tmpdir(), 'elink-proxy-state-'));
    chownSync(state, 65534, 65534);
    ports = { http: await freePort(), socks: await freePort(), L: await freePort(), R: 8081, metrics: await freePort() };
    proxy = elink(
      [
        'proxy',
        '--broker', env.server.brokerUrl, '--ca', files.ca, '--user', 'lp', '--password-file', files.pw, '--device', 'lp', '--state', state,
        '--http', `127.0.0.1:${ports.http}`,
        '--socks', `127.0.0.1:${ports.socks}`,
        '-L', `127.0.0.1:${ports.L}:${kp.v4}:8000`,
        '-R', `${ports.R}:127.0.0.1:${localPort}`,
        '--connect-timeout', '5',
        '--metrics', `127.0.0.1:${ports.metrics}`,
      ],
      { wrap: ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'], env: { HOME: '/tmp' } },
    );
    const seg = await proxy.waitFor((l) => l.msg === 'on the segment', 30_000, 'elink proxy on the segment');
    onSegment = { ipv4: String(seg.ipv4), ipv6: String(seg.ipv6) };
    onSegmentDns = { servers: seg.dns, search: seg.search, from: seg.dnsFrom };
    for (const kind of ['http', 'socks', '-L', '-R']) await proxy.waitFor((l) => l.msg === 'listening' && l.kind === kind, 10_000, `${kind} listening`);
    for (let i = 0; i < 50; i++) {
      if (sh('sh', ['-c', 'ss -ltn | grep -q ":8000 " && ss -lun | grep -q ":53 " && echo yes || true'], { ns: kp.ns }).includes('yes')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    await proxy?.stop();
    python?.kill('SIGKILL');
    dns?.kill('SIGKILL');
    local?.close();
    files?.cleanup();
    for (const d of [www, state]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('runs as user 65534 with addresses from the switch, and kept its device key', () => {
    const status = readFileSync(`/proc/${proxy.child.pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s/m);
    expect(onSegment.ipv4).toMatch(/^198\.19\.92\./);
    expect(onSegment.ipv6).toMatch(/^fd00:e1:92:/);
    expect(readFileSync(join(state, 'device-key.pem'), 'utf8')).toContain('PRIVATE KEY');
  });

  it('the DNS server the segment pushes reaches both clients: kp logged it in link up, the proxy resolves with it', () => {
    expect(env.host('kp').v4).toBe(DNS_V4);
    expect(env.host('kp').up).toMatchObject({ dns: [DNS_V4], search: ['lab'] });
    expect(onSegmentDns).toEqual({ servers: [DNS_V4], search: ['lab'], from: 'welcome' });
  });

  it('--metrics: the session (link up, its segment, one session), traffic through the proxy grows the frame and byte counters, and its listeners count the connection', async () => {
    const scrape = async () => (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const before = await scrape();
    expect(sumMetric(before, 'el_client_link_up')).toBe(1);
    expect(before).toMatch(/^el_client_session_info\{node="[^"]+",segment="px",mode="l2",transport="tls"\} 1$/m);
    expect(sumMetric(before, 'el_client_sessions_total')).toBe(1);
    // The stack's own drops are there; the kernel device's are not.
    expect(before).toMatch(/^el_client_frames_dropped_total\{direction="out",reason="link_down"\} \d+$/m);
    expect(before).not.toMatch(/reason="(no_device|device_drop)"/);
    expect((await fetch(`http://127.0.0.1:${ports.metrics}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${ports.http}`, `http://${env.host('kp').v4}:8000/`])).toBe('200');
    const after = await scrape();
    for (const direction of ['in', 'out']) {
      // At least the handshake, the request and the response.
      expect(sumMetric(after, 'el_client_frames_total', { direction }) - sumMetric(before, 'el_client_frames_total', { direction }), direction).toBeGreaterThanOrEqual(3);
      expect(sumMetric(after, 'el_client_bytes_total', { direction }) - sumMetric(before, 'el_client_bytes_total', { direction }), direction).toBeGreaterThan(3 * 54);
    }
    // The proxy's own listeners: the request above was one more accepted HTTP connection; none refused.
    expect(sumMetric(after, 'el_proxy_connections_total', { listener: 'http', result: 'accepted' }) - sumMetric(before, 'el_proxy_connections_total', { listener: 'http', result: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(sumMetric(after, 'el_proxy_connections_total', { result: 'refused' })).toBe(0);
    expect(after).toMatch(/^el_proxy_connections \d+$/m);
  });

  it('a bad --metrics value exits with status 2; a port in use with EL_ERR_LISTEN, before logging in', async () => {
    const run = (metrics: string) =>
      elink(['proxy', '--broker', env.server.brokerUrl, '--ca', files!.ca, '--user', 'lp', '--password-file', files!.pw, '--device', 'lp-metrics', '--no-device-key', '--http', '127.0.0.1:0', '--metrics', metrics]);
    // Bounded: one that went on to log in is stopped (status 0, not the one expected).
    const exitOf = async (p: Proc) => {
      const t = setTimeout(() => void p.stop(), 20_000);
      try {
        return await p.exited;
      } finally {
        clearTimeout(t);
      }
    };
    const bad = run('localhost');
    expect(await exitOf(bad)).toBe(2);
    expect(bad.text.join('\n')).toContain('elink: EL_ERR_INVALID: --metrics (or ELINK_METRICS) must be [HOST:]PORT');
    const taken = run(`127.0.0.1:${ports.metrics}`);
    expect(await exitOf(taken)).toBe(1);
    expect(taken.text.join('\n')).toContain(`elink: EL_ERR_LISTEN: cannot listen on 127.0.0.1:${ports.metrics} for --metrics (EADDRINUSE)`);
    expect(taken.logs.some((l) => l.msg === 'on the segment')).toBe(false);
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(sumMetric(text, 'el_client_sessions_total')).toBe(1);
  });

  it('HTTP proxy, plain requests: 4 MB from the kernel host over IPv4 and IPv6, byte-exact', () => {
    const kp = env.host('kp');
    expect(curlSha(['-x', `http://127.0.0.1:${ports.http}`, `http://${kp.v4}:8000/blob`])).toBe(SHA4);
    expect(curlSha(['-x', `http://127.0.0.1:${ports.http}`, `'http://[${kp.v6}]:8000/blob'`])).toBe(SHA4);
  });

  it('HTTP proxy, CONNECT (curl --proxytunnel) and SOCKS5: byte-exact', () => {
    const kp = env.host('kp');
    expect(curlSha(['-p', '-x', `http://127.0.0.1:${ports.http}`, `http://${kp.v4}:8000/blob`])).toBe(SHA4);
    expect(curlSha(['--socks5', `127.0.0.1:${ports.socks}`, `'http://[${kp.v6}]:8000/blob'`])).toBe(SHA4);
  });

  it('names resolve through the pushed DNS server (no --dns): SOCKS5 (curl --socks5-hostname, a bare name through the search domain) and the HTTP proxy; an unknown name is 502', () => {
    expect(curlSha(['--socks5-hostname', `127.0.0.1:${ports.socks}`, 'http://kp:8000/blob'])).toBe(SHA4);
    expect(curlSha(['-x', `http://127.0.0.1:${ports.http}`, 'http://kp.lab:8000/blob'])).toBe(SHA4);
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${ports.http}`, 'http://nope.lab:8000/'])).toBe('502');
  });

  it('-L: a local port forwarded through the segment to the kernel host', () => {
    expect(curlSha([`http://127.0.0.1:${ports.L}/blob`])).toBe(SHA4);
  });

  it('-R: the kernel host reaches a server on the proxy host through the segment (IPv4, IPv6)', async () => {
    // Not sh(): its spawnSync would block this process, whose HTTP server is the -R target.
    const get = (url: string) =>
      new Promise<string>((resolve) =>
        execFile('ip', ['netns', 'exec', env.host('kp').ns, 'curl', '-sS', '-g', '-m', '10', url], { timeout: 15_000 }, (_err, stdout, stderr) => resolve(stdout + stderr)),
      );
    expect(await get(`http://${onSegment.ipv4}:${ports.R}/`)).toBe('hello from the proxy host\n');
    expect(await get(`http://[${onSegment.ipv6}]:${ports.R}/`)).toBe('hello from the proxy host\n');
  });

  it('a refused port on the segment: 502 from the HTTP proxy, reply 5 from SOCKS5', () => {
    const kp = env.host('kp');
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${ports.http}`, `http://${kp.v4}:1/`])).toBe('502');
    const out = curl(['--socks5', `127.0.0.1:${ports.socks}`, `http://${kp.v4}:1/`, '2>&1']);
    // curl prints the reply code: "Can't complete SOCKS5 connection to ADDR. (5)".
    expect(out).toMatch(/SOCKS5 connection to [\d.]+\. \(5\)/);
  });

  it('SIGTERM (last): listeners closed, bye to the switch, exit status 0', async () => {
    expect(await proxy.stop('SIGTERM')).toBe(0);
    expect(proxy.logs.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM')).toBe(true);
    const closed = await env.server.proc.waitFor((l) => l.msg === 'session closed' && l.user === 'lp', 5000, "the switch's 'session closed' for lp");
    expect(String(closed.reason)).toMatch(/bye|elink proxy stopping/);
    expect(curl(['-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${ports.http}`, 'http://198.19.92.1/'])).toMatch(/^000/);
  });
});
